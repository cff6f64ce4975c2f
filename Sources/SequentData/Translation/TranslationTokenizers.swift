import Foundation
import SequentTensor

/// The tokenizers of a translation model: one per side, or one shared by both (a joint
/// vocabulary, for related languages or a chatbot), wrapping the `Text/` tokenizers (`word`,
/// `bpe`) as they are.
///
/// The model's target vocabulary is the target tokenizer's V ids followed by two specials,
/// `beginID` = V (y_0, never predicted) and `endID` = V + 1 (the model's "stop"); the
/// source vocabulary is the source tokenizer's ids alone. `detokenize` turns model output
/// back into plain text (specials dropped), which is what BLEU is computed on.
public struct TranslationTokenizers: Sendable {
    /// The tokenizer of the source sentences.
    public let source: any Tokenizer
    /// The tokenizer of the target sentences (the same as `source` when `isJoint`).
    public let target: any Tokenizer
    /// Whether one tokenizer serves both sides.
    public let isJoint: Bool

    /// Tokenizers from the given ones.
    public init(source: any Tokenizer, target: any Tokenizer, isJoint: Bool) {
        self.source = source
        self.target = target
        self.isJoint = isJoint
    }

    /// V_src: the source vocabulary.
    public var sourceVocabularySize: Int { source.vocabularySize }
    /// The target vocabulary of the model: the tokenizer's ids and the two specials.
    public var targetVocabularySize: Int { target.vocabularySize + 2 }
    /// y_0, the token the decoder starts from.
    public var beginID: Int { target.vocabularySize }
    /// The token that ends a target sentence.
    public var endID: Int { target.vocabularySize + 1 }

    /// Learns tokenizers from training pairs.
    ///
    /// - Parameters:
    ///   - kind: `.word` or `.bpe` (`.char` works too).
    ///   - vocabularySize: per tokenizer: for `word` the most frequent words kept (nil: all
    ///     seen `minimumCount` times), for `bpe` the size (>= 256, nil: 8000).
    ///   - minimumCount: `word` only: rarer words become `<unk>`.
    ///   - joint: one tokenizer learned on both sides.
    /// - Throws: `SequentError` for settings the tokenizer refuses.
    public static func train(
        on pairs: SentencePairs, kind: TokenizerKind, vocabularySize: Int?, minimumCount: Int = 1, joint: Bool
    ) throws -> TranslationTokenizers {
        let size = kind == .bpe ? (vocabularySize ?? 8000) : vocabularySize
        let sourceText = pairs.sources.joined(separator: "\n"), targetText = pairs.targets.joined(separator: "\n")
        if joint {
            let shared = try trainTokenizer(kind, on: sourceText + "\n" + targetText, vocabularySize: size, minimumCount: minimumCount)
            return TranslationTokenizers(source: shared, target: shared, isJoint: true)
        }
        return TranslationTokenizers(
            source: try trainTokenizer(kind, on: sourceText, vocabularySize: size, minimumCount: minimumCount),
            target: try trainTokenizer(kind, on: targetText, vocabularySize: size, minimumCount: minimumCount),
            isJoint: false)
    }

    /// The token ids of a source sentence (never empty: a sentence of no tokens becomes
    /// `<unk>`, or byte tokens for `bpe`).
    public func encodeSource(_ sentence: String) throws -> [Int] {
        let ids = try source.encode(sentence)
        return ids.isEmpty ? [source.unknownID ?? 0] : ids
    }

    /// The target ids of a sentence, ending with `endID`.
    public func encodeTarget(_ sentence: String) throws -> [Int] {
        try target.encode(sentence) + [endID]
    }

    /// Plain text from model output, one line: the specials dropped, the rest decoded by the
    /// target tokenizer (words joined with spaces, no space before closing punctuation; BPE
    /// bytes as they were), and any line break a model emits (the tokenizers learn the one
    /// between training lines as a token) turned into a space, so that a translation never
    /// spans two output lines.
    public func detokenize(_ ids: [Int]) -> String {
        let text = target.decode(ids.filter { $0 >= 0 && $0 < target.vocabularySize })
        guard text.contains(where: \.isNewline) else { return text }
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// Each target token's display text (for plots), specials as `<s>` and `</s>`.
    public func targetTokenNames(_ ids: [Int]) -> [String] {
        ids.map { $0 == beginID ? "<s>" : $0 == endID ? "</s>" : target.displayName(of: $0) }
    }

    /// Each source token's display text (for plots).
    public func sourceTokenNames(_ ids: [Int]) -> [String] { ids.map { source.displayName(of: $0) } }
}

/// Sentence pairs as token ids, with the pairs too long for the model set aside.
public struct EncodedPairs: Sendable {
    /// Source ids of each kept pair.
    public let sources: [[Int]]
    /// Target ids of each kept pair, each ending with the end token.
    public let targets: [[Int]]
    /// The file line of each kept pair.
    public let lines: [Int]
    /// The lines of the pairs left out as too long.
    public let droppedLines: [Int]

    /// Encodes `pairs`, keeping those whose sides both fit `maxLength` tokens (the target
    /// counted with its end token).
    ///
    /// - Parameters:
    ///   - refusesLong: throw at the first pair that is too long instead of dropping it.
    ///   - flag: the option that set the limit, for the message.
    /// - Throws: `SequentError` naming the file and line of a too-long pair when
    ///   `refusesLong`, or when no pair fits.
    public init(
        _ pairs: SentencePairs, tokenizers: TranslationTokenizers, maxLength: Int, refusesLong: Bool = false,
        flag: String = "--max-length"
    ) throws {
        var sources: [[Int]] = [], targets: [[Int]] = [], lines: [Int] = [], dropped: [Int] = []
        for i in 0..<pairs.count {
            let source = try tokenizers.encodeSource(pairs.sources[i])
            let target = try tokenizers.encodeTarget(pairs.targets[i])
            if source.count > maxLength || target.count > maxLength {
                if refusesLong {
                    throw SequentError.malformedFile(
                        pairs.origin, "line \(pairs.lines[i]): \(source.count) source and \(target.count) target tokens (with the end token) exceed \(flag) \(maxLength)")
                }
                dropped.append(pairs.lines[i])
                continue
            }
            sources.append(source)
            targets.append(target)
            lines.append(pairs.lines[i])
        }
        guard !sources.isEmpty else {
            throw SequentError.malformedFile(pairs.origin, "no pair fits \(flag) \(maxLength) tokens")
        }
        self.sources = sources
        self.targets = targets
        self.lines = lines
        self.droppedLines = dropped
    }

    /// The number of kept pairs.
    public var count: Int { sources.count }
}
