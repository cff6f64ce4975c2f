import Foundation
import SequentTensor

// Decoding: the decoder steps one cell per output token through `decoderStep`, the same step
// teacher forcing uses, with the encoder run once and nothing recorded for gradients.

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

    /// Beam search over each source sentence of a batch; see `beamSearch(source:...)`.
    public func beamSearch(
        source: Batch, beamWidth: Int, maxLength: Int, lengthPenalty alpha: Float = 0
    ) throws -> [[Hypothesis]] {
        try (0..<source.batchSize).map { b in
            try beamSearch(source: source.sequence(b), beamWidth: beamWidth, maxLength: maxLength, lengthPenalty: alpha)
        }
    }

    /// Beam search (Sutskever et al., 2014) with GNMT's length normalisation (Wu et al.,
    /// 2016): hypotheses are ranked by
    ///
    ///     score(Y) = log p(Y | x) / lp(Y),   lp(Y) = ((5 + |Y|) / 6)^alpha
    ///
    /// where |Y| counts the output tokens including `endToken`. alpha = 0 ranks by the
    /// log-probability alone (which favours short outputs); GNMT used alpha in 0.6...1.
    ///
    /// Each step extends the k live hypotheses by every token and keeps the k best
    /// extensions by log-probability; an extension by `endToken` among the k best becomes a
    /// finished hypothesis. The search stops when k hypotheses have finished or after
    /// `maxLength` tokens (the live ones then join the result unfinished). With k = 1 it is
    /// greedy decoding.
    ///
    /// - Parameters:
    ///   - source: one source sentence (no padding).
    ///   - beamWidth: k >= 1.
    ///   - maxLength: the most output tokens, >= 1.
    ///   - alpha: the length-normalisation exponent, >= 0.
    /// - Returns: at most k hypotheses sorted by score, best first.
    /// - Throws: `SequentError` for an empty source, a token out of range, or k, maxLength
    ///   or alpha out of range.
    public func beamSearch(
        source: [Int], beamWidth: Int, maxLength: Int, lengthPenalty alpha: Float = 0
    ) throws -> [Hypothesis] {
        try checkedMaximumLength(maxLength)
        guard beamWidth >= 1 else { throw SequentError.invalidArgument("Seq2Seq", "the beam width must be at least 1, got \(beamWidth)") }
        guard alpha >= 0 else { throw SequentError.invalidArgument("Seq2Seq", "the length penalty alpha must be >= 0, got \(alpha)") }
        let sourceBatch = try Batch([source])
        let endToken = endToken
        func score(_ logProbability: Float, length: Int) -> Float {
            alpha == 0 ? logProbability : logProbability / Float(pow(Double(5 + length) / 6, Double(alpha)))
        }
        /// A live hypothesis: its tokens, log-probability and the attention row of each step.
        struct Beam { var tokens: [Int]; var logProbability: Float; var alignmentRows: [[Float]] }
        func hypothesis(_ beam: Beam) -> Hypothesis {
            Hypothesis(tokens: beam.tokens, logProbability: beam.logProbability,
                       score: score(beam.logProbability, length: beam.tokens.count),
                       isFinished: beam.tokens.last == endToken,
                       alignment: beam.alignmentRows.isEmpty ? nil
                           : Tensor(shape: [beam.tokens.count, source.count], scalars: beam.alignmentRows.flatMap { $0 }))
        }
        return try withoutGradients {
            let encoding = try encode(sourceBatch)
            var beams = [Beam(tokens: [], logProbability: 0, alignmentRows: [])]
            var state = encoding.initialState
            var finished: [Hypothesis] = []
            let V = targetVocabularySize
            var memory = encoding.memory  // one row per live hypothesis, all the same source
            for length in 1...maxLength {
                let K = beams.count
                if let rows = memory?.batchSize, rows != K { memory = encoding.memory?.selecting(rows: Array(repeating: 0, count: K)) }
                let input = try targetEmbedding(beams.map { $0.tokens.last ?? beginToken })
                let step = try decoderStep(input, state: state, memory: memory)
                let logProbabilities = head(step.output).logSoftmax(alongAxis: -1).scalars  // (K, V)
                // The best extensions by log-probability, ties to the lower (beam, token):
                // k live ones need at most k + K candidates (one end token per beam).
                let candidates = bestCandidates(count: beamWidth + K, beams: K, vocabulary: V) { r, v in
                    beams[r].logProbability + logProbabilities[r * V + v]
                }
                var next: [Beam] = [], parents: [Int] = []
                for (rank, candidate) in candidates.enumerated() {
                    let (r, token) = (candidate.index / V, candidate.index % V)
                    let row = step.alignment.map { Array($0.scalars[(r * source.count)..<((r + 1) * source.count)]) }
                    let extended = Beam(tokens: beams[r].tokens + [token], logProbability: candidate.value,
                                        alignmentRows: beams[r].alignmentRows + (row.map { [$0] } ?? []))
                    if token == endToken {
                        if rank < beamWidth { finished.append(hypothesis(extended)) }
                    } else if next.count < beamWidth {
                        next.append(extended)
                        parents.append(r)
                    }
                    if next.count == beamWidth && rank >= beamWidth - 1 { break }
                }
                if finished.count >= beamWidth || next.isEmpty { break }
                if length == maxLength {
                    finished += next.map(hypothesis)
                    break
                }
                beams = next
                state = step.state.selecting(rows: parents)
            }
            let ranked = finished.enumerated().sorted { a, b in
                a.element.score > b.element.score || (a.element.score == b.element.score && a.offset < b.offset)
            }
            return ranked.prefix(beamWidth).map(\.element)
        }
    }
}

/// The `count` largest values of f(r, v) over r in 0..<beams, v in 0..<vocabulary, as
/// (flat index r * vocabulary + v, value), largest first; ties keep the lower index first.
private func bestCandidates(
    count: Int, beams: Int, vocabulary: Int, _ f: (Int, Int) -> Float
) -> [(index: Int, value: Float)] {
    var best: [(index: Int, value: Float)] = []
    best.reserveCapacity(count + 1)
    for r in 0..<beams {
        for v in 0..<vocabulary {
            let value = f(r, v)
            if best.count == count, let last = best.last, !(value > last.value) { continue }
            // Insert after every candidate at least as good (ties stay in index order).
            var position = best.count
            while position > 0 && best[position - 1].value < value { position -= 1 }
            best.insert((r * vocabulary + v, value), at: position)
            if best.count > count { best.removeLast() }
        }
    }
    return best
}
