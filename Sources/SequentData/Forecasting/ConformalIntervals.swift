import Foundation
import SequentTensor

/// Split-conformal prediction intervals: the half-width at each step ahead is a quantile of
/// the absolute errors the model made at that step on data it was not trained on (the
/// validation part), so that on exchangeable errors the interval
///
///     [zhat_{n+h} - q_h, zhat_{n+h} + q_h],  q_h = the ceil((k+1) c)-th smallest of k errors |e_h|
///
/// covers the actual value with probability at least c (Vovk et al.; Stankeviciute et al. 2021
/// for multi-step forecasts). The errors are in the level's units (log units after a log
/// transform, giving intervals proportional to the level). Steps with no validation error of
/// their own take the widest measured step's quantile scaled by sqrt(h / h_max), as a random
/// walk's spread grows; with fewer errors than the coverage needs, the largest error is used.
public struct ConformalIntervals: Sendable, Equatable, Codable {
    /// The nominal coverage c in (0, 1).
    public var coverage: Double
    /// q_h for h = 1...H, in the level's units.
    public var halfWidths: [Double]
    /// How many errors each step had.
    public var errorCounts: [Int]

    /// Intervals from `errors[h-1]` (the absolute errors h steps ahead), for `horizon` steps.
    ///
    /// - Throws: `SequentError` when c is outside (0, 1) or there is no error at all.
    public init(errors: [[Double]], horizon: Int, coverage: Double) throws {
        guard coverage > 0, coverage < 1 else {
            throw SequentError.invalidArgument("--coverage", "must be in (0, 1), got \(coverage)")
        }
        guard let measured = errors.lastIndex(where: { !$0.isEmpty }) else {
            throw SequentError.invalidArgument("ConformalIntervals", "no validation error to calibrate the intervals on")
        }
        self.coverage = coverage
        var widths: [Double] = []
        var counts: [Int] = []
        for h in 0..<horizon {
            if h < errors.count, !errors[h].isEmpty {
                widths.append(Self.quantile(errors[h].map(abs), coverage: coverage))
                counts.append(errors[h].count)
            } else {
                let base = Self.quantile(errors[measured].map(abs), coverage: coverage)
                widths.append(base * (Double(h + 1) / Double(measured + 1)).squareRoot())
                counts.append(0)
            }
        }
        // A farther step is never narrower than a nearer one.
        for h in 1..<max(widths.count, 1) { widths[h] = max(widths[h], widths[h - 1]) }
        halfWidths = widths
        errorCounts = counts
    }

    /// The conformal quantile: the ceil((k+1) c)-th smallest of k values, the largest when
    /// that rank exceeds k.
    public static func quantile(_ values: [Double], coverage: Double) -> Double {
        let sorted = values.sorted()
        let rank = Int((Double(sorted.count + 1) * coverage).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// The intervals around `forecast` (in the series' units) for a transform with or
    /// without a logarithm.
    public func bounds(_ forecast: [Double], logarithm: Bool) -> (lower: [Double], upper: [Double]) {
        let pairs = forecast.enumerated().map { h, value -> (Double, Double) in
            let q = halfWidths[min(h, halfWidths.count - 1)]
            if logarithm, value > 0 { return (value * exp(-q), value * exp(q)) }
            return (value - q, value + q)
        }
        return (pairs.map(\.0), pairs.map(\.1))
    }

    /// The fraction of `actual` inside [lower, upper].
    public static func coverage(actual: [Double], lower: [Double], upper: [Double]) -> Double {
        guard !actual.isEmpty else { return 0 }
        return Double(zip(actual, zip(lower, upper)).filter { $0 >= $1.0 && $0 <= $1.1 }.count) / Double(actual.count)
    }
}
