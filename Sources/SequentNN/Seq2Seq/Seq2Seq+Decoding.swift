import Foundation
import SequentTensor

// Decoding: the decoder steps one cell per output token through `decoderStep`, the same step
// teacher forcing uses, with the encoder run once, nothing recorded for gradients, and the
// model in evaluation mode (no dropout) for the call.

extension Seq2Seq {
    /// The result of greedy decoding.
    public struct Decoding {
        /// The output tokens of each source sentence; a sequence that stopped ends with
        /// `endToken`, one that reached the maximum length does not.
        public let sequences: [[Int]]
        /// (B, T, S): the attention weights of every step, T the longest output; rows past
        /// a sequence's end and columns past a source's length are 0. Nil without attention.
        public let alignment: Tensor?
    }

    /// One beam-search hypothesis.
    public struct Hypothesis {
        /// The output tokens, ending with `endToken` when `isFinished`.
        public let tokens: [Int]
        /// log p(tokens | source) = sum_i log p(y_i | y_<i, x).
        public let logProbability: Float
        /// The length-normalised score the hypotheses are ranked by (see `beamSearch`).
        public let score: Float
        /// Whether the hypothesis ended with `endToken` (else it reached the maximum length).
        public let isFinished: Bool
        /// (tokens.count, S): the attention weights of every step; nil without attention.
        public let alignment: Tensor?
    }

    /// Checks a decoding's maximum length.
    private func checkedMaximumLength(_ maxLength: Int) throws {
        guard maxLength >= 1 else {
            throw SequentError.invalidArgument("Seq2Seq", "the maximum output length must be at least 1, got \(maxLength)")
        }
    }

    /// Decodes every source sentence by taking the most probable token at each step,
    /// y_i = argmax_v p(v | y_<i, x), until `endToken` or `maxLength` tokens.
    ///
    /// - Throws: `SequentError` for a source token out of range or `maxLength` < 1.
    public func greedyDecode(source: Batch, maxLength: Int) throws -> Decoding {
        try checkedMaximumLength(maxLength)
        let wasTraining = isTraining
        setTraining(false)
        defer { setTraining(wasTraining) }
        return try withoutGradients {
            let B = source.batchSize
            let encoding = try encode(source)
            var state = encoding.initialState
            var previous = [Int](repeating: beginToken, count: B)
            var sequences = [[Int]](repeating: [], count: B)
            var alignments: [Tensor] = []
            while sequences.contains(where: { $0.last != endToken && $0.count < maxLength }) {
                let ended = Tensor(shape: [B, 1], scalars: sequences.map { $0.last == endToken ? 1 : 0 })
                let step = try decoderStep(try targetEmbedding(previous), state: state, memory: encoding.memory)
                let logits = head(step.output)  // (B, V)
                let V = targetVocabularySize
                for b in 0..<B where sequences[b].last != endToken {
                    let row = logits.scalars[(b * V)..<((b + 1) * V)]
                    let best = row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }! - b * V
                    sequences[b].append(best)
                    previous[b] = best
                }
                if let alignment = step.alignment { alignments.append(alignment.maskedFill(where: ended, with: 0)) }
                state = step.state
            }
            return Decoding(sequences: sequences, alignment: alignments.isEmpty ? nil : Tensor.stack(alignments, alongAxis: 1))
        }
    }

    /// Beam search (Sutskever et al., 2014) with GNMT's length normalisation (Wu et al.,
    /// 2016) over every source sentence of a batch at once: hypotheses are ranked by
    ///
    ///     score(Y) = log p(Y | x) / lp(Y),   lp(Y) = ((5 + |Y|) / 6)^alpha
    ///
    /// where |Y| counts the output tokens including `endToken`. alpha = 0 ranks by the
    /// log-probability alone (which favours short outputs); GNMT used alpha in 0.6...1.
    ///
    /// Each step extends the k live hypotheses by every token and keeps the k best
    /// extensions by log-probability; an extension by `endToken` among the k best becomes a
    /// finished hypothesis. A sentence's search stops when k hypotheses have finished or
    /// after its maximum length (the live ones then join the result unfinished). With k = 1
    /// it is greedy decoding. The live hypotheses of all sentences are one decoder batch
    /// (`BatchedBeamSearch`): the encoder runs once, each step costs one decoder step of all
    /// rows, and the states follow their parents; per sentence the result is the search of
    /// that sentence alone.
    ///
    /// - Parameters:
    ///   - source: the source sentences.
    ///   - beamWidth: k >= 1.
    ///   - maxLength: the most output tokens, >= 1.
    ///   - maxLengths: per sentence, instead of `maxLength` (each >= 1).
    ///   - alpha: the length-normalisation exponent, >= 0.
    /// - Returns: per sentence at most k hypotheses sorted by score, best first.
    /// - Throws: `SequentError` for a token out of range, or k, a maximum length or alpha
    ///   out of range.
    public func beamSearch(
        source: Batch, beamWidth: Int, maxLength: Int = 0, maxLengths: [Int]? = nil, lengthPenalty alpha: Float = 0
    ) throws -> [[Hypothesis]] {
        let limits = maxLengths ?? Array(repeating: maxLength, count: source.batchSize)
        guard limits.count == source.batchSize else {
            throw SequentError.invalidArgument("Seq2Seq", "\(limits.count) maximum lengths for \(source.batchSize) sentences")
        }
        for limit in limits { try checkedMaximumLength(limit) }
        let search = try BatchedBeamSearch(model: "Seq2Seq", beamWidth: beamWidth, alpha: alpha, vocabularySize: targetVocabularySize,
                                           beginToken: beginToken, endToken: endToken)
        let wasTraining = isTraining
        setTraining(false)
        defer { setTraining(wasTraining) }
        return try withoutGradients {
            let encoding = try encode(source)
            var state = encoding.initialState, memory = encoding.memory  // one row per live hypothesis
            var stepped = state
            let results = try search.run(limits: limits, sourceLengths: source.lengths, step: { previous, _ in
                let step = try decoderStep(try targetEmbedding(previous), state: state, memory: memory)
                stepped = step.state
                return .init(logProbabilities: head(step.output).logSoftmax(alongAxis: -1).scalars, alignment: step.alignment?.scalars)
            }, select: { rows in
                state = stepped.selecting(rows: rows)
                memory = memory?.selecting(rows: rows)
            })
            return results.enumerated().map { b, hypotheses in
                hypotheses.map { found in
                    Hypothesis(tokens: found.tokens, logProbability: found.logProbability, score: found.score, isFinished: found.isFinished,
                               alignment: found.alignmentRows.isEmpty ? nil
                                   : Tensor(shape: [found.tokens.count, source.lengths[b]], scalars: found.alignmentRows.flatMap { $0 }))
                }
            }
        }
    }

    /// Beam search on one sentence; see `beamSearch(source:beamWidth:maxLength:maxLengths:lengthPenalty:)`.
    ///
    /// - Throws: `SequentError` for an empty source, a token out of range, or k, maxLength
    ///   or alpha out of range.
    public func beamSearch(
        source: [Int], beamWidth: Int, maxLength: Int, lengthPenalty alpha: Float = 0
    ) throws -> [Hypothesis] {
        try beamSearch(source: try Batch([source]), beamWidth: beamWidth, maxLength: maxLength, lengthPenalty: alpha)[0]
    }
}
