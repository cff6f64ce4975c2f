import Foundation
import SequentNN
import SequentTensor

/// Adam (Kingma & Ba, 2015) with optional L2 weight decay added to the gradient, exactly as
/// `torch.optim.Adam`.
///
/// For each parameter p with gradient grad, at its t-th `step()` (t counts from 1, per
/// parameter; steps without a gradient do not count):
///
///     g = grad + weightDecay * p                    (coupled L2; AdamW decays p instead)
///     m = beta1 * m + (1 - beta1) * g
///     v = beta2 * v + (1 - beta2) * g * g
///     p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)
///
/// The denominator is PyTorch's: epsilon is added after the bias correction of sqrt(v).
/// State per parameter: `exp_avg` (m), `exp_avg_sq` (v) and rank-0 `step` (t). The update
/// runs as one fused pass per parameter (`OptimizerKernels.adamStep`).
public class Adam: Optimizer {
    public let namedParameters: [(key: String, parameter: Parameter)]
    public var learningRate: Float {
        didSet { preconditionValidLearningRate(learningRate, name) }
    }
    /// The decay rates (beta1, beta2) of the first and second moment averages.
    public let betas: (Float, Float)
    /// Added to the bias-corrected sqrt(v) for numerical stability.
    public let epsilon: Float
    /// The weight decay coefficient: an L2 term in the gradient (Adam) or a decay of the
    /// parameter by lr * weightDecay before the update (AdamW).
    public let weightDecay: Float
    /// Whether weight decay is decoupled from the gradient (AdamW).
    public let decouplesWeightDecay: Bool

    /// "Adam" or "AdamW", for messages.
    let name: String
    /// Per parameter, in the order of `namedParameters`: steps taken, m and v (nil until
    /// the first step).
    private var stepCounts: [Int]
    private var firstMoments: [Tensor?]
    private var secondMoments: [Tensor?]

    /// An Adam optimizer over parameters keyed by position ("0", "1", ...).
    ///
    /// - Parameters:
    ///   - learningRate: the step size, >= 0.
    ///   - betas: decay rates of the moment averages, each in [0, 1).
    ///   - epsilon: >= 0.
    ///   - weightDecay: the L2 coefficient added to the gradient, >= 0.
    /// - Throws: `SequentError` naming the first invalid hyperparameter or a repeated parameter.
    public convenience init(
        parameters: [Parameter], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
        epsilon: Float = 1e-8, weightDecay: Float = 0
    ) throws {
        try self.init(namedParameters: positionallyNamed(parameters), learningRate: learningRate, betas: betas,
                      epsilon: epsilon, weightDecay: weightDecay, decoupled: false, name: "Adam")
    }

    /// An Adam optimizer over parameters keyed by name (`model.namedParameters()`); the keys
    /// prefix the entries of `stateDictionary()`. See `init(parameters:...)` for the rest.
    public convenience init(
        namedParameters: [(key: String, parameter: Parameter)], learningRate: Float = 1e-3,
        betas: (Float, Float) = (0.9, 0.999), epsilon: Float = 1e-8, weightDecay: Float = 0
    ) throws {
        try self.init(namedParameters: namedParameters, learningRate: learningRate, betas: betas,
                      epsilon: epsilon, weightDecay: weightDecay, decoupled: false, name: "Adam")
    }

    init(
        namedParameters: [(key: String, parameter: Parameter)], learningRate: Float, betas: (Float, Float),
        epsilon: Float, weightDecay: Float, decoupled: Bool, name: String
    ) throws {
        try requireHyperparameter(learningRate, "learning rate", of: name, ">= 0") { $0 >= 0 }
        try requireHyperparameter(betas.0, "beta1", of: name, "in [0, 1)") { $0 >= 0 && $0 < 1 }
        try requireHyperparameter(betas.1, "beta2", of: name, "in [0, 1)") { $0 >= 0 && $0 < 1 }
        try requireHyperparameter(epsilon, "epsilon", of: name, ">= 0") { $0 >= 0 }
        try requireHyperparameter(weightDecay, "weight decay", of: name, ">= 0") { $0 >= 0 }
        try validateDistinct(namedParameters, optimizer: name)
        self.namedParameters = namedParameters
        self.learningRate = learningRate
        self.betas = betas
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decouplesWeightDecay = decoupled
        self.name = name
        self.stepCounts = Array(repeating: 0, count: namedParameters.count)
        self.firstMoments = Array(repeating: nil, count: namedParameters.count)
        self.secondMoments = Array(repeating: nil, count: namedParameters.count)
    }

