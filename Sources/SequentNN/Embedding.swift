import SequentTensor

/// A lookup table of learned vectors, PyTorch's `nn.Embedding`:
///
///     y[..., :] = W[index[...], :]
///
/// W is (V, E); indices of any shape S give y of shape S + [E].
///
/// Key: `weight` (V, E). Initialisation as PyTorch: W ~ N(0, 1).
///
/// Indices usually come from data (token ids), so a bad index is an input error: the
/// forward pass throws a `SequentError` naming the index and the vocabulary size instead
/// of stopping the program.
public final class Embedding: Module {
    /// W, (V, E); key `weight`.
    public let weight: Parameter
    /// V: the number of rows (the vocabulary size).
    public let vocabularySize: Int
    /// E: the size of each vector.
    public let embeddingSize: Int
    public var isTraining = true

    /// An embedding table initialised from `generator`.
    ///
    /// - Parameters:
    ///   - vocabularySize: V, the number of distinct indices.
    ///   - embeddingSize: E, the size of each vector.
    ///   - generator: the source of the initial values.
    public init(vocabularySize: Int, embeddingSize: Int, generator: inout RandomGenerator) {
        precondition(vocabularySize >= 0 && embeddingSize >= 0, "Embedding: sizes must be non-negative, got vocabularySize \(vocabularySize), embeddingSize \(embeddingSize)")
        self.vocabularySize = vocabularySize
        self.embeddingSize = embeddingSize
        weight = Parameter(Tensor.randomNormal([vocabularySize, embeddingSize], using: &generator))
    }

    public var localParameters: [(key: String, parameter: Parameter)] { [("weight", weight)] }

    /// The rows of W at `indices`, which are laid out row-major in `shape`; the result is
    /// shape + [E]. Gradients of repeated indices add up in W.
    ///
    /// - Throws: `SequentError` if an index is outside 0..<V or the count does not match `shape`.
    public func callAsFunction(_ indices: [Int], shape: [Int]) throws(SequentError) -> Tensor {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == indices.count else {
            throw .shapeMismatch("Embedding", "\(indices.count) indices do not fill shape \(shape)")
        }
        if let position = indices.firstIndex(where: { $0 < 0 || $0 >= vocabularySize }) {
            throw .invalidArgument("Embedding", "index \(indices[position]) at position \(position) is out of range 0..<\(vocabularySize)")
        }
        return weight.value.indexSelect(alongAxis: 0, indices: indices).reshaped(to: shape + [embeddingSize])
    }

    /// The rows of W at `indices`, as a (count, E) tensor.
    ///
    /// - Throws: `SequentError` if an index is outside 0..<V.
    public func callAsFunction(_ indices: [Int]) throws(SequentError) -> Tensor {
        try callAsFunction(indices, shape: [indices.count])
    }
}
