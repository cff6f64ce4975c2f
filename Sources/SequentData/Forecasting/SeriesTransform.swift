import Foundation
import SequentTensor

/// The invertible map from a series y to what a model reads and predicts, fitted on the
/// training part only:
///
///     z_t = log(y_t) when `logarithm`, else y_t
///     d_t = z_t                                          none
///           z_t - z_{t-1}                                first
///           z_t - z_{t-m}                                seasonal
///           (z_t - z_{t-m}) - (z_{t-1} - z_{t-m-1})      both (Box and Jenkins' airline model)
///     u_t = (d_t - mean) / scale
///
/// scale is the root mean square of d - mean over the training part; mean is d's mean there
/// without differencing, and 0 with it, so that a differenced series' drift comes from its
/// recent values rather than from the training part's average growth. Back:
/// z_{n+h} = d_{n+h} + z_{n+h-1} + z_{n+h-m} - z_{n+h-m-1} (and so on), the earlier z from the
/// history or from the forecast's own earlier steps.
public struct SeriesTransform: Sendable, Equatable, Codable {
    /// How the series is differenced before scaling.
    public enum Differencing: String, Sendable, Codable, CaseIterable { case none, first, seasonal, both }

    public var logarithm: Bool
    public var differencing: Differencing
    /// The values the differencing consumes before its first result: 0, 1, m or m + 1.
    public var lag: Int
    /// The season m.
    public var season: Int
    public var mean: Double
    public var scale: Double

    /// Fits the mean and scale on `training` (the training part of the series only).
    ///
    /// - Throws: `SequentError` when `logarithm` meets a value <= 0, when the training part
    ///   is not longer than the lag, or when the transformed values are not finite.
    public init(fittedOn training: [Double], logarithm: Bool, differencing: Differencing, season: Int, column: String) throws {
        self.logarithm = logarithm
        self.differencing = differencing
        self.season = max(season, 1)
        switch differencing {
        case .none: lag = 0
        case .first: lag = 1
        case .seasonal: lag = max(season, 1)
        case .both: lag = max(season, 1) + 1
        }
        if logarithm, let bad = training.firstIndex(where: { !($0 > 0) }) {
            throw SequentError.invalidArgument("--transform log", "column '\(column)' has the value \(training[bad]) at row \(bad + 1); a logarithm needs positive values (use --transform none)")
        }
        guard training.count > lag + 1 else {
            throw SequentError.invalidArgument("--difference", "the training part has \(training.count) values, too few to difference at lag \(lag)")
        }
        mean = 0
        scale = 1
        let d = differenced(training)
        let m = differencing == .none ? d.reduce(0, +) / Double(d.count) : 0
        let variance = d.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(d.count)
        mean = m
        scale = variance > 0 ? variance.squareRoot() : 1
        guard mean.isFinite, scale.isFinite else {
            throw SequentError(.invalidValue, "column '\(column)': the scaled training values are not finite (mean \(mean), scale \(scale)); the values are too large or a transform overflowed")
        }
    }

    /// z: the series after the logarithm.
    public func level(_ y: [Double]) -> [Double] { logarithm ? y.map { Foundation.log($0) } : y }

    /// d over z: index i of the result is time i + lag.
    func differenced(_ y: [Double]) -> [Double] {
        let z = level(y)
        return (lag..<max(lag, z.count)).map { t in difference(z, at: t) }
    }

    /// d_t from the levels z_{t-lag}...z_t.
    private func difference(_ z: [Double], at t: Int) -> Double {
        switch differencing {
        case .none: return z[t]
        case .first: return z[t] - z[t - 1]
        case .seasonal: return z[t] - z[t - season]
        case .both: return z[t] - z[t - season] - z[t - 1] + z[t - season - 1]
        }
    }

    /// z_t from d_t and the levels before t.
    private func undifference(_ d: Double, _ z: [Double]) -> Double {
        let t = z.count
        switch differencing {
        case .none: return d
        case .first: return d + z[t - 1]
        case .seasonal: return d + z[t - season]
        case .both: return d + z[t - 1] + z[t - season] - z[t - season - 1]
        }
    }

    /// u: the model's values for `y`; index i of the result is time i + lag.
    public func forward(_ y: [Double]) -> [Double] { differenced(y).map { ($0 - mean) / scale } }

    /// The forecast in the series' units from the model's values `u` for the steps after
    /// `history` (the raw values up to the forecast origin).
    public func inverse(_ u: [Double], history: [Double]) -> [Double] {
        let forecast = inverseLevels(u, history: history)
        return logarithm ? forecast.map { Foundation.exp($0) } : forecast
    }

    /// The levels z of the forecast from `u` (before the exponential of a log).
    func inverseLevels(_ u: [Double], history: [Double]) -> [Double] {
        var z = level(history)
        let n = z.count
        for value in u {
            let d = value * scale + mean
            z.append(undifference(d, z))
        }
        return Array(z[n...])
    }

    /// The offsets v_h = (z_{n+h} - zbar_{n+h}) / scale of the levels of `actual` (the values
    /// after `history`) from the transform's naive continuation zbar (u = 0 at every step:
    /// the last level, last season's level, or the mean, as the differencing has it).
    ///
    /// z_{n+h} is linear in d_{n+1}...d_{n+h}, so v_h is a sum of u's (v_h = u_{n+h} without
    /// differencing, u_{n+1} + ... + u_{n+h} with first differences): a quantile of v_h is a
    /// quantile of the forecast h steps ahead, which a sum of quantiles of u would not be.
    public func offsets(_ actual: [Double], history: [Double]) -> [Double] {
        let naive = inverseLevels(Array(repeating: 0, count: actual.count), history: history)
        return zip(level(actual), naive).map { ($0 - $1) / scale }
    }

    /// The forecast in the series' units from offsets `v` (`offsets`) after `history`.
    public func fromOffsets(_ v: [Double], history: [Double]) -> [Double] {
        let naive = inverseLevels(Array(repeating: 0, count: v.count), history: history)
        let z = zip(v, naive).map { $0 * scale + $1 }
        return logarithm ? z.map { Foundation.exp($0) } : z
    }
}
