import SequentNN
import SequentTensor

/// Something that updates parameters in place from their gradients, as `torch.optim` does.
///
/// A training step is `zeroGradients()`, forward, `backward()`, `step()`. Parameters whose
/// `grad` is nil are skipped by `step()` and keep their state untouched (as in PyTorch).
///
/// The learning rate can be changed between steps, so a `LearningRateSchedule` can drive
/// it: `optimizer.learningRate = schedule.learningRate(atStep: step)`.
///
/// The per-parameter state (moments, momentum buffers, step counts) is exported and
/// imported as named tensors keyed `"<parameter key>.<slot>"` with PyTorch's slot names
/// (`fc1.weight.exp_avg`, `fc1.weight.step`, `0.momentum_buffer`), so a checkpoint resumes
/// bitwise. Hyperparameters, the learning rate included, are not part of the state: they
/// come from the initialiser and the schedule.
public protocol Optimizer: AnyObject {
    /// The parameters this optimizer updates, under the keys used in its state dictionary.
    var namedParameters: [(key: String, parameter: Parameter)] { get }

    /// The step size of the next `step()`; must be finite and non-negative (assigning
    /// anything else stops the program: initialisers throw for bad values instead).
    var learningRate: Float { get set }

    /// Updates every parameter that has a gradient, in place.
    func step()

    /// The per-parameter state as named tensors; parameters never stepped have no entries.
    func stateDictionary() -> [String: Tensor]

    /// Replaces the per-parameter state with `state`, as made by `stateDictionary()`.
    ///
    /// Every key must belong to one of this optimizer's parameters with the right shape, and
    /// each parameter has either all of its slots or none (never stepped); otherwise nothing
    /// is changed and the error names the key.
    func loadStateDictionary(_ state: [String: Tensor]) throws
}

extension Optimizer {
    /// The parameters, in the order of `namedParameters`.
    public var parameters: [Parameter] { namedParameters.map(\.parameter) }

    /// Clears every parameter's gradient (PyTorch's `zero_grad()`, which sets them to None).
    public func zeroGradients() {
        for (_, parameter) in namedParameters { parameter.zeroGradient() }
    }
}

// MARK: - Checks shared by the optimizers

/// Names unnamed parameters by position ("0", "1", ...), as PyTorch's optimizer state does.
func positionallyNamed(_ parameters: [Parameter]) -> [(key: String, parameter: Parameter)] {
    parameters.enumerated().map { (key: String($0.offset), parameter: $0.element) }
}

/// Checks that no parameter object or key appears twice.
func validateDistinct(_ named: [(key: String, parameter: Parameter)], optimizer: String) throws {
    var keys = Set<String>(), identities = Set<ObjectIdentifier>()
    for (key, parameter) in named {
        guard keys.insert(key).inserted else {
            throw SequentError.invalidArgument(optimizer, "parameter key '\(key)' appears more than once")
        }
        guard identities.insert(ObjectIdentifier(parameter)).inserted else {
            throw SequentError.invalidArgument(optimizer, "parameter '\(key)' is the same object as an earlier one; each parameter may appear only once")
        }
    }
}

/// Checks that a hyperparameter is finite and `allowed`, naming it in the error.
func requireHyperparameter(
    _ value: Float, _ name: String, of optimizer: String, _ expectation: String, _ allowed: (Float) -> Bool
) throws {
    guard value.isFinite, allowed(value) else {
        throw SequentError.invalidArgument(optimizer, "\(name) must be \(expectation), got \(value)")
    }
}

/// Checks a learning rate assigned between steps (a programming error, so it stops).
func preconditionValidLearningRate(_ value: Float, _ optimizer: String) {
    precondition(value.isFinite && value >= 0, "\(optimizer): learning rate must be finite and >= 0, got \(value)")
}

/// Checks a gradient about to be applied (set by `backward()`, or by hand).
func preconditionMatchingGradient(_ gradient: Tensor, _ key: String, _ parameter: Parameter, _ optimizer: String) {
    precondition(gradient.shape == parameter.shape,
                 "\(optimizer).step: gradient of '\(key)' has shape \(gradient.shape), the parameter \(parameter.shape)")
}

// MARK: - State dictionary layout

/// One parameter's state: slot name -> tensor (`exp_avg`, `momentum_buffer`, rank-0 `step`).
typealias ParameterSlots = [String: Tensor]

/// Flattens per-parameter slots into `"<key>.<slot>"` entries.
func flattenSlots(_ named: [(key: String, parameter: Parameter)], _ slots: [ParameterSlots?]) -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    for ((key, _), parameterSlots) in zip(named, slots) {
        for (slot, tensor) in parameterSlots ?? [:] { result["\(key).\(slot)"] = tensor }
    }
    return result
}

/// Splits `"<key>.<slot>"` entries back into per-parameter slots, checking every entry.
///
/// - Parameters:
///   - tensorSlots: slots holding a tensor of the parameter's shape.
///   - hasStep: whether a rank-0 `step` slot (a whole number >= 1) comes with them. Like
///     PyTorch's, it is a Float, exact up to 2^24 steps; beyond that the bias corrections
///     it feeds are 1 to within Double rounding.
/// - Returns: one entry per parameter; nil where the state has none of its slots.
func unflattenSlots(
    _ state: [String: Tensor], _ named: [(key: String, parameter: Parameter)],
    tensorSlots: [String], hasStep: Bool, optimizer: String
) throws -> [ParameterSlots?] {
    let operation = "\(optimizer).loadStateDictionary"
    let allSlots = tensorSlots + (hasStep ? ["step"] : [])
    var used = Set<String>()
    var result: [ParameterSlots?] = []
    for (key, parameter) in named {
        let present = allSlots.filter { state["\(key).\($0)"] != nil }
        if present.isEmpty {
            result.append(nil)
            continue
        }
        if let missing = allSlots.first(where: { !present.contains($0) }) {
            throw SequentError.invalidArgument(operation, "tensor '\(key).\(missing)' is missing (the state has \(present.map { "'\(key).\($0)'" }.joined(separator: ", ")))")
        }
        var slots: ParameterSlots = [:]
        for slot in tensorSlots {
            let tensor = state["\(key).\(slot)"]!
            guard tensor.shape == parameter.shape else {
                throw SequentError.shapeMismatch(operation, "tensor '\(key).\(slot)' has shape \(tensor.shape), parameter '\(key)' has shape \(parameter.shape)")
            }
            slots[slot] = tensor.detached()
        }
        if hasStep {
            let step = state["\(key).step"]!
            guard step.count == 1, let count = step.scalars.first, count.isFinite, count >= 1, count.rounded() == count else {
                throw SequentError(.invalidValue, "\(operation): tensor '\(key).step' must hold one whole number >= 1, got \(step)")
            }
            slots["step"] = step.detached()
        }
        allSlots.forEach { used.insert("\(key).\($0)") }
        result.append(slots)
    }
    if let extra = state.keys.sorted().first(where: { !used.contains($0) }) {
        throw SequentError.invalidArgument(operation, "unexpected tensor '\(extra)' (slots are \(allSlots.joined(separator: ", ")) after a parameter key)")
    }
    return result
}
