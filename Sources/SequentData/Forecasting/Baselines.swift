import SequentTensor

/// The classical forecasts every model is measured against, each computed from the
/// in-sample values `x_1..x_n` alone (h = 1, 2, ... steps ahead):
///
///     naive           yhat_{n+h} = x_n
///     seasonal naive  yhat_{n+h} = x_{n+h-m*k}, k = ceil(h/m)      (m: the season)
///     drift           yhat_{n+h} = x_n + h (x_n - x_1) / (n - 1)
///     Holt-Winters    exponential smoothing of level, trend and season (`HoltWinters`)
public enum Baseline: String, Sendable, Codable, CaseIterable {
    case naive
    case seasonalNaive = "seasonal_naive"
    case drift
    case holtWinters = "holt_winters"

    /// The name in tables.
    public var title: String {
        switch self {
        case .naive: return "naive"
        case .seasonalNaive: return "seasonal naive"
        case .drift: return "drift"
        case .holtWinters: return "Holt-Winters"
        }
    }

    /// The next `horizon` values after `history`, with season `season`.
    ///
    /// - Throws: `SequentError` for an empty history or a horizon below 1.
    public func forecast(_ history: [Double], horizon: Int, season: Int) throws -> [Double] {
        guard !history.isEmpty, horizon >= 1 else {
            throw SequentError.invalidArgument("Baseline.\(rawValue)", "need at least one value and a horizon of at least 1, got \(history.count) and \(horizon)")
        }
        let n = history.count
        switch self {
        case .naive:
            return Array(repeating: history[n - 1], count: horizon)
        case .seasonalNaive:
            let m = max(1, min(season, n))
            return (1...horizon).map { h in history[n - m + (h - 1) % m] }
        case .drift:
            let slope = n > 1 ? (history[n - 1] - history[0]) / Double(n - 1) : 0
            return (1...horizon).map { history[n - 1] + Double($0) * slope }
        case .holtWinters:
            return try HoltWinters.fit(history, season: season).forecast(horizon)
        }
    }
}
