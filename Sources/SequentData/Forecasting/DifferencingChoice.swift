import Foundation
import SequentTensor

/// Chooses the differencing of a series from the training part alone, as `auto.arima`
/// (Hyndman and Khandakar 2008; R's forecast package) and pmdarima's `auto_arima` do:
///
/// 1. the seasonal difference (nsdiffs, D = 1) when the season is strong: with the series
///    detrended by a centred moving average of one season (2 x m when m is even), S the mean
///    of each position in the season and R the remainder,
///    F_s = max(0, 1 - Var(R) / Var(S + R)) > 0.64 (Wang, Smith and Hyndman 2006;
///    *Forecasting: Principles and Practice*, 9.1 and 9.5; `auto.arima` decomposes with STL,
///    this classical decomposition is the one FPP defines F_s with);
/// 2. then the first difference (ndiffs, d = 1) when the KPSS test rejects the level
///    stationarity of the series, seasonally differenced when step 1 said so, at 5 %
///    (statistic > 0.463; Kwiatkowski et al. 1992), with the Newey-West long-run variance over
///    trunc(3 sqrt(n) / 13) lags, as forecast's `ndiffs` and pmdarima's `KPSSTest` take it.
///
/// Both tests read the series as the model will (after the log, when there is one). At most
/// one difference of each kind: the transform has no second differences.
public enum DifferencingChoice {
    /// KPSS's 5 % critical value for level stationarity (Kwiatkowski et al. 1992, table 1).
    public static let kpssCriticalValue = 0.463
    /// The seasonal strength above which the series is seasonally differenced.
    public static let seasonalStrengthThreshold = 0.64

    /// none, first, seasonal or both, with the statistics they were decided on (F_s is nil
    /// when there is no season or fewer than three seasons of data; the KPSS statistic is
    /// nil for fewer than 8 values, which are then not differenced).
    public static func choose(_ x: [Double], season: Int) -> (differencing: SeriesTransform.Differencing, seasonalStrength: Double?, kpss: Double?) {
        var series = x
        var seasonal = false
        var strength: Double?
        if season > 1, x.count >= 3 * season, let s = seasonalStrength(x, season: season) {
            strength = s
            if s > seasonalStrengthThreshold {
                seasonal = true
                series = (season..<x.count).map { x[$0] - x[$0 - season] }
            }
        }
        let statistic = series.count >= 8 ? kpss(series) : nil
        let first = (statistic ?? 0) > kpssCriticalValue
        let differencing: SeriesTransform.Differencing = switch (seasonal, first) {
        case (true, true): .both
        case (true, false): .seasonal
        case (false, true): .first
        case (false, false): .none
        }
        return (differencing, strength, statistic)
    }

    /// F_s of a classical decomposition; nil when the series is too short or constant.
    public static func seasonalStrength(_ x: [Double], season m: Int) -> Double? {
        let half = m / 2
        guard x.count > 2 * m else { return nil }
        // Centred moving average of one season: 2 x m when m is even.
        var detrended: [Double?] = Array(repeating: nil, count: x.count)
        for t in half..<(x.count - half) {
            var trend: Double
            if m % 2 == 0 {
                trend = (0.5 * x[t - half] + 0.5 * x[t + half] + x[(t - half + 1)..<(t + half)].reduce(0, +)) / Double(m)
            } else {
                trend = x[(t - half)...(t + half)].reduce(0, +) / Double(m)
            }
            detrended[t] = x[t] - trend
        }
        var sums = [Double](repeating: 0, count: m), counts = [Double](repeating: 0, count: m)
        for (t, value) in detrended.enumerated() { if let value { sums[t % m] += value; counts[t % m] += 1 } }
        let means = zip(sums, counts).map { $1 > 0 ? $0 / $1 : 0 }
        let centre = means.reduce(0, +) / Double(m)
        let pairs = detrended.enumerated().compactMap { t, value in value.map { (total: $0, remainder: $0 - (means[t % m] - centre)) } }
        func variance(_ v: [Double]) -> Double {
            let mean = v.reduce(0, +) / Double(v.count)
            return v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)
        }
        let total = variance(pairs.map(\.total))
        guard total > 0 else { return nil }
        return max(0, 1 - variance(pairs.map(\.remainder)) / total)
    }

    /// The lags of `kpss`'s long-run variance by default: trunc(3 sqrt(n) / 13).
    public static func kpssLags(count n: Int) -> Int { Int(3 * Double(n).squareRoot() / 13) }

    /// The KPSS statistic for level stationarity: (1/n^2) sum_t S_t^2 / s^2(l), S_t the partial
    /// sums of the demeaned series, s^2(l) the Newey-West long-run variance with Bartlett
    /// weights 1 - j / (l + 1) (statsmodels' `kpss(x, regression="c", nlags=l)`).
    ///
    /// - Parameter lags: l (default `kpssLags(count:)`).
    public static func kpss(_ x: [Double], lags: Int? = nil) -> Double {
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        let e = x.map { $0 - mean }
        var partial = 0.0, sumSquares = 0.0
        for value in e {
            partial += value
            sumSquares += partial * partial
        }
        let lags = min(lags ?? kpssLags(count: x.count), x.count - 1)
        var longRun = e.map { $0 * $0 }.reduce(0, +) / n
        if lags > 0 {
            for lag in 1...lags {
                let covariance = (lag..<e.count).map { e[$0] * e[$0 - lag] }.reduce(0, +) / n
                longRun += 2 * (1 - Double(lag) / Double(lags + 1)) * covariance
            }
        }
        return longRun > 0 ? sumSquares / (n * n * longRun) : 0
    }
}
