import Foundation
import SequentTensor

/// Holt-Winters exponential smoothing: a level, a trend and a season updated at every value,
/// additive or multiplicative in the season (Hyndman & Athanasopoulos, *Forecasting:
/// Principles and Practice*, 8.3):
///
///     additive:        l_t = a (x_t - s_{t-m}) + (1-a)(l_{t-1} + b_{t-1})
///                      b_t = b (l_t - l_{t-1}) + (1-b) b_{t-1}
///                      s_t = g (x_t - l_{t-1} - b_{t-1}) + (1-g) s_{t-m}
///                      yhat_{t+h} = l_t + h b_t + s_{t+h-m(k+1)}
///     multiplicative:  x_t - s_{t-m} becomes x_t / s_{t-m}, x_t - l - b becomes x_t / (l + b),
///                      yhat_{t+h} = (l_t + h b_t) s_{t+h-m(k+1)}
///
/// a, b, g (alpha, beta, gamma) are fitted by minimising the in-sample one-step squared error
/// (Nelder-Mead over [0, 1]^3), the states started from the first two seasons. Without a
/// season (m = 1) or with fewer than two seasons of data this is Holt's linear trend
/// method; the multiplicative form is tried only on positive series and kept when its
/// in-sample error is lower.
public struct HoltWinters: Sendable, Equatable, Codable {
    public enum Seasonality: String, Sendable, Codable { case none, additive, multiplicative }
    public var seasonality: Seasonality
    public var season: Int
    public var alpha: Double, beta: Double, gamma: Double
    /// The states after the last value.
    public var level: Double, trend: Double
    /// The last m seasonal terms, oldest first.
    public var seasonal: [Double]
    /// The in-sample one-step sum of squared errors.
    public var sse: Double

    /// Fits to `history` with season `season` (the better of additive and multiplicative).
    ///
    /// - Throws: `SequentError` for fewer than 3 values.
    public static func fit(_ history: [Double], season: Int) throws -> HoltWinters {
        guard history.count >= 3 else {
            throw SequentError.invalidArgument("HoltWinters", "need at least 3 values, got \(history.count)")
        }
        let m = season > 1 && history.count >= 2 * season ? season : 1
        var kinds: [Seasonality] = m == 1 ? [.none] : [.additive]
        if m > 1, history.allSatisfy({ $0 > 0 }) { kinds.append(.multiplicative) }
        var best: HoltWinters?
        for kind in kinds {
            let objective = { (p: [Double]) -> Double in
                run(history, m: m, kind: kind, alpha: p[0], beta: p[1], gamma: p[2]).sse
            }
            var bestParameters = [0.3, 0.05, 0.1], bestValue = Double.infinity
            for start in [[0.3, 0.05, 0.1], [0.7, 0.1, 0.3], [0.1, 0.01, 0.05]] {
                let p = NelderMead.minimize(objective, start: start, bounds: 0...1, iterations: 400)
                let value = objective(p)
                if value < bestValue { (bestParameters, bestValue) = (p, value) }
            }
            let model = run(history, m: m, kind: kind, alpha: bestParameters[0], beta: bestParameters[1], gamma: bestParameters[2])
            if best == nil || model.sse < best!.sse { best = model }
        }
        return best!
    }

