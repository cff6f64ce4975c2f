import Foundation
import SequentTensor

/// Chooses the differencing of a series from the training part alone:
///
/// - a strongly seasonal series gets both differences, seasonal then first, as the airline
///   model (Box and Jenkins' ARIMA(0,1,1)(0,1,1)_m, the default model of X-13ARIMA-SEATS)
///   has them. The season is strong, as `auto.arima` measures it (Hyndman and Khandakar;
///   *Forecasting: Principles and Practice*, 9.1), when with the series detrended by a
///   centred moving average of one season (2 x m when m is even) and S the mean of each
///   position in the season, F_s = max(0, 1 - Var(R) / Var(S + R)) > 0.64, R the remainder;
/// - any other series gets first differences when the KPSS test rejects its level
///   stationarity at 5% (statistic > 0.463; Kwiatkowski et al. 1992, Newey-West long-run
///   variance with floor(4 (n/100)^(1/4)) lags), none otherwise.
public enum DifferencingChoice {
    /// none, first or both, with the statistics (KPSS of the seasonally differenced series
    /// when the season is strong, reported only).
    public static func choose(_ x: [Double], season: Int) -> (differencing: SeriesTransform.Differencing, seasonalStrength: Double?, kpss: Double?) {
        var series = x
        var seasonal = false
        var strength: Double?
        if season > 1, x.count >= 3 * season, let s = seasonalStrength(x, season: season) {
            strength = s
            if s > 0.64 {
                seasonal = true
                series = (season..<x.count).map { x[$0] - x[$0 - season] }
            }
        }
        let statistic = series.count >= 8 ? kpss(series) : nil
        let first = (statistic ?? 0) > 0.463
        let differencing: SeriesTransform.Differencing = seasonal ? .both : (first ? .first : .none)
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

    /// The KPSS statistic for level stationarity: (1/n^2) sum_t S_t^2 / s^2(l), S_t the partial
    /// sums of the demeaned series, s^2(l) the Newey-West long-run variance with Bartlett weights.
    public static func kpss(_ x: [Double]) -> Double {
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        let e = x.map { $0 - mean }
        var partial = 0.0, sumSquares = 0.0
        for value in e {
            partial += value
            sumSquares += partial * partial
        }
        let lags = Int(4 * Foundation.pow(n / 100, 0.25))
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
