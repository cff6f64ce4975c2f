import Foundation
import SequentTensor

/// The output units of a CTC speech model: the blank (id 0) and the characters or words seen
/// in the training transcripts (ids 1...), in sorted order.
public struct SpeechAlphabet: Codable, Equatable, Sendable {
    public enum Units: String, Codable, CaseIterable, Sendable {
        /// Every character, the space included (between words).
        case chars
        /// Every whitespace-separated word.
        case words
    }

    public var units: Units
    /// The symbols of ids 1..., in order (id 0 is the blank).
    public var symbols: [String]

    /// The blank's id.
    public static let blank = 0

    /// C: the blank and every symbol.
    public var classCount: Int { symbols.count + 1 }

    public init(units: Units, symbols: [String]) {
        self.units = units
        self.symbols = symbols
    }

    /// The alphabet of `texts` (the training transcripts).
    public init(units: Units, texts: [String]) {
        var seen = Set<String>()
        for text in texts { seen.formUnion(Self.split(text, units: units)) }
        self.init(units: units, symbols: seen.sorted())
    }

    /// A text in units: its characters (runs of whitespace as one space, trimmed) or its words.
    public static func split(_ text: String, units: Units) -> [String] {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        switch units {
        case .words: return words
        case .chars: return Array(words.joined(separator: " ")).map(String.init)
        }
    }

    /// The ids of `text`.
    ///
    /// - Throws: `SequentError.invalidArgument` naming the first unit the alphabet lacks
    ///   (`context` says where the text came from).
    public func encode(_ text: String, context: String) throws -> [Int] {
        let index = Dictionary(uniqueKeysWithValues: symbols.enumerated().map { ($1, $0 + 1) })
        return try Self.split(text, units: units).map { unit in
            guard let id = index[unit] else {
                throw SequentError.invalidArgument(
                    "transcript", "\(context): '\(unit)' in \"\(text)\" is not among the model's \(units.rawValue) (\(symbols.prefix(40).map { "'\($0)'" }.joined(separator: " "))\(symbols.count > 40 ? " ..." : ""))")
            }
            return id
        }
    }

    /// The text of ids (blank-free, repeats already merged).
    public func decode(_ ids: [Int]) -> String {
        let units = ids.compactMap { $0 >= 1 && $0 <= symbols.count ? symbols[$0 - 1] : nil }
        return self.units == .chars ? units.joined() : units.joined(separator: " ")
    }
}
