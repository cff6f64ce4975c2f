/// Corpus chrF (Popović, 2015) exactly as sacrebleu computes it by default
/// (`sacrebleu.corpus_chrf(hyps, [refs])`: character n-grams 1...6 with whitespace removed,
/// no word n-grams, beta = 2, case kept):
///
///     for each order n, over the corpus: hyp_n, ref_n n-gram counts, match_n clipped matches
///     P = mean_n match_n / hyp_n,  R = mean_n match_n / ref_n    (over orders with hyp_n, ref_n > 0)
///     chrF = 100 * (1 + beta^2) P R / (beta^2 P + R)
///
/// (A sentence whose reference has no n-gram of an order contributes no hypothesis count to
/// it, as in sacrebleu.)
public struct ChrF: Sendable, Equatable {
    /// The score, 0...100.
    public let score: Double
    /// [hyp, ref, match] per order, summed over the corpus.
    public let statistics: [[Int]]

    /// Character n-gram orders (sacrebleu's `CHAR_ORDER`).
    public static let order = 6
    /// Recall weighs beta times as much as precision (sacrebleu's `BETA`).
    public static let beta = 2.0

    /// Scores `hypotheses` against `references`, line i against line i (over the shorter list).
    public init(hypotheses: [String], references: [String]) {
        var statistics = [[Int]](repeating: [0, 0, 0], count: Self.order)
        for (hypothesis, reference) in zip(hypotheses, references) {
            let hyp = Self.characters(hypothesis), ref = Self.characters(reference)
            for n in 1...Self.order {
                let hypCounts = Self.ngrams(hyp, n), refCounts = Self.ngrams(ref, n)
                var hypCount = 0, matched = 0
                for (gram, count) in hypCounts {
                    hypCount += count
                    matched += min(count, refCounts[gram] ?? 0)
                }
                statistics[n - 1][0] += refCounts.isEmpty ? 0 : hypCount
                statistics[n - 1][1] += refCounts.values.reduce(0, +)
                statistics[n - 1][2] += matched
            }
        }
        self.statistics = statistics
        let factor = Self.beta * Self.beta
        var averagePrecision = 0.0, averageRecall = 0.0, effectiveOrder = 0
        for row in statistics where row[0] > 0 && row[1] > 0 {
            averagePrecision += Double(row[2]) / Double(row[0])
            averageRecall += Double(row[2]) / Double(row[1])
            effectiveOrder += 1
        }
        if effectiveOrder > 0 {
            averagePrecision /= Double(effectiveOrder)
            averageRecall /= Double(effectiveOrder)
        }
        if averagePrecision + averageRecall > 0 {
            score = 100 * (1 + factor) * averagePrecision * averageRecall / (factor * averagePrecision + averageRecall)
        } else {
            score = 0
        }
    }

    /// The code points of `text` without whitespace (Python's `''.join(text.split())`).
    static func characters(_ text: String) -> [Unicode.Scalar] {
        text.unicodeScalars.filter { !BLEU.isPythonSpace($0) }
    }

    /// The counts of each character n-gram.
    static func ngrams(_ scalars: [Unicode.Scalar], _ n: Int) -> [ArraySlice<Unicode.Scalar>: Int] {
        var counts: [ArraySlice<Unicode.Scalar>: Int] = [:]
        guard scalars.count >= n else { return counts }
        for i in 0...(scalars.count - n) { counts[scalars[i..<(i + n)], default: 0] += 1 }
        return counts
    }
}