    public func step() {
        let (beta1, beta2) = (Double(betas.0), Double(betas.1))
        let rate = Double(learningRate)
        for (index, (key, parameter)) in namedParameters.enumerated() {
            guard let gradient = parameter.grad else { continue }
            preconditionMatchingGradient(gradient, key, parameter, name)
            stepCounts[index] += 1
            // The step-dependent scalars in Double, as PyTorch computes them in Python floats.
            let t = Double(stepCounts[index])
            let biasCorrection1 = 1 - pow(beta1, t)
            let biasCorrection2 = 1 - pow(beta2, t)
            let configuration = OptimizerKernels.AdamConfiguration(
                firstMomentWeight: Float(1 - beta1), beta2: betas.1,
                stepSize: Float(rate / biasCorrection1),
                biasCorrection2SquareRoot: Float(biasCorrection2.squareRoot()),
                epsilon: epsilon,
                coupledWeightDecay: decouplesWeightDecay ? 0 : weightDecay,
                decoupledDecayFactor: decouplesWeightDecay ? Float(1 - rate * Double(weightDecay)) : 1)
            // Move the moments out so the kernel writes them in place without a copy.
            var first = firstMoments[index] ?? Tensor.zeros(parameter.shape)
            var second = secondMoments[index] ?? Tensor.zeros(parameter.shape)
            (firstMoments[index], secondMoments[index]) = (nil, nil)
            parameter.update { values in
                OptimizerKernels.adamStep(values: &values, gradient: gradient, firstMoment: &first,
                                          secondMoment: &second, configuration: configuration)
            }
            (firstMoments[index], secondMoments[index]) = (first, second)
        }
    }

    public func stateDictionary() -> [String: Tensor] {
        let slots: [ParameterSlots?] = namedParameters.indices.map { index in
            guard let first = firstMoments[index], let second = secondMoments[index] else { return nil }
            return ["exp_avg": first, "exp_avg_sq": second, "step": Tensor(Float(stepCounts[index]))]
        }
        return flattenSlots(namedParameters, slots)
    }

    public func loadStateDictionary(_ state: [String: Tensor]) throws {
        let slots = try unflattenSlots(state, namedParameters, tensorSlots: ["exp_avg", "exp_avg_sq"], hasStep: true, optimizer: name)
        stepCounts = slots.map { $0.map { Int($0["step"]!.item) } ?? 0 }
        firstMoments = slots.map { $0?["exp_avg"] }
        secondMoments = slots.map { $0?["exp_avg_sq"] }
    }
}

/// Adam with decoupled weight decay (Loshchilov & Hutter, 2019), exactly as
/// `torch.optim.AdamW`: the parameter is first decayed, then takes the Adam step with the
/// raw gradient.
///
///     p = p * (1 - lr * weightDecay)
///     m = beta1 * m + (1 - beta1) * grad
///     v = beta2 * v + (1 - beta2) * grad * grad
///     p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)
///
/// Like PyTorch's, it is an `Adam` whose weight decay is decoupled; the state slots are
/// the same.
public final class AdamW: Adam {
    /// An AdamW optimizer over parameters keyed by position ("0", "1", ...).
    ///
    /// - Parameters:
    ///   - learningRate: the step size, >= 0.
    ///   - betas: decay rates of the moment averages, each in [0, 1).
    ///   - epsilon: >= 0.
    ///   - weightDecay: the decoupled decay coefficient, >= 0 (PyTorch's default 0.01).
    /// - Throws: `SequentError` naming the first invalid hyperparameter or a repeated parameter.
    public convenience init(
        parameters: [Parameter], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
        epsilon: Float = 1e-8, weightDecay: Float = 0.01
    ) throws {
        try self.init(namedParameters: positionallyNamed(parameters), learningRate: learningRate, betas: betas,
                      epsilon: epsilon, weightDecay: weightDecay)
    }

    /// An AdamW optimizer over parameters keyed by name (`model.namedParameters()`); the keys
    /// prefix the entries of `stateDictionary()`. See `init(parameters:...)` for the rest.
    public init(
        namedParameters: [(key: String, parameter: Parameter)], learningRate: Float = 1e-3,
        betas: (Float, Float) = (0.9, 0.999), epsilon: Float = 1e-8, weightDecay: Float = 0.01
    ) throws {
        try super.init(namedParameters: namedParameters, learningRate: learningRate, betas: betas,
                       epsilon: epsilon, weightDecay: weightDecay, decoupled: true, name: "AdamW")
    }
}
