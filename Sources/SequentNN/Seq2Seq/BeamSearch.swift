import Foundation
import SequentTensor

/// Beam search over many sentences at once (Sutskever et al., 2014), with GNMT's length
/// normalisation (Wu et al., 2016), shared by `Seq2Seq` and `TransformerTranslator`:
///
///     score(Y) = log p(Y | x) / lp(Y),   lp(Y) = ((5 + |Y|) / 6)^alpha
///
/// |Y| counts the output tokens including the end token; alpha = 0 ranks by the
/// log-probability alone.
///
/// Every live hypothesis of every sentence is one row of a single decoder batch: the rows
/// of sentence 0's hypotheses, then sentence 1's, and so on. Each step the model scores the
/// next token of all rows at once (`step`); per sentence the k live hypotheses are extended
/// by every token and the k best extensions by log-probability kept (at most k + K
/// candidates are needed, K the live count, as each hypothesis ends once); an extension by
/// the end token among the k best becomes finished. A sentence is done when k of its
/// hypotheses have finished, none is live, or it reached its length limit (the live ones
/// then join its result unfinished). After each step the decoder state keeps the parents'
/// rows of the sentences still going (`select`), so a prefix is never recomputed. Per
/// sentence this is exactly the search of that sentence alone; with k = 1 it is greedy
/// decoding.
struct BatchedBeamSearch {
    /// One result: tokens, log-probability, score, whether it ended with the end token, and
    /// one attention row (the sentence's source length) per token where the model has them.
    struct Hypothesis {
        var tokens: [Int]
        var logProbability: Float
        var score: Float
        var isFinished: Bool
        var alignmentRows: [[Float]]
    }

    /// What the model computes at one step for all live rows.
    struct StepOutput {
        /// (rows, V) log-probabilities, row-major.
        var logProbabilities: [Float]
        /// (rows, S) attention weights over the padded sources, row-major; nil without.
        var alignment: [Float]?
    }

    let beamWidth: Int
    let alpha: Float
    let vocabularySize: Int
    let beginToken: Int
    let endToken: Int

    /// - Throws: `SequentError` (naming `model`) for a width below 1 or alpha below 0.
    init(model: String, beamWidth: Int, alpha: Float, vocabularySize: Int, beginToken: Int, endToken: Int) throws {
        guard beamWidth >= 1 else { throw SequentError.invalidArgument(model, "the beam width must be at least 1, got \(beamWidth)") }
        guard alpha >= 0 else { throw SequentError.invalidArgument(model, "the length penalty alpha must be >= 0, got \(alpha)") }
        (self.beamWidth, self.alpha, self.vocabularySize) = (beamWidth, alpha, vocabularySize)
        (self.beginToken, self.endToken) = (beginToken, endToken)
    }

    /// The length-normalised score of a hypothesis of `length` tokens.
    func score(_ logProbability: Float, length: Int) -> Float {
        alpha == 0 ? logProbability : logProbability / Float(pow(Double(5 + length) / 6, Double(alpha)))
    }

    /// Searches all sentences; the decoder state starts with one row per sentence.
    ///
    /// - Parameters:
    ///   - limits: the most output tokens of each sentence, each >= 1.
    ///   - sourceLengths: each sentence's source length (the width of its attention rows).
    ///   - step: the previous token of every live row and the output position (0 for the
    ///     first token) -> the step's log-probabilities (and attention).
    ///   - select: keeps the decoder state's rows `rows` (repeats allowed), in that order.
    /// - Returns: per sentence at most k hypotheses, best score first (ties: found first).
    func run(
        limits: [Int], sourceLengths: [Int], step: (_ previous: [Int], _ position: Int) throws -> StepOutput,
        select: (_ rows: [Int]) throws -> Void
    ) throws -> [[Hypothesis]] {
        struct Beam { var tokens: [Int]; var logProbability: Float; var alignmentRows: [[Float]] }
        func hypothesis(_ beam: Beam) -> Hypothesis {
            Hypothesis(tokens: beam.tokens, logProbability: beam.logProbability, score: score(beam.logProbability, length: beam.tokens.count),
                       isFinished: beam.tokens.last == endToken, alignmentRows: beam.alignmentRows)
        }
        let V = vocabularySize
        var live: [(sentence: Int, beams: [Beam])] = limits.indices.map { ($0, [Beam(tokens: [], logProbability: 0, alignmentRows: [])]) }
        var finished = [[Hypothesis]](repeating: [], count: limits.count)
        var length = 0
        while !live.isEmpty {
            length += 1
            let previous = live.flatMap { $0.beams.map { $0.tokens.last ?? beginToken } }
            let output = try step(previous, length - 1)
            let logProbabilities = output.logProbabilities
            let width = output.alignment.map { $0.count / previous.count } ?? 0
            var next: [(sentence: Int, beams: [Beam])] = [], parents: [Int] = []
            var firstRow = 0
            for (sentence, beams) in live {
                let K = beams.count
                let candidates = bestCandidates(count: beamWidth + K, beams: K, vocabulary: V) { r, v in
                    beams[r].logProbability + logProbabilities[(firstRow + r) * V + v]
                }
                var extended: [Beam] = [], rows: [Int] = []
                for (rank, candidate) in candidates.enumerated() {
                    let (r, token) = (candidate.index / V, candidate.index % V)
                    var alignmentRows = beams[r].alignmentRows
                    if let alignment = output.alignment {
                        let start = (firstRow + r) * width
                        alignmentRows.append(Array(alignment[start..<(start + sourceLengths[sentence])]))
                    }
                    let beam = Beam(tokens: beams[r].tokens + [token], logProbability: candidate.value, alignmentRows: alignmentRows)
                    if token == endToken {
                        if rank < beamWidth { finished[sentence].append(hypothesis(beam)) }
                    } else if extended.count < beamWidth {
                        extended.append(beam)
                        rows.append(firstRow + r)
                    }
                    if extended.count == beamWidth && rank >= beamWidth - 1 { break }
                }
                firstRow += K
                if finished[sentence].count >= beamWidth || extended.isEmpty { continue }
                if length >= limits[sentence] {
                    finished[sentence] += extended.map(hypothesis)
                    continue
                }
                next.append((sentence, extended))
                parents += rows
            }
            live = next
            if !live.isEmpty { try select(parents) }
        }
        return finished.map { hypotheses in
            let ranked = hypotheses.enumerated().sorted { a, b in
                a.element.score > b.element.score || (a.element.score == b.element.score && a.offset < b.offset)
            }
            return ranked.prefix(beamWidth).map(\.element)
        }
    }
}

/// The `count` largest values of f(r, v) over r in 0..<beams, v in 0..<vocabulary, as
/// (flat index r * vocabulary + v, value), largest first; ties keep the lower index first.
/// One pass: a value is compared with the current count-th best and only inserted when it
/// beats it (O(beams * vocabulary) when count is small).
func bestCandidates(
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
