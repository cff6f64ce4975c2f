import Foundation
import SequentTensor

/// The learning rate as a pure function of the optimizer step, so resuming from a
/// checkpoint needs only the step number.
///
/// Steps count from 0: `learningRate(atStep: k)` is the rate for the (k+1)-th optimizer step,
/// which is what a PyTorch scheduler holds after k calls to `scheduler.step()`. Use it as
/// `optimizer.learningRate = schedule.learningRate(atStep: step)` before `optimizer.step()`.
/// Schedules compute in Double and round once to Float.
public protocol LearningRateSchedule: Sendable {
    /// The learning rate of step `step` (>= 0).
    func learningRate(atStep step: Int) -> Float
}

/// Checks a learning rate given to a schedule.
private func requireLearningRate(_ value: Float, _ name: String, of schedule: String) throws {
    guard value.isFinite, value >= 0 else {
        throw SequentError.invalidArgument(schedule, "\(name) must be finite and >= 0, got \(value)")
    }
}

/// Checks a step passed to `learningRate(atStep:)` (a programming error, so it stops).
@inline(__always)
private func preconditionValidStep(_ step: Int, _ schedule: String) {
    precondition(step >= 0, "\(schedule).learningRate(atStep:): step must be >= 0, got \(step)")
}

/// The same learning rate at every step.
///
///     lr(k) = learningRate
public struct ConstantSchedule: LearningRateSchedule {
    public let learningRate: Float

    /// - Throws: `SequentError` if `learningRate` is negative or not finite.
    public init(learningRate: Float) throws {
        try requireLearningRate(learningRate, "learning rate", of: "ConstantSchedule")
        self.learningRate = learningRate
    }

    public func learningRate(atStep step: Int) -> Float {
        preconditionValidStep(step, "ConstantSchedule")
        return learningRate
    }
}

/// Multiplies the learning rate by `gamma` every `stepSize` steps (torch `StepLR`).
///
///     lr(k) = initialLearningRate * gamma^floor(k / stepSize)
public struct StepDecay: LearningRateSchedule {
    public let initialLearningRate: Float
    public let stepSize: Int
    public let gamma: Float

    /// - Parameters:
    ///   - stepSize: steps between decays, >= 1.
    ///   - gamma: the factor of each decay, finite and >= 0 (PyTorch's default 0.1).
    /// - Throws: `SequentError` naming the first invalid argument.
    public init(initialLearningRate: Float, stepSize: Int, gamma: Float = 0.1) throws {
        try requireLearningRate(initialLearningRate, "initial learning rate", of: "StepDecay")
        guard stepSize >= 1 else { throw SequentError.invalidArgument("StepDecay", "stepSize must be >= 1, got \(stepSize)") }
        guard gamma.isFinite, gamma >= 0 else { throw SequentError.invalidArgument("StepDecay", "gamma must be finite and >= 0, got \(gamma)") }
        self.initialLearningRate = initialLearningRate
        self.stepSize = stepSize
        self.gamma = gamma
    }

    public func learningRate(atStep step: Int) -> Float {
        preconditionValidStep(step, "StepDecay")
        return Float(Double(initialLearningRate) * pow(Double(gamma), Double(step / stepSize)))
    }
}

/// Multiplies the learning rate by `gamma` every step (torch `ExponentialLR`).
///
///     lr(k) = initialLearningRate * gamma^k
public struct ExponentialDecay: LearningRateSchedule {
    public let initialLearningRate: Float
    public let gamma: Float

    /// - Parameter gamma: the factor per step, finite and >= 0.
    /// - Throws: `SequentError` naming the first invalid argument.
    public init(initialLearningRate: Float, gamma: Float) throws {
        try requireLearningRate(initialLearningRate, "initial learning rate", of: "ExponentialDecay")
        guard gamma.isFinite, gamma >= 0 else { throw SequentError.invalidArgument("ExponentialDecay", "gamma must be finite and >= 0, got \(gamma)") }
        self.initialLearningRate = initialLearningRate
        self.gamma = gamma
    }

    public func learningRate(atStep step: Int) -> Float {
        preconditionValidStep(step, "ExponentialDecay")
        return Float(Double(initialLearningRate) * pow(Double(gamma), Double(step)))
    }
}

