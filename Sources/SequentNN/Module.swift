import SequentTensor

/// A trainable tensor with identity: modules own parameters, optimizers update them in place.
///
/// `value` is a gradient leaf: use it in the forward pass, read `grad` after `backward()`.
public final class Parameter {
    /// The current values; a leaf of the autograd tape.
    public private(set) var value: Tensor

    /// Wraps `initial` (its values are copied into a fresh gradient leaf).
    public init(_ initial: Tensor) {
        value = initial.detached().requiringGrad()
    }

    /// The gradient accumulated since the last `zeroGradient()`, or nil.
    public var grad: Tensor? {
        get { value.grad }
        set { value.grad = newValue }
    }

    /// The shape of the parameter.
    public var shape: [Int] { value.shape }

    /// Clears the accumulated gradient.
    public func zeroGradient() { value.grad = nil }

    /// Updates the values in place without recording anything (optimizers, initialisers);
    /// `body` may change the scalars but not their count.
    public func update(_ body: (inout [Float]) -> Void) {
        value.updateScalars(body)
    }

    /// Replaces the values with `newValue` of the same shape, keeping gradient identity.
    public func assign(_ newValue: Tensor) throws {
        guard newValue.shape == value.shape else {
            throw SequentError.shapeMismatch("Parameter.assign", "expected shape \(value.shape), got \(newValue.shape)")
        }
        update { $0 = newValue.scalars }
    }
}

/// A layer or model: parameters and submodules under stable dotted names, and a mode.
///
/// The names are the checkpoint keys and match PyTorch's `state_dict()` where PyTorch has
/// the same layer (`weight`, `bias`, `weight_ih_l0`, ...). Swift properties stay camelCase;
/// each module lists its keys beside them in `localParameters` and `submodules`.
public protocol Module: AnyObject {
    /// This module's own parameters with their keys, in a fixed order.
    var localParameters: [(key: String, parameter: Parameter)] { get }
    /// Direct submodules with their keys, in a fixed order.
    var submodules: [(key: String, module: any Module)] { get }
    /// Whether the module is in training mode (dropout active) or evaluation mode.
    var isTraining: Bool { get set }
}

extension Module {
    public var localParameters: [(key: String, parameter: Parameter)] { [] }
    public var submodules: [(key: String, module: any Module)] { [] }

    /// Every parameter of this module and its submodules under its dotted key.
    public func namedParameters() -> [(key: String, parameter: Parameter)] {
        var result = localParameters
        for (prefix, child) in submodules {
            result += child.namedParameters().map { (key: "\(prefix).\($0.key)", parameter: $0.parameter) }
        }
        return result
    }

    /// Every parameter, in the order of `namedParameters()`.
    public func parameters() -> [Parameter] { namedParameters().map(\.parameter) }

    /// The total number of trainable scalars.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.value.count } }

    /// Switches this module and all submodules to training (true) or evaluation (false) mode.
    public func setTraining(_ training: Bool) {
        isTraining = training
        for (_, child) in submodules { child.setTraining(training) }
    }

    /// Clears every parameter's gradient.
    public func zeroGradients() {
        for parameter in parameters() { parameter.zeroGradient() }
    }

    /// The parameter values by key (PyTorch's `state_dict()`).
    public func stateDictionary() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: namedParameters().map { ($0.key, $0.parameter.value.detached()) })
    }

    /// Loads values by key; every key must be present with the right shape and no key may
    /// be left over, or nothing is changed and the error names the key.
    public func loadStateDictionary(_ state: [String: Tensor]) throws {
        let named = namedParameters()
        for (key, parameter) in named {
            guard let value = state[key] else {
                throw SequentError(.invalidArgument, "loadStateDictionary: missing tensor '\(key)'")
            }
            guard value.shape == parameter.shape else {
                throw SequentError.shapeMismatch("loadStateDictionary", "tensor '\(key)' has shape \(value.shape), the model expects \(parameter.shape)")
            }
        }
        let known = Set(named.map(\.key))
        if let extra = state.keys.sorted().first(where: { !known.contains($0) }) {
            throw SequentError(.invalidArgument, "loadStateDictionary: unexpected tensor '\(extra)'")
        }
        for (key, parameter) in named { try parameter.assign(state[key]!) }
    }
}

/// A module that draws random numbers while it runs (dropout masks). Checkpoints save and
/// restore its generator, so a resumed run repeats the uninterrupted one bitwise.
public protocol StochasticModule: Module {
    /// The generator the module draws from.
    var generator: RandomGenerator { get set }
}