    /// Runs the recursions over `x` with fixed parameters.
    static func run(_ x: [Double], m: Int, kind: Seasonality, alpha: Double, beta: Double, gamma: Double) -> HoltWinters {
        let multiplicative = kind == .multiplicative
        var level: Double, trend: Double, seasonal: [Double]
        if m > 1 {
            let first = x[0..<m].reduce(0, +) / Double(m)
            let second = x[m..<(2 * m)].reduce(0, +) / Double(m)
            level = first
            trend = (second - first) / Double(m)
            seasonal = (0..<m).map { multiplicative ? x[$0] / first : x[$0] - first }
        } else {
            level = x[0]
            trend = x[1] - x[0]
            seasonal = [multiplicative ? 1 : 0]
        }
        var sse = 0.0
        let start = m > 1 ? m : 1
        for t in start..<x.count {
            let s = seasonal[t % m]
            let predicted = multiplicative ? (level + trend) * s : level + trend + s
            sse += (x[t] - predicted) * (x[t] - predicted)
            let (previousLevel, previousTrend) = (level, trend)
            if multiplicative {
                level = alpha * (x[t] / s) + (1 - alpha) * (level + trend)
            } else {
                level = alpha * (x[t] - s) + (1 - alpha) * (level + trend)
            }
            trend = beta * (level - previousLevel) + (1 - beta) * trend
            if m > 1 {
                seasonal[t % m] = multiplicative
                    ? gamma * x[t] / (previousLevel + previousTrend) + (1 - gamma) * s
                    : gamma * (x[t] - previousLevel - previousTrend) + (1 - gamma) * s
            }
        }
        if !sse.isFinite { sse = .infinity }
        // Oldest first: position t % m for t = n, n+1, ... continues the cycle.
        let n = x.count
        let ordered = (0..<m).map { seasonal[(n + $0) % m] }
        return HoltWinters(seasonality: m > 1 ? kind : .none, season: m, alpha: alpha, beta: beta, gamma: gamma,
                           level: level, trend: trend, seasonal: ordered, sse: sse)
    }

    /// The next `horizon` values.
    public func forecast(_ horizon: Int) -> [Double] {
        (1...max(horizon, 1)).map { h in
            let s = seasonal[(h - 1) % season]
            return seasonality == .multiplicative ? (level + Double(h) * trend) * s : level + Double(h) * trend + s
        }
    }
}

/// The Nelder-Mead simplex method, for the few smooth parameters of classical models.
enum NelderMead {
    /// A minimum of `f` near `start`, every coordinate clamped to `bounds`.
    static func minimize(_ f: ([Double]) -> Double, start: [Double], bounds: ClosedRange<Double>, iterations: Int) -> [Double] {
        let d = start.count
        func clamp(_ p: [Double]) -> [Double] { p.map { min(max($0, bounds.lowerBound), bounds.upperBound) } }
        var simplex: [[Double]] = [clamp(start)]
        for i in 0..<d {
            var p = start
            p[i] += p[i] < 0.5 ? 0.1 : -0.1
            simplex.append(clamp(p))
        }
        var values = simplex.map(f)
        for _ in 0..<iterations {
            let order = values.indices.sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            if abs(values[d] - values[0]) < 1e-12 * (abs(values[0]) + 1e-12) { break }
            let centroid = (0..<d).map { j in simplex[0..<d].map { $0[j] }.reduce(0, +) / Double(d) }
            func toward(_ t: Double) -> [Double] { clamp((0..<d).map { centroid[$0] + t * (simplex[d][$0] - centroid[$0]) }) }
            let reflected = toward(-1), reflectedValue = f(reflected)
            if reflectedValue < values[0] {
                let expanded = toward(-2), expandedValue = f(expanded)
                (simplex[d], values[d]) = expandedValue < reflectedValue ? (expanded, expandedValue) : (reflected, reflectedValue)
            } else if reflectedValue < values[d - 1] {
                (simplex[d], values[d]) = (reflected, reflectedValue)
            } else {
                let contracted = toward(reflectedValue < values[d] ? -0.5 : 0.5), contractedValue = f(contracted)
                if contractedValue < min(values[d], reflectedValue) {
                    (simplex[d], values[d]) = (contracted, contractedValue)
                } else {
                    for i in 1...d {
                        simplex[i] = clamp((0..<d).map { simplex[0][$0] + 0.5 * (simplex[i][$0] - simplex[0][$0]) })
                        values[i] = f(simplex[i])
                    }
                }
            }
        }
        let best = values.indices.min { values[$0] < values[$1] }!
        return simplex[best]
    }
}
