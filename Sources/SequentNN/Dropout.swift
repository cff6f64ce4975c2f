import SequentTensor

/// Inverted dropout (Srivastava et al., 2014), PyTorch's `nn.Dropout`:
///
///     training:   y = x * m / (1 - p),   m_i ~ Bernoulli(1 - p)
///     evaluation: y = x
///
/// Randomness: the layer owns its generator, split at construction from the one passed
/// in, and advances it at every training-mode forward pass. A model built from the same
/// seed therefore drops the same units in the same order on every run, with no global
/// state; `generator` can be replaced to reseed. `callAsFunction(_:using:)` draws from a
/// caller's generator instead.
public final class Dropout: StochasticModule {
    /// p, the probability of zeroing each scalar, in [0, 1).
    public let probability: Float
    /// The generator the masks come from.
    public var generator: RandomGenerator
    public var isTraining = true

    /// A dropout layer with its own generator split from `generator`.
    ///
    /// - Parameters:
    ///   - probability: p in [0, 1).
    ///   - generator: advanced once to seed this layer's generator.
    /// - Throws: `SequentError` when p is outside [0, 1).
    public init(probability: Float, generator: inout RandomGenerator) throws(SequentError) {
        guard probability >= 0 && probability < 1 else {
            throw .invalidArgument("Dropout", "probability must be in [0, 1), got \(probability)")
        }
        self.probability = probability
        self.generator = generator.split()
    }

    /// Drops scalars of x with the layer's own generator in training mode; the identity in
    /// evaluation mode or with p = 0.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        callAsFunction(x, using: &generator)
    }

    /// Whether the layer drops anything: in training mode with p > 0; otherwise it is the
    /// identity.
    public var isDropping: Bool { isTraining && probability > 0 }

    /// Drops scalars of x with masks from `generator` in training mode; the identity in
    /// evaluation mode or with p = 0 (the generator is then not advanced).
    public func callAsFunction(_ x: Tensor, using generator: inout RandomGenerator) -> Tensor {
        guard isDropping else { return x }
        return x.dropout(probability: probability, using: &generator)
    }
}
