import Foundation
import SequentTensor

/// Conformalized quantile regression (CQR; Romano, Patterson and Candes 2019): a model's
/// lower and upper quantile forecasts (q_lo, q_hi) are widened, or narrowed, by the
/// conformal quantile of how far the actual values fell outside them on data the model was
/// not trained on (the validation part), step by step ahead:
///
///     E_i = max(q_lo(x_i) - y_i, y_i - q_hi(x_i)),
///     Q_h = the ceil((k+1) c)-th smallest of the k scores E_i at step h,
///     interval = [q_lo - Q_h, q_hi + Q_h]
///
/// which covers with probability at least c on exchangeable data, however wrong the heads'
/// quantiles were (too narrow heads give Q_h > 0). The scores are in the level's units (log
/// units after a log transform: the correction is then a factor). Steps without a score of
/// their own take the farthest measured step's Q (the heads already widen with h).
public struct ConformalQuantiles: Sendable, Equatable, Codable {
    /// The nominal coverage c in (0, 1).
    public var coverage: Double
    /// Q_h for h = 1...H, in the level's units.
    public var corrections: [Double]
    /// How many scores each step had.
    public var scoreCounts: [Int]

    /// The corrections from `scores[h-1]` (the signed scores E_i at h steps ahead), for `horizon` steps.
    ///
    /// - Throws: `SequentError` when c is outside (0, 1) or there is no score at all.
    public init(scores: [[Double]], horizon: Int, coverage: Double) throws {
        guard coverage > 0, coverage < 1 else {
            throw SequentError.invalidArgument("--coverage", "must be in (0, 1), got \(coverage)")
        }
        guard let measured = scores.prefix(horizon).lastIndex(where: { !$0.isEmpty }) else {
            throw SequentError.invalidArgument("ConformalQuantiles", "no validation score to calibrate the quantile heads on")
        }
        self.coverage = coverage
        corrections = (0..<horizon).map { h in
            ConformalIntervals.quantile(h < scores.count && !scores[h].isEmpty ? scores[h] : scores[measured], coverage: coverage)
        }
        scoreCounts = (0..<horizon).map { h in h < scores.count ? scores[h].count : 0 }
    }

    /// The score E of one actual value against its quantile forecasts (all in the level's units).
    public static func score(actual: Double, lower: Double, upper: Double) -> Double {
        max(lower - actual, actual - upper)
    }

    /// The corrected interval of the quantile forecasts `lower`, `upper` (in the series'
    /// units, step h at index h - 1); a correction that would cross them meets at their middle.
    public func bounds(lower: [Double], upper: [Double], logarithm: Bool) -> (lower: [Double], upper: [Double]) {
        let pairs = zip(lower, upper).enumerated().map { h, bound -> (Double, Double) in
            let q = corrections[min(h, corrections.count - 1)]
            let (a, b) = logarithm && bound.0 > 0 && bound.1 > 0 ? (bound.0 * exp(-q), bound.1 * exp(q)) : (bound.0 - q, bound.1 + q)
            return a <= b ? (a, b) : ((a + b) / 2, (a + b) / 2)
        }
        return (pairs.map(\.0), pairs.map(\.1))
    }
}