/// Half a cosine from the initial to the minimum learning rate over `totalSteps` steps
/// (torch `CosineAnnealingLR` with `T_max = totalSteps`, `eta_min = minimumLearningRate`).
///
///     lr(k) = minimum + (initial - minimum) * (1 + cos(pi * k / totalSteps)) / 2
///
/// As in PyTorch, the formula is not clamped: past `totalSteps` the rate follows the
/// cosine back up (it is back at `initial` at 2 * totalSteps). Size `totalSteps` to the run.
public struct CosineAnnealing: LearningRateSchedule {
    public let initialLearningRate: Float
    public let totalSteps: Int
    public let minimumLearningRate: Float

    /// - Parameters:
    ///   - totalSteps: the steps from the initial to the minimum rate, >= 1.
    ///   - minimumLearningRate: the rate reached at `totalSteps`, finite and >= 0.
    /// - Throws: `SequentError` naming the first invalid argument.
    public init(initialLearningRate: Float, totalSteps: Int, minimumLearningRate: Float = 0) throws {
        try requireLearningRate(initialLearningRate, "initial learning rate", of: "CosineAnnealing")
        try requireLearningRate(minimumLearningRate, "minimum learning rate", of: "CosineAnnealing")
        guard totalSteps >= 1 else { throw SequentError.invalidArgument("CosineAnnealing", "totalSteps must be >= 1, got \(totalSteps)") }
        self.initialLearningRate = initialLearningRate
        self.totalSteps = totalSteps
        self.minimumLearningRate = minimumLearningRate
    }

    public func learningRate(atStep step: Int) -> Float {
        preconditionValidStep(step, "CosineAnnealing")
        let (initial, minimum) = (Double(initialLearningRate), Double(minimumLearningRate))
        let progress = Double.pi * Double(step) / Double(totalSteps)
        return Float(minimum + (initial - minimum) * (1 + cos(progress)) / 2)
    }
}

/// A linear ramp for `warmupSteps` steps up to the starting rate of `then`, after which
/// `then` runs from its own step 0 (torch `SequentialLR([LinearLR(start_factor,
/// end_factor: 1, total_iters: warmupSteps), then], milestones: [warmupSteps])`).
///
///     target = then.learningRate(atStep: 0)
///     lr(k)  = target * (startFactor + (1 - startFactor) * k / warmupSteps)   for k < warmupSteps
///     lr(k)  = then.learningRate(atStep: k - warmupSteps)                     otherwise
public struct LinearWarmup: LearningRateSchedule {
    public let warmupSteps: Int
    public let startFactor: Float
    public let schedule: any LearningRateSchedule

    /// - Parameters:
    ///   - warmupSteps: the length of the ramp, >= 1.
    ///   - startFactor: the fraction of the target rate at step 0, in (0, 1] as PyTorch's
    ///     `LinearLR` requires; its default is PyTorch's, 1/3.
    ///   - then: the schedule after the ramp, whose step-0 rate the ramp reaches.
    /// - Throws: `SequentError` naming the first invalid argument.
    public init(warmupSteps: Int, startFactor: Float = 1.0 / 3.0, then schedule: any LearningRateSchedule) throws {
        guard warmupSteps >= 1 else { throw SequentError.invalidArgument("LinearWarmup", "warmupSteps must be >= 1, got \(warmupSteps)") }
        guard startFactor.isFinite, startFactor > 0, startFactor <= 1 else {
            throw SequentError.invalidArgument("LinearWarmup", "startFactor must be in (0, 1], got \(startFactor)")
        }
        self.warmupSteps = warmupSteps
        self.startFactor = startFactor
        self.schedule = schedule
    }

    public func learningRate(atStep step: Int) -> Float {
        preconditionValidStep(step, "LinearWarmup")
        guard step < warmupSteps else { return schedule.learningRate(atStep: step - warmupSteps) }
        let target = Double(schedule.learningRate(atStep: 0)), start = Double(startFactor)
        return Float(target * (start + (1 - start) * Double(step) / Double(warmupSteps)))
    }
}
