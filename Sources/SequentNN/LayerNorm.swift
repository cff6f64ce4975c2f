import SequentTensor

/// Layer normalization (Ba, Kiros & Hinton, 2016), PyTorch's `nn.LayerNorm`:
///
///     y = (x - mean) / sqrt(var + epsilon) * weight + bias
///
/// with the mean and biased variance taken over the trailing dimensions `normalizedShape`
/// of each sample. x is (..., *normalizedShape) and y has its shape. One fused operation
/// (`Tensor.layerNorm`) computes the forward pass and keeps the row statistics for the
/// backward pass.
///
/// Keys: `weight` and `bias`, both of shape `normalizedShape`, initialised to ones and
/// zeros; neither exists when `elementwiseAffine` is false, and `bias` not when `bias` is
/// false (as PyTorch's `bias=False`).
public final class LayerNorm: Module {
    /// The trailing dimensions normalized together.
    public let normalizedShape: [Int]
    /// Added to the variance before the square root.
    public let epsilon: Float
    /// The gain, key `weight`; nil without an elementwise affine map.
    public let weight: Parameter?
    /// The shift, key `bias`; nil without an elementwise affine map or with `bias: false`.
    public let bias: Parameter?
    public var isTraining = true

    /// A layer normalization over the trailing dimensions `shape`.
    ///
    /// - Parameters:
    ///   - shape: the normalized shape, PyTorch's `normalized_shape`.
    ///   - epsilon: added to the variance.
    ///   - elementwiseAffine: whether to learn `weight` and `bias`.
    ///   - bias: whether to learn `bias` (only with `elementwiseAffine`).
    public init(shape: [Int], epsilon: Float = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
        precondition(!shape.isEmpty && shape.allSatisfy { $0 > 0 }, "LayerNorm: normalized shape must be non-empty and positive, got \(shape)")
        precondition(epsilon >= 0, "LayerNorm: epsilon must be non-negative, got \(epsilon)")
        normalizedShape = shape
        self.epsilon = epsilon
        weight = elementwiseAffine ? Parameter(Tensor.ones(shape)) : nil
        self.bias = elementwiseAffine && bias ? Parameter(Tensor.zeros(shape)) : nil
    }

    /// A layer normalization over the last dimension, of size `featureCount` (C).
    public convenience init(featureCount: Int, epsilon: Float = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
        self.init(shape: [featureCount], epsilon: epsilon, elementwiseAffine: elementwiseAffine, bias: bias)
    }

    public var localParameters: [(key: String, parameter: Parameter)] {
        (weight.map { [("weight", $0)] } ?? []) + (bias.map { [("bias", $0)] } ?? [])
    }

    /// Normalizes x, (..., *normalizedShape), over its trailing dimensions.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.layerNorm(x, normalizedShape: normalizedShape, weight: weight?.value, bias: bias?.value, epsilon: epsilon)
    }
}
