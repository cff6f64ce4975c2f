import SequentTensor

/// A Transformer encoder over texts of different lengths, the encoder of a Transformer
/// `TextClassifier`: learned positions added to the token vectors, pre-norm encoder layers
/// (GELU, no dropout inside: the classifier drops its token vectors and its pooled vector)
/// that attend only to each text's real tokens, a final LayerNorm, and outputs set to zero
/// past each text's length (as the recurrent encoder's are, so that every pooling reads
/// real tokens only).
///
///     x = vectors + pos(0..<T)                          (B, T, D)
///     h = norm(layer_L(... layer_1(x, padding)))        (B, T, D)
///     h[b, t] = 0 for t >= lengths[b]
///
/// Keys: `pos.weight` (maxLength, D), `layers.{i}.` + `TransformerEncoderLayer`'s keys,
/// `norm.weight`, `norm.bias`.
public final class TransformerTextEncoder: Module {
    /// The position vectors; key `pos`.
    public let positions: LearnedPositionalEmbedding
    /// The layers and the final norm (keys `layers.{i}`, `norm`).
    public let encoder: TransformerEncoder
    public var isTraining = true

    /// D.
    public var width: Int { positions.width }
    /// The longest text the positions cover.
    public var maxLength: Int { positions.maxLength }

    /// An encoder of `layerCount` layers, `width` wide with `headCount` heads and a
    /// feed-forward layer of `feedForwardSize`, for texts of at most `maxLength` tokens.
    ///
    /// - Throws: `SequentError` when a size is not positive or `headCount` does not divide `width`.
    public init(width: Int, headCount: Int, feedForwardSize: Int, layerCount: Int, maxLength: Int,
                generator: inout RandomGenerator) throws {
        guard maxLength >= 1, layerCount >= 1 else {
            throw SequentError.invalidArgument("TransformerTextEncoder", "needs at least 1 layer and 1 position; got \(layerCount) layers, maxLength \(maxLength)")
        }
        positions = LearnedPositionalEmbedding(maxLength: maxLength, width: width, generator: &generator)
        // N(0, 1) positions would drown token vectors of the same scale; GPT-2 draws them at 0.02.
        try positions.weight.assign(positions.weight.value * 0.02)
        let layer = TransformerLayerConfiguration(
            dModel: width, headCount: headCount, dimFeedforward: feedForwardSize, dropout: 0, activation: .gelu,
            batchFirst: true, normFirst: true)
        encoder = try TransformerEncoder(layer, layerCount: layerCount, finalNorm: true, generator: &generator)
    }

    public var submodules: [(key: String, module: any Module)] {
        [("pos", positions)] + encoder.submodules
    }

    /// The encoded texts.
    ///
    /// - Parameters:
    ///   - vectors: the token vectors, (B, T, D).
    ///   - lengths: each text's token count, in 1...T; T must not exceed `maxLength`.
    /// - Returns: (B, T, D), zero past each length.
    /// - Throws: `SequentError` when the shapes or lengths do not fit.
    public func callAsFunction(_ vectors: Tensor, lengths: [Int]) throws -> Tensor {
        guard vectors.rank == 3, vectors.shape[2] == width, lengths.count == vectors.shape[0] else {
            throw SequentError.shapeMismatch("TransformerTextEncoder", "vectors \(vectors.shape) must be (B, T, \(width)) with one length per text (got \(lengths.count))")
        }
        let (B, T) = (vectors.shape[0], vectors.shape[1])
        var padding = [Float](repeating: 0, count: B * T)
        var real = [Float](repeating: 0, count: B * T)
        for b in 0..<B {
            guard (1...T).contains(lengths[b]) else {
                throw SequentError.invalidArgument("TransformerTextEncoder", "length \(lengths[b]) of text \(b) is not in 1...\(T)")
            }
            for t in 0..<T { if t < lengths[b] { real[b * T + t] = 1 } else { padding[b * T + t] = 1 } }
        }
        let x = vectors + (try positions(positions: 0..<T))
        let h = try encoder(x, keyPaddingMask: Tensor(shape: [B, T], scalars: padding))
        return h * Tensor(shape: [B, T, 1], scalars: real)
    }
}
