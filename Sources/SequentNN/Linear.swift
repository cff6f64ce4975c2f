import SequentTensor

/// A fully connected layer, PyTorch's `nn.Linear`:
///
///     y = x W^T + b
///
/// x is (..., In), W is (Out, In), b is (Out), y is (..., Out).
///
/// Keys: `weight` (Out, In) and `bias` (Out). Initialisation as PyTorch
/// (`kaiming_uniform_(a: sqrt(5))`, which reduces to this): W and b ~ U(-k, k) with
/// k = 1 / sqrt(In), drawn weight first, then bias.
public final class Linear: Module {
    /// W, (Out, In); key `weight`.
    public let weight: Parameter
    /// b, (Out); key `bias`; nil when built with `bias: false`.
    public let bias: Parameter?
    /// In: the size of the last input dimension.
    public let inputSize: Int
    /// Out: the size of the last output dimension.
    public let outputSize: Int
    public var isTraining = true

    /// A linear layer initialised from `generator`.
    ///
    /// - Parameters:
    ///   - inputSize: In, the number of input features.
    ///   - outputSize: Out, the number of output features.
    ///   - bias: whether to add a learned bias.
    ///   - generator: the source of the initial values.
    public init(inputSize: Int, outputSize: Int, bias: Bool = true, generator: inout RandomGenerator) {
        precondition(inputSize >= 0 && outputSize >= 0, "Linear: sizes must be non-negative, got inputSize \(inputSize), outputSize \(outputSize)")
        self.inputSize = inputSize
        self.outputSize = outputSize
        let bound: Float = inputSize > 0 ? 1 / Float(inputSize).squareRoot() : 0
        weight = Parameter(Tensor.randomUniform([outputSize, inputSize], lower: -bound, upper: bound, using: &generator))
        self.bias = bias ? Parameter(Tensor.randomUniform([outputSize], lower: -bound, upper: bound, using: &generator)) : nil
    }

    public var localParameters: [(key: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// y = x W^T + b; x is (..., In), y is (..., Out).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.linear(x, weight: weight.value, bias: bias?.value)
    }
}
