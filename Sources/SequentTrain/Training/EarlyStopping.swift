import SequentTensor

/// Stops training when a validation metric has not improved for `patience` evaluations
/// (Keras' and Lightning's `EarlyStopping`).
///
/// An evaluation improves on the best value so far when
///
///     mode .minimize:  value < best - minDelta
///     mode .maximize:  value > best + minDelta
///
/// (the first evaluation always does). After `patience` evaluations in a row without
/// improvement, the run stops. The best value, its step and the count are part of every
/// checkpoint, so a resumed run stops where the uninterrupted one would.
public struct EarlyStopping: Sendable, Equatable {
    /// Whether smaller or larger values of the metric are better.
    public enum Mode: Sendable, Equatable {
        /// Smaller is better (a loss, a perplexity).
        case minimize
        /// Larger is better (an accuracy).
        case maximize
    }

    /// The name of the watched metric among those the validation function returns.
    public let metric: String
    /// Whether smaller or larger is better.
    public let mode: Mode
    /// Evaluations without improvement tolerated before stopping, >= 1.
    public let patience: Int
    /// The least change that counts as an improvement, >= 0.
    public let minDelta: Double

    /// Watches `metric`.
    ///
    /// - Throws: `SequentError` for an empty metric name, a patience below 1 or a negative or
    ///   non-finite `minDelta`.
    public init(metric: String, mode: Mode = .minimize, patience: Int, minDelta: Double = 0) throws {
        guard !metric.isEmpty else { throw SequentError.invalidArgument("EarlyStopping", "the metric name is empty") }
        guard patience >= 1 else { throw SequentError.invalidArgument("EarlyStopping", "patience must be at least 1, got \(patience)") }
        guard minDelta.isFinite, minDelta >= 0 else {
            throw SequentError.invalidArgument("EarlyStopping", "minDelta must be finite and >= 0, got \(minDelta)")
        }
        self.metric = metric
        self.mode = mode
        self.patience = patience
        self.minDelta = minDelta
    }

    /// Whether `value` improves on `best` (any finite value improves on nil; NaN never does).
    public func improves(_ value: Double, on best: Double?) -> Bool {
        guard !value.isNaN else { return false }
        guard let best else { return true }
        switch mode {
        case .minimize: return value < best - minDelta
        case .maximize: return value > best + minDelta
        }
    }
}
