import SequentNN
import SequentTensor

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight
/// decay, exactly as `torch.optim.SGD`.
///
/// For each parameter p with gradient grad, at every `step()`:
///
///     g = grad + weightDecay * p
///     b = g                                    (first step: the buffer starts as g)
///     b = momentum * b + (1 - dampening) * g   (later steps)
///     d = nesterov ? g + momentum * b : b      (d = g when momentum is 0)
///     p = p - learningRate * d
///
/// State: `momentum_buffer` (b) per parameter, present once the parameter has been stepped
/// with momentum > 0. The update runs as one fused pass per parameter
/// (`OptimizerKernels.sgdStep`).
public final class SGD: Optimizer {
    public let namedParameters: [(key: String, parameter: Parameter)]
    public var learningRate: Float {
        didSet { preconditionValidLearningRate(learningRate, "SGD") }
    }
    /// The factor applied to the buffer before adding the new gradient.
    public let momentum: Float
    /// The share of the new gradient held back from the buffer (0 keeps all of it).
    public let dampening: Float
    /// Whether to step along g + momentum * b (Sutskever et al.'s Nesterov form) instead of b.
    public let nesterov: Bool
    /// The L2 penalty coefficient added to the gradient.
    public let weightDecay: Float

    /// The momentum buffer of each parameter, in the order of `namedParameters`.
    private var momentumBuffers: [Tensor?]

    /// An SGD optimizer over parameters keyed by position ("0", "1", ...).
    ///
    /// - Parameters:
    ///   - learningRate: the step size, >= 0.
    ///   - momentum: >= 0; 0 turns the buffer off.
    ///   - dampening: applied to the gradient entering the buffer; must be 0 with `nesterov`.
    ///   - nesterov: needs momentum > 0 and dampening 0, as in PyTorch.
    ///   - weightDecay: the L2 coefficient, >= 0.
    /// - Throws: `SequentError` naming the first invalid hyperparameter or a repeated parameter.
    public convenience init(
        parameters: [Parameter], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
        nesterov: Bool = false, weightDecay: Float = 0
    ) throws {
        try self.init(namedParameters: positionallyNamed(parameters), learningRate: learningRate, momentum: momentum,
                      dampening: dampening, nesterov: nesterov, weightDecay: weightDecay)
    }

    /// An SGD optimizer over parameters keyed by name (`model.namedParameters()`); the keys
    /// prefix the entries of `stateDictionary()`. See `init(parameters:...)` for the rest.
    public init(
        namedParameters: [(key: String, parameter: Parameter)], learningRate: Float, momentum: Float = 0,
        dampening: Float = 0, nesterov: Bool = false, weightDecay: Float = 0
    ) throws {
        try requireHyperparameter(learningRate, "learning rate", of: "SGD", ">= 0") { $0 >= 0 }
        try requireHyperparameter(momentum, "momentum", of: "SGD", ">= 0") { $0 >= 0 }
        try requireHyperparameter(dampening, "dampening", of: "SGD", "finite") { _ in true }
        try requireHyperparameter(weightDecay, "weight decay", of: "SGD", ">= 0") { $0 >= 0 }
        if nesterov && (momentum <= 0 || dampening != 0) {
            throw SequentError.invalidArgument("SGD", "Nesterov momentum requires momentum > 0 and zero dampening, got momentum \(momentum), dampening \(dampening)")
        }
        try validateDistinct(namedParameters, optimizer: "SGD")
        self.namedParameters = namedParameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.momentumBuffers = Array(repeating: nil, count: namedParameters.count)
    }

    public func step() {
        let configuration = OptimizerKernels.SGDConfiguration(
            learningRate: learningRate, momentum: momentum, dampening: dampening, nesterov: nesterov,
            weightDecay: weightDecay)
        for (index, (key, parameter)) in namedParameters.enumerated() {
            guard let gradient = parameter.grad else { continue }
            preconditionMatchingGradient(gradient, key, parameter, "SGD")
            // Move the buffer out so the kernel writes it in place without a copy.
            var buffer = momentumBuffers[index]
            momentumBuffers[index] = nil
            parameter.update { values in
                OptimizerKernels.sgdStep(values: &values, gradient: gradient, momentumBuffer: &buffer, configuration: configuration)
            }
            momentumBuffers[index] = buffer
        }
    }

    public func stateDictionary() -> [String: Tensor] {
        flattenSlots(namedParameters, momentumBuffers.map { buffer in buffer.map { ["momentum_buffer": $0] } })
    }

    public func loadStateDictionary(_ state: [String: Tensor]) throws {
        let slots = try unflattenSlots(state, namedParameters, tensorSlots: ["momentum_buffer"], hasStep: false, optimizer: "SGD")
        momentumBuffers = slots.map { $0?["momentum_buffer"] }
    }
}
