import Foundation
import SequentTensor

/// Code that runs at fixed points of `Trainer.fit`: after each step, after each evaluation,
/// after each checkpoint, and once at the end.
///
/// Every method has an empty default, so a callback implements only what it needs. A
/// callback that throws ends `fit` with that error (logs are flushed, signal handlers
/// restored). To end the run early but cleanly (with a final checkpoint), call
/// `control.requestStop()`.
public protocol TrainingCallback {
    /// After an optimizer step and its metrics were logged.
    func onStepEnd(_ report: StepReport, control: TrainingControl) throws
    /// After an evaluation and its metrics were logged (and early stopping updated).
    func onEvaluation(_ report: EvaluationReport, control: TrainingControl) throws
    /// After a checkpoint was saved and became the latest.
    func onCheckpoint(_ directory: URL, step: Int, control: TrainingControl) throws
    /// Once, when `fit` returns normally.
    func onEnd(_ result: TrainingResult) throws
}

extension TrainingCallback {
    public func onStepEnd(_ report: StepReport, control: TrainingControl) throws {}
    public func onEvaluation(_ report: EvaluationReport, control: TrainingControl) throws {}
    public func onCheckpoint(_ directory: URL, step: Int, control: TrainingControl) throws {}
    public func onEnd(_ result: TrainingResult) throws {}
}

/// A callback made of closures, for the one-off cases:
///
///     trainer.callbacks.append(ClosureCallback(onStepEnd: { report, _ in losses.append(report.loss) }))
public struct ClosureCallback: TrainingCallback {
    private let stepEnd: ((StepReport, TrainingControl) throws -> Void)?
    private let evaluation: ((EvaluationReport, TrainingControl) throws -> Void)?
    private let checkpoint: ((URL, Int, TrainingControl) throws -> Void)?
    private let end: ((TrainingResult) throws -> Void)?

    /// A callback running whichever closures are given.
    public init(
        onStepEnd: ((StepReport, TrainingControl) throws -> Void)? = nil,
        onEvaluation: ((EvaluationReport, TrainingControl) throws -> Void)? = nil,
        onCheckpoint: ((URL, Int, TrainingControl) throws -> Void)? = nil,
        onEnd: ((TrainingResult) throws -> Void)? = nil
    ) {
        self.stepEnd = onStepEnd
        self.evaluation = onEvaluation
        self.checkpoint = onCheckpoint
        self.end = onEnd
    }

    public func onStepEnd(_ report: StepReport, control: TrainingControl) throws { try stepEnd?(report, control) }
    public func onEvaluation(_ report: EvaluationReport, control: TrainingControl) throws { try evaluation?(report, control) }
    public func onCheckpoint(_ directory: URL, step: Int, control: TrainingControl) throws { try checkpoint?(directory, step, control) }
    public func onEnd(_ result: TrainingResult) throws { try end?(result) }
}

/// Lets a callback end the run after the current step, as Ctrl-C would (with a checkpoint).
public final class TrainingControl {
    /// Whether a callback asked the run to stop.
    public private(set) var isStopRequested = false

    init() {}

    /// Ends the run after the current step: it is checkpointed and `fit` returns
    /// `.stopRequested`.
    public func requestStop() { isStopRequested = true }
}

/// What one optimizer step did.
public struct StepReport: Sendable {
    /// Steps done, this one included (the first step is 1).
    public var step: Int
    /// The step the run ends at.
    public var totalSteps: Int
    /// The loss of this step's batch, before the update.
    public var loss: Float
    /// The learning rate the update used.
    public var learningRate: Float
    /// Tokens (or examples) in the batch, as the loss function counted them.
    public var tokenCount: Int
    /// `tokenCount` over the step's wall time.
    public var tokensPerSecond: Double
    /// The gradient norm before clipping, when clipping is on.
    public var gradientNorm: Float?
    /// Seconds since this `fit` began (the metrics log's `elapsed_s` also counts earlier runs).
    public var elapsedSeconds: Double
}

/// What one evaluation measured.
public struct EvaluationReport: Sendable {
    /// Steps done when it ran.
    public var step: Int
    /// The metrics the validation function returned.
    public var metrics: [String: Double]
    /// Whether the early-stopping metric improved on the best so far (false without early stopping).
    public var improved: Bool
    /// The best value of the early-stopping metric so far, nil without early stopping.
    public var bestMetric: Double?
}

/// How a `fit` ended and what it did.
public struct TrainingResult: Sendable {
    /// Why `fit` returned.
    public enum StopReason: Equatable, Sendable {
        /// `totalSteps` were done.
        case completed
        /// SIGINT or SIGTERM arrived (the signal's number); the run was checkpointed.
        case interrupted(signal: Int32)
        /// The early-stopping metric stopped improving.
        case earlyStopped
        /// A callback called `TrainingControl.requestStop()`.
        case stopRequested
        /// `TrainerConfiguration.timeLimit` was reached.
        case timeLimit
    }

    /// Why `fit` returned.
    public var reason: StopReason
    /// Steps done in total (across resumes).
    public var step: Int
    /// The step this `fit` started from (0, or the step of the checkpoint it resumed).
    public var startStep: Int
    /// The loss of each step this `fit` ran: `losses[i]` is that of step `startStep + i + 1`.
    public var losses: [Float]
    /// The last evaluation's metrics, if any ran in this `fit`.
    public var lastEvaluation: [String: Double]?
    /// The best value of the early-stopping metric, nil without early stopping.
    public var bestMetric: Double?
    /// The step at which `bestMetric` was reached.
    public var bestStep: Int?
    /// The last checkpoint saved by this `fit`, if any.
    public var lastCheckpoint: URL?

    /// Whether a signal ended the run.
    public var wasInterrupted: Bool {
        if case .interrupted = reason { return true }
        return false
    }
}
