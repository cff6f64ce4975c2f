import Foundation
import SequentTensor

/// A wall-clock budget for a whole training command (`--time-limit`): counted from when the
/// command started (data loading included), with a share kept back for the work after
/// `fit` (the final evaluation, the report), so the command ends within it.
///
/// The `Trainer` stops cleanly (evaluation, checkpoint) at the first step that ends past
/// `deadline` (`TrainerConfiguration.timeLimit`); a task that wants its learning-rate
/// schedule to end with the budget asks `fittedSteps` how many steps fit, after timing a few
/// (`Trainer.secondsPerStep`).
///
///     limit = seconds,  margin = min(10 s, 5 % of seconds)
///     deadline = start + seconds - reserved - margin
///     fitted steps = (deadline - now - evaluations) / seconds per step
public struct TimeLimit: Sendable {
    /// The budget in seconds, > 0.
    public let seconds: Double
    /// `MetricsClock.monotonicSeconds` when the budget started counting.
    public let start: Double
    /// Seconds kept for the work after training (its final evaluation, its report).
    public var reservedSeconds: Double

    /// A budget of `seconds` that started at `start` (default: now on the system clock).
    ///
    /// - Throws: `SequentError.invalidArgument` for a budget that is not finite and positive.
    public init(seconds: Double, start: Double = MetricsClock.system.monotonicSeconds(), reservedSeconds: Double = 0) throws {
        guard seconds.isFinite, seconds > 0 else {
            throw SequentError.invalidArgument("--time-limit", "must be a positive duration; got \(seconds) s")
        }
        (self.seconds, self.start, self.reservedSeconds) = (seconds, start, max(0, reservedSeconds))
    }

    /// The slack kept for what cannot be estimated (the last step's overrun, writing the
    /// model): min(10 s, 5 %), so short limits still train.
    public var margin: Double { min(10, 0.05 * seconds) }

    /// The monotonic time at which training should stop.
    public var deadline: Double { start + seconds - reservedSeconds - margin }

    /// Whether training should stop at monotonic time `now`.
    public func isReached(at now: Double) -> Bool { now >= deadline }

    /// Seconds of training left at `now` (negative once past the deadline).
    public func remaining(at now: Double) -> Double { deadline - now }

    /// An equal share of what is left at `now` for one of `parts` runs done one after the
    /// other (an ensemble's members): the first gets 1/parts of it, the next 1/(parts - 1)
    /// of what is then left, and so on.
    public func share(of parts: Int, at now: Double) -> TimeLimit {
        let left = max(remaining(at: now), 0) / Double(max(parts, 1))
        // A share already spent is still a valid (immediately reached) limit.
        return (try? TimeLimit(seconds: max(left, 1e-3), start: now)) ?? self
    }

    /// How many steps of `secondsPerStep` fit between `now` and the deadline once
    /// `evaluationSeconds` (the evaluations during training) are taken off; at least 1.
    public func fittedSteps(secondsPerStep: Double, evaluationSeconds: Double = 0, at now: Double) -> Int {
        guard secondsPerStep > 0, secondsPerStep.isFinite else { return 1 }
        let available = remaining(at: now) - evaluationSeconds
        return max(1, Int(min(available / secondsPerStep, 1e9)))
    }
}
