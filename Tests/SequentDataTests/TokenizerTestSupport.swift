import SequentTensor

/// Texts every tokenizer test runs on: ASCII, accents precomposed and combining, emoji
/// (with skin tone and ZWJ sequences), CJK, right-to-left, controls, and random scalars.
enum TokenizerTexts {
    static let samples: [String] = [
        "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n",
        "café cafe\u{301} naïve — “quotes” ‘single’ don't o'er 1,234.5 x=y+z; (a) [b] {c}",
        "👍🏽 family: 👨‍👩‍👧‍👦 flags: 🇫🇷🇯🇵 keycap: 1️⃣ 🙂",
        "日本語のテキスト、中文文本。한국어 텍스트",
        "עברית ومرحبا بالعالم",
        "tabs\tand\r\nwindows lines\u{0B}\u{0C} and  double  spaces   ",
        "Z\u{335}\u{321}a\u{336}l\u{334}g\u{337}o\u{338}",
        " leading space, trailing space ",
        "\n\n\n",
    ]

    /// A random string of `count` scalars from all planes (no surrogates), seeded.
    static func random(count: Int, seed: UInt64) -> String {
        var generator = RandomGenerator(seed: seed)
        var result = String.UnicodeScalarView()
        while result.count < count {
            let pick = generator.next() % 10
            let value: UInt32
            switch pick {
            case 0...4: value = UInt32(32 + generator.next() % 95)
            case 5: value = UInt32(generator.next() % 0x80)
            case 6: value = UInt32(0x80 + generator.next() % 0x780)
            case 7: value = UInt32(0x800 + generator.next() % 0xF800)
            default: value = UInt32(0x10000 + generator.next() % 0x100000)
            }
            if let scalar = Unicode.Scalar(value) { result.append(scalar) }
        }
        return String(result)
    }

    /// About `bytes` bytes of English-like text (words from a fixed list, punctuation, lines).
    static func prose(bytes: Int, seed: UInt64) -> String {
        let words = ["the", "king", "and", "queen", "of", "Rome", "shall", "speak", "to", "thee", "my", "lord",
                     "what", "is", "love", "O", "Romeo", "wherefore", "art", "thou", "night", "day", "good", "sweet"]
        var generator = RandomGenerator(seed: seed)
        var text = ""
        text.reserveCapacity(bytes + 16)
        while text.utf8.count < bytes {
            text += words[Int(generator.next() % UInt64(words.count))]
            switch generator.next() % 12 {
            case 0: text += ".\n"
            case 1: text += ", "
            case 2: text += ":\n"
            default: text += " "
            }
        }
        return text
    }
}
