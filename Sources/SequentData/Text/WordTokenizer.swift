import Foundation
import SequentTensor

/// Words, numbers and punctuation marks, with `<unk>` for what the vocabulary lacks.
///
/// The text is split at whitespace and around punctuation: a word is a run of letters,
/// digits and combining marks, with apostrophes inside it (`don't`, `o'er`); every other
/// visible character is a token of its own; a line break is the token `"\n"`; other
/// whitespace only separates. Case is kept. The vocabulary is `<unk>` (id 0) followed by
/// the words seen at least `minimumCount` times, most frequent first (ties in code-point
/// order), cut to `maximumVocabularySize` if given.
///
/// `decode` puts one space between tokens, none before closing punctuation or after
/// opening brackets and none around line breaks: the words and lines come back, the exact
/// spacing does not.
public struct WordTokenizer: Tokenizer, Equatable {
    /// The token standing for words outside the vocabulary.
    public static let unknownToken = "<unk>"

    /// The tokens, in id order; `words[0]` is `<unk>`.
    public let words: [String]
    private let ids: [String: Int]

    public var kind: TokenizerKind { .word }
    public var vocabularySize: Int { words.count }
    public var unknownID: Int? { 0 }

    /// A tokenizer over `words` (`<unk>` is put first if missing).
    public init(words: [String]) throws {
        var list = [Self.unknownToken]
        var ids = [Self.unknownToken: 0]
        for word in words where ids[word] == nil {
            ids[word] = list.count
            list.append(word)
        }
        self.words = list
        self.ids = ids
    }

    /// Learns the vocabulary of `text`.
    ///
    /// - Parameters:
    ///   - maximumVocabularySize: at most this many tokens, `<unk>` included (>= 2); nil for all.
    ///   - minimumCount: words seen fewer times are left out (>= 1).
    /// - Throws: `SequentError` for settings out of range or a text without words.
    public static func train(on text: String, maximumVocabularySize: Int? = nil, minimumCount: Int = 1) throws -> WordTokenizer {
        if let maximumVocabularySize, maximumVocabularySize < 2 {
            throw SequentError.invalidArgument("word tokenizer", "the vocabulary size must be at least 2 (<unk> and one word), got \(maximumVocabularySize)")
        }
        guard minimumCount >= 1 else {
            throw SequentError.invalidArgument("word tokenizer", "the minimum count must be at least 1, got \(minimumCount)")
        }
        var counts: [String: Int] = [:]
        split(text) { counts[String($0), default: 0] += 1 }
        var ranked = counts.filter { $0.value >= minimumCount && $0.key != unknownToken }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) }
            .map(\.key)
        guard !ranked.isEmpty else {
            throw SequentError.invalidArgument("word tokenizer", "the text has no word seen at least \(minimumCount) times")
        }
        if let maximumVocabularySize { ranked = Array(ranked.prefix(maximumVocabularySize - 1)) }
        return try WordTokenizer(words: ranked)
    }

    public func encode(_ text: String) throws -> [Int] {
        var result: [Int] = []
        Self.split(text) { result.append(ids[String($0)] ?? 0) }
        return result
    }

    public func appendBytes(of token: Int, after previous: Int?, to bytes: inout [UInt8]) {
        guard words.indices.contains(token) else { return }
        let word = words[token]
        if let previous, words.indices.contains(previous) {
            let before = words[previous]
            let noSpace = before == "\n" || word == "\n" || Self.closing.contains(word) || Self.opening.contains(before)
            if !noSpace { bytes.append(32) }
        }
        bytes.append(contentsOf: word.utf8)
    }

    public func displayName(of token: Int) -> String {
        words.indices.contains(token) ? (token == 0 ? words[0] : visible(words[token])) : "<\(token)?>"
    }

    private static let closing: Set<String> = [".", ",", ";", ":", "!", "?", ")", "]", "}", "'"]
    private static let opening: Set<String> = ["(", "[", "{"]

    /// Calls `body` with each token of `text` in order.
    static func split(_ text: String, _ body: (Substring.UnicodeScalarView) -> Void) {
        let scalars = text.unicodeScalars
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let scalar = scalars[index]
            if scalar == "\n" {
                body(scalars[index...index])
                index = scalars.index(after: index)
            } else if scalar.properties.isWhitespace {
                index = scalars.index(after: index)
            } else if isWordScalar(scalar) {
                let start = index
                var end = scalars.index(after: index)
                while end < scalars.endIndex {
                    let next = scalars[end]
                    if isWordScalar(next) {
                        end = scalars.index(after: end)
                    } else if next == "'" || next == "\u{2019}", case let after = scalars.index(after: end),
                              after < scalars.endIndex, isWordScalar(scalars[after]) {
                        end = scalars.index(after: after)
                    } else {
                        break
                    }
                }
                body(scalars[start..<end])
                index = end
            } else {
                // One punctuation mark or symbol, with any combining marks on it.
                var end = scalars.index(after: index)
                while end < scalars.endIndex, scalars[end].properties.generalCategory.isMark { end = scalars.index(after: end) }
                body(scalars[index..<end])
                index = end
            }
        }
    }

    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return (v >= 48 && v <= 57) || (v >= 65 && v <= 90) || (v >= 97 && v <= 122) || v == 95
        }
        let properties = scalar.properties
        return properties.isAlphabetic || properties.numericType != nil || properties.generalCategory.isMark
    }

    // MARK: - tokenizer.json

    private struct JSON: Codable {
        var type: TokenizerKind
        var unknown: String
        /// Each token's text, in id order, `<unk>` first.
        var vocabulary: [String]
    }

    public func jsonData() throws -> Data {
        try encodeTokenizerJSON(JSON(type: .word, unknown: Self.unknownToken, vocabulary: words))
    }

    /// Reads the JSON written by `jsonData()`.
    public init(jsonData: Data) throws {
        let json = try JSONDecoder().decode(JSON.self, from: jsonData)
        guard json.vocabulary.first == Self.unknownToken, Set(json.vocabulary).count == json.vocabulary.count else {
            throw SequentError.invalidArgument("word tokenizer", "the vocabulary must start with <unk> and list each word once")
        }
        try self.init(words: Array(json.vocabulary.dropFirst()))
    }

    public static func == (a: WordTokenizer, b: WordTokenizer) -> Bool { a.words == b.words }
}

extension Unicode.GeneralCategory {
    /// Whether this is a combining mark (Mn, Mc, Me).
    var isMark: Bool {
        switch self {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }
}
