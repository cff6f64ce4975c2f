import Foundation
import SequentTensor

/// Rolling-origin (expanding-window) cross-validation folds over the training part of a
/// series: fold k fits on the rows before its origin and is validated on the
/// `validationLength` rows after it, the origins `step` rows apart, the latest fold ending
/// with the training part:
///
///     fold k (k = 0 ..< K):  fit on 0 ..< o_k,  validate on o_k ..< o_k + V,
///                            o_k = T - V - k * step
///
/// as Hyndman's `tsCV`, sktime's `ExpandingWindowSplitter` and statsforecast's
/// `cross_validation(n_windows: K, step_size:)` make them (Tashman 2000: averaging over
/// several origins keeps one period's idiosyncrasies from deciding). No fold reads a row
/// after the end of its validation part, and fold 0 is the single split a run without
/// folds validates on.
public struct RollingOriginFolds: Sendable, Equatable, Codable {
    /// T: the rows of the training part the folds are carved from.
    public var trainingSize: Int
    /// V: the rows each fold is validated on.
    public var validationLength: Int
    /// The rows between consecutive origins.
    public var step: Int
    /// K.
    public var count: Int

    /// - Throws: `SequentError` when the folds do not fit: fewer than one row left to fit
    ///   before the earliest origin, or a count, length or step under 1.
    public init(trainingSize: Int, validationLength: Int, step: Int, count: Int) throws {
        guard count >= 1, validationLength >= 1, step >= 1 else {
            throw SequentError.invalidArgument("--folds", "needs at least one fold of at least one row, origins at least one row apart; got \(count) fold(s) of \(validationLength) rows, \(step) apart")
        }
        guard validationLength < trainingSize, step < trainingSize, count <= trainingSize,
              trainingSize - validationLength - (count - 1) * step >= 1 else {
            throw SequentError.invalidArgument("--folds", "\(count) folds of \(validationLength) rows, \(step) apart, leave no row to fit in a training part of \(trainingSize) rows")
        }
        self.trainingSize = trainingSize
        self.validationLength = validationLength
        self.step = step
        self.count = count
    }

    /// The row where fold k's validation part begins (o_k).
    public func origin(_ k: Int) -> Int { trainingSize - validationLength - k * step }

    /// The rows fold k ends at: its fitting part followed by its validation part.
    public func end(_ k: Int) -> Int { origin(k) + validationLength }

    /// Fold k's rows to fit on and to validate on, the latest fold first.
    public var folds: [(fitting: Range<Int>, validation: Range<Int>)] {
        (0..<count).map { k in (0..<origin(k), origin(k)..<end(k)) }
    }

    /// The widest folds that `fits` accepts: K = `count` folds if any step fits them, else
    /// fewer. The steps tried, widest first: V (folds that do not overlap, as
    /// statsforecast's examples take `step_size = h`), then, for a seasonal series with
    /// V >= the season, the multiples of the season below V (so that every fold starts at the
    /// same point of the season), else every step below V. nil when not even one fold fits
    /// (or V is not shorter than the training part).
    ///
    /// - Parameter fits: whether a fold ending at the given row leaves its models enough
    ///   rows to fit (window, differencing lag, targets).
    public static func widest(
        trainingSize: Int, validationLength: Int, count: Int, season: Int, fits: (Int) -> Bool
    ) -> RollingOriginFolds? {
        let V = validationLength
        guard V >= 1, V < trainingSize, count >= 1 else { return nil }
        let steps: [Int]
        if season > 1, V >= season {
            steps = [V] + stride(from: (V - 1) / season * season, through: season, by: -season).map { $0 }
        } else {
            steps = Array(stride(from: V, through: 1, by: -1))
        }
        for K in stride(from: count, through: 1, by: -1) {
            for step in steps {
                guard let folds = try? RollingOriginFolds(trainingSize: trainingSize, validationLength: V, step: step, count: K) else { continue }
                if (0..<K).allSatisfy({ fits(folds.end($0)) }) { return folds }
                if K == 1 { break }  // one fold: the step does not matter
            }
        }
        return nil
    }
}
