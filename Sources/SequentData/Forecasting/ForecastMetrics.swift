import SequentTensor

/// The point-forecast errors the M4 competition reports, over a forecast `yhat` of actual
/// values `y` (h of each):
///
///     MAE   = 1/h sum |y_t - yhat_t|
///     RMSE  = sqrt(1/h sum (y_t - yhat_t)^2)
///     MAPE  = 100/h sum |y_t - yhat_t| / |y_t|                 (percent)
///     sMAPE = 200/h sum |y_t - yhat_t| / (|y_t| + |yhat_t|)    (percent, M4's definition)
///     MASE  = MAE / (1/(n-m) sum_{t=m+1..n} |x_t - x_{t-m}|)   (x: the n in-sample values, m: season)
///
/// MAPE skips actual values of 0 (and is nil when all are 0); sMAPE skips terms where both
/// are 0. MASE is nil when the in-sample seasonal-naive error is 0 or n <= m.
public struct ForecastMetrics: Sendable, Equatable, Codable {
    public var mae: Double
    public var rmse: Double
    public var mape: Double?
    public var smape: Double
    public var mase: Double?

    public init(mae: Double, rmse: Double, mape: Double?, smape: Double, mase: Double?) {
        self.mae = mae
        self.rmse = rmse
        self.mape = mape
        self.smape = smape
        self.mase = mase
    }

    /// The metrics of `forecast` against `actual`, MASE scaled on `inSample` with season `season`.
    ///
    /// - Throws: `SequentError` when the two have different lengths or are empty.
    public init(actual: [Double], forecast: [Double], inSample: [Double], season: Int) throws {
        guard actual.count == forecast.count, !actual.isEmpty else {
            throw SequentError.invalidArgument("ForecastMetrics", "need as many forecasts as actual values (at least one), got \(forecast.count) and \(actual.count)")
        }
        let h = Double(actual.count)
        let errors = zip(actual, forecast).map { $0 - $1 }
        mae = errors.map(abs).reduce(0, +) / h
        rmse = (errors.map { $0 * $0 }.reduce(0, +) / h).squareRoot()
        let relative = zip(actual, errors).filter { $0.0 != 0 }.map { abs($0.1) / abs($0.0) }
        mape = relative.isEmpty ? nil : 100 * relative.reduce(0, +) / Double(relative.count)
        smape = 200 / h * zip(zip(actual, forecast), errors).map { pair, e in
            let denominator = abs(pair.0) + abs(pair.1)
            return denominator > 0 ? abs(e) / denominator : 0
        }.reduce(0, +)
        let scale = Self.seasonalNaiveScale(inSample, season: season)
        mase = scale.map { mae / $0 }
    }

    /// M4's MASE denominator: the mean absolute error of the seasonal-naive forecast inside
    /// the sample, 1/(n-m) sum_{t=m+1..n} |x_t - x_{t-m}|; nil when n <= m or it is 0.
    public static func seasonalNaiveScale(_ inSample: [Double], season: Int) -> Double? {
        let m = max(season, 1)
        guard inSample.count > m else { return nil }
        let scale = (m..<inSample.count).map { abs(inSample[$0] - inSample[$0 - m]) }.reduce(0, +) / Double(inSample.count - m)
        return scale > 0 ? scale : nil
    }

    /// The mean of several metrics (backtests average over origins); nil-valued entries are
    /// averaged over the origins that have them.
    public static func mean(_ all: [ForecastMetrics]) -> ForecastMetrics? {
        guard !all.isEmpty else { return nil }
        func average(_ values: [Double?]) -> Double? {
            let present = values.compactMap { $0 }
            return present.isEmpty ? nil : present.reduce(0, +) / Double(present.count)
        }
        return ForecastMetrics(
            mae: average(all.map(\.mae))!, rmse: average(all.map(\.rmse))!, mape: average(all.map(\.mape)),
            smape: average(all.map(\.smape))!, mase: average(all.map(\.mase)))
    }
}
