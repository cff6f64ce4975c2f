import Foundation
import SequentTensor

/// Text to token ids and back, with a vocabulary learned from a corpus and saved as
/// `tokenizer.json` beside a model.
///
///     let tokenizer = try BytePairTokenizer.train(on: text, vocabularySize: 512)
///     let ids = try tokenizer.encode("To be, or not to be")
///     tokenizer.decode(ids)                        // "To be, or not to be"
///     try tokenizer.save(to: folder.appendingPathComponent("tokenizer.json"))
///     let again = try loadTokenizer(from: folder.appendingPathComponent("tokenizer.json"))
///
/// `CharacterTokenizer` and `BytePairTokenizer` give `decode(encode(text)) == text` for any
/// text they can encode; `WordTokenizer` keeps the words and line breaks but not the exact
/// spacing. Every tokenizer is deterministic: the same corpus and settings give the same
/// vocabulary, the same text the same ids.
public protocol Tokenizer: Sendable {
    /// The kind written in `tokenizer.json` (`"char"`, `"word"`, `"bpe"`).
    var kind: TokenizerKind { get }
    /// V: ids are 0..<V.
    var vocabularySize: Int { get }
    /// The id that stands for text outside the vocabulary, if the tokenizer has one.
    var unknownID: Int? { get }

    /// The ids of `text`.
    ///
    /// - Throws: `SequentError.invalidArgument` naming the first character the vocabulary
    ///   cannot represent (by character offset), for a tokenizer without `<unk>`.
    func encode(_ text: String) throws -> [Int]

    /// Appends the UTF-8 bytes that `token` adds after `previous` (nil at the start) to
    /// `bytes`; `decode` is this over all tokens, so streaming output is exactly `decode`.
    func appendBytes(of token: Int, after previous: Int?, to bytes: inout [UInt8])

    /// A readable form of one token, for reports (`"\n"` as `⏎`, bytes as `<0x..>`).
    func displayName(of token: Int) -> String

    /// Everything that rebuilds this tokenizer, as the JSON of `tokenizer.json`.
    func jsonData() throws -> Data
}

/// The tokenizers Sequent has, as named on the command line and in `tokenizer.json`.
public enum TokenizerKind: String, Codable, CaseIterable, Sendable {
    /// One token per Unicode scalar seen in the corpus.
    case char
    /// Words, numbers and punctuation marks, `<unk>` for the rest.
    case word
    /// Byte-level byte-pair encoding: 256 byte tokens plus merges learned from the corpus.
    case bpe
}

extension Tokenizer {
    /// The UTF-8 bytes of `ids`.
    public func bytes(_ ids: [Int]) -> [UInt8] {
        var bytes: [UInt8] = []
        var previous: Int?
        for id in ids {
            appendBytes(of: id, after: previous, to: &bytes)
            previous = id
        }
        return bytes
    }

    /// The text of `ids` (bytes that are not UTF-8, possible only from a `bpe` tokenizer
    /// given arbitrary ids, become U+FFFD).
    public func decode(_ ids: [Int]) -> String {
        String(decoding: bytes(ids), as: UTF8.self)
    }

    /// Writes `tokenizer.json` atomically-enough for a model folder (write then rename).
    public func save(to url: URL) throws {
        let data = try jsonData()
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        do {
            try data.write(to: temporary)
        } catch {
            throw SequentError.io(url.path, "cannot write the tokenizer: \(error.localizedDescription)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw SequentError.io(url.path, "cannot write the tokenizer: \(reason)")
        }
    }

    /// Encodes `text` read from `path`, naming the file in an error about a character the
    /// vocabulary lacks.
    public func encode(_ text: String, path: String) throws -> [Int] {
        do {
            return try encode(text)
        } catch let error as SequentError {
            throw SequentError(error.kind, "\(path): \(error.message)")
        }
    }
}

/// Trains a tokenizer of `kind` on `text`.
///
/// - Parameters:
///   - vocabularySize: for `word` the most frequent words kept (with `<unk>`), nil for all
///     that occur `minimumCount` times; for `bpe` the target size (>= 256), nil for 512;
///     ignored for `char`.
///   - minimumCount: `word` only: words seen fewer times become `<unk>`.
/// - Throws: `SequentError` for an empty text or a vocabulary size the kind cannot have.
public func trainTokenizer(
    _ kind: TokenizerKind, on text: String, vocabularySize: Int? = nil, minimumCount: Int = 1
) throws -> any Tokenizer {
    switch kind {
    case .char: return try CharacterTokenizer.train(on: text)
    case .word: return try WordTokenizer.train(on: text, maximumVocabularySize: vocabularySize, minimumCount: minimumCount)
    case .bpe: return try BytePairTokenizer.train(on: text, vocabularySize: vocabularySize ?? 512)
    }
}

/// Reads a `tokenizer.json` written by `Tokenizer.save(to:)`.
///
/// - Throws: `SequentError.io` for a missing file, `.malformedFile` naming the file and what
///   does not decode.
public func loadTokenizer(from url: URL) throws -> any Tokenizer {
    guard let data = FileManager.default.contents(atPath: url.path) else {
        throw SequentError.io(url.path, "missing or unreadable: the model folder has no tokenizer")
    }
    struct Header: Decodable { var type: TokenizerKind }
    do {
        let header = try JSONDecoder().decode(Header.self, from: data)
        switch header.type {
        case .char: return try CharacterTokenizer(jsonData: data)
        case .word: return try WordTokenizer(jsonData: data)
        case .bpe: return try BytePairTokenizer(jsonData: data)
        }
    } catch let error as SequentError {
        throw SequentError.malformedFile(url.path, error.message)
    } catch {
        throw SequentError.malformedFile(url.path, "not a Sequent tokenizer.json (\(error))")
    }
}

/// `tokenizer.json` fields that every kind shares.
func encodeTokenizerJSON<Value: Encodable>(_ value: Value) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    do { return try encoder.encode(value) } catch {
        throw SequentError.invalidArgument("Tokenizer", "cannot encode tokenizer.json: \(error)")
    }
}

/// A readable form of a piece of text for reports: controls and spaces made visible.
func visible(_ text: String) -> String {
    var result = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": result += "⏎"
        case "\t": result += "⇥"
        case " ": result += "␣"
        case "\r": result += "␍"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                result += "<0x\(String(scalar.value, radix: 16, uppercase: true))>"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result
}
