import Foundation
import SequentTensor

/// One token per Unicode scalar (char-rnn's characters): the vocabulary is every scalar of
/// the training text, sorted by code point, so that the same text always gives the same ids.
///
/// `decode(encode(text)) == text` for every text made of the vocabulary's scalars (emoji and
/// combining marks are sequences of scalars, each its own token). A scalar outside the
/// vocabulary cannot be encoded: there is no `<unk>`, `encode` throws naming it.
public struct CharacterTokenizer: Tokenizer, Equatable {
    /// The scalars, in id order.
    public let scalars: [Unicode.Scalar]
    /// Scalar value -> id.
    private let ids: [UInt32: Int]
    /// Ids of the ASCII scalars (-1 where absent), the common case without hashing.
    private let asciiIDs: [Int]

    public var kind: TokenizerKind { .char }
    public var vocabularySize: Int { scalars.count }
    public var unknownID: Int? { nil }

    /// A tokenizer over `scalars` (sorted and made unique).
    ///
    /// - Throws: `SequentError.invalidArgument` when `scalars` is empty.
    public init(scalars: some Sequence<Unicode.Scalar>) throws {
        let sorted = Array(Set(scalars)).sorted { $0.value < $1.value }
        guard !sorted.isEmpty else {
            throw SequentError.invalidArgument("CharacterTokenizer", "the vocabulary is empty (no text to learn it from)")
        }
        self.scalars = sorted
        var ids: [UInt32: Int] = [:]
        var asciiIDs = [Int](repeating: -1, count: 128)
        for (id, scalar) in sorted.enumerated() {
            ids[scalar.value] = id
            if scalar.isASCII { asciiIDs[Int(scalar.value)] = id }
        }
        self.ids = ids
        self.asciiIDs = asciiIDs
    }

    /// The scalars of `text`.
    public static func train(on text: String) throws -> CharacterTokenizer {
        var seen = Set<Unicode.Scalar>()
        for scalar in text.unicodeScalars { seen.insert(scalar) }
        return try CharacterTokenizer(scalars: seen)
    }

    public func encode(_ text: String) throws -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(text.utf8.count)
        var offset = 0
        for scalar in text.unicodeScalars {
            let id = scalar.isASCII ? asciiIDs[Int(scalar.value)] : (ids[scalar.value] ?? -1)
            guard id >= 0 else {
                throw SequentError.invalidArgument(
                    "char tokenizer", "character \(offset) (U+\(String(scalar.value, radix: 16, uppercase: true)) \(visible(String(scalar)))) is not in the model's \(scalars.count)-character vocabulary (a char tokenizer has no <unk>; train on text that contains it, or use --tokenizer bpe)")
            }
            result.append(id)
            offset += 1
        }
        return result
    }

    public func appendBytes(of token: Int, after previous: Int?, to bytes: inout [UInt8]) {
        guard scalars.indices.contains(token) else { return }
        bytes.append(contentsOf: String(scalars[token]).utf8)
    }

    public func displayName(of token: Int) -> String {
        scalars.indices.contains(token) ? visible(String(scalars[token])) : "<\(token)?>"
    }

    // MARK: - tokenizer.json

    private struct JSON: Codable {
        var type: TokenizerKind
        /// Each token's text (one scalar).
        var vocabulary: [String]
    }

    public func jsonData() throws -> Data {
        try encodeTokenizerJSON(JSON(type: .char, vocabulary: scalars.map { String($0) }))
    }

    /// Reads the JSON written by `jsonData()`.
    public init(jsonData: Data) throws {
        let json = try JSONDecoder().decode(JSON.self, from: jsonData)
        var scalars: [Unicode.Scalar] = []
        for (id, text) in json.vocabulary.enumerated() {
            let units = Array(text.unicodeScalars)
            guard units.count == 1 else {
                throw SequentError.invalidArgument("char tokenizer", "vocabulary entry \(id) is \(units.count) characters, not one")
            }
            scalars.append(units[0])
        }
        guard Set(scalars).count == scalars.count else {
            throw SequentError.invalidArgument("char tokenizer", "the vocabulary lists a character twice")
        }
        try self.init(scalars: scalars)
        guard self.scalars == scalars else {
            throw SequentError.invalidArgument("char tokenizer", "the vocabulary is not in code-point order")
        }
    }

    public static func == (a: CharacterTokenizer, b: CharacterTokenizer) -> Bool { a.scalars == b.scalars }
}
