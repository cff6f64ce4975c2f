import SequentTensor

/// One layer of the Transformer encoder (Vaswani et al., 2017), PyTorch's
/// `nn.TransformerEncoderLayer`: self-attention and a position-wise feed-forward network,
/// each inside a residual connection with layer normalization,
///
///     post-norm (normFirst false, the paper's):
///         x = norm1(x + SA(x)),          SA(x) = dropout1(self_attn(x, x, x))
///         x = norm2(x + FFN(x)),         FFN(x) = dropout2(linear2(dropout(act(linear1(x)))))
///     pre-norm (normFirst true, GPT-2's):
///         x = x + SA(norm1(x))
///         x = x + FFN(norm2(x))
///
/// x is (B, T, D) if `batchFirst` else (T, B, D); D = d_model, F = dim_feedforward.
/// Masks follow Sequent's convention (nonzero = may not attend; see `Tensor+Attention.swift`).
///
/// Keys as PyTorch's `state_dict()`: `self_attn.in_proj_weight` (3D, D), `self_attn.in_proj_bias`,
/// `self_attn.out_proj.weight` (D, D), `self_attn.out_proj.bias`, `linear1.weight` (F, D),
/// `linear1.bias`, `linear2.weight` (D, F), `linear2.bias`, `norm1.weight`, `norm1.bias`,
/// `norm2.weight`, `norm2.bias` (no biases with `bias: false`). Initialisation as PyTorch's
/// layer: attention as `MultiheadAttention`, linear maps as `Linear`, norms ones and zeros.
public final class TransformerEncoderLayer: Module {
    /// The layer's options.
    public let configuration: TransformerLayerConfiguration
    /// Multi-head self-attention; key `self_attn`.
    public let selfAttention: MultiheadAttention
    /// D -> F; key `linear1`.
    public let linear1: Linear
    /// F -> D; key `linear2`.
    public let linear2: Linear
    /// Before (pre-norm) or after (post-norm) the attention sublayer; key `norm1`.
    public let norm1: LayerNorm
    /// Before or after the feed-forward sublayer; key `norm2`.
    public let norm2: LayerNorm
    /// Dropout after the activation, inside the feed-forward network; key `dropout`.
    public let activationDropout: Dropout
    /// Dropout on the attention sublayer's output; key `dropout1`.
    public let dropout1: Dropout
    /// Dropout on the feed-forward sublayer's output; key `dropout2`.
    public let dropout2: Dropout
    public var isTraining = true

    /// A layer with `configuration`, drawing its initial values and dropout generators from
    /// `generator` in PyTorch's order (self_attn, linear1, linear2).
    ///
    /// - Throws: `SequentError` when a size is not positive, h does not divide D, or the
    ///   dropout is outside [0, 1).
    public init(_ configuration: TransformerLayerConfiguration, generator: inout RandomGenerator) throws(SequentError) {
        try configuration.validate("TransformerEncoderLayer")
        self.configuration = configuration
        selfAttention = try configuration.makeAttention(generator: &generator)
        let feedForward = try configuration.makeFeedForward(generator: &generator)
        (linear1, activationDropout, linear2) = (feedForward.linear1, feedForward.dropout, feedForward.linear2)
        (norm1, norm2) = (configuration.makeNorm(), configuration.makeNorm())
        dropout1 = try configuration.makeDropout(generator: &generator)
        dropout2 = try configuration.makeDropout(generator: &generator)
    }

    public var submodules: [(key: String, module: any Module)] {
        [("self_attn", selfAttention), ("linear1", linear1), ("dropout", activationDropout), ("linear2", linear2),
         ("norm1", norm1), ("norm2", norm2), ("dropout1", dropout1), ("dropout2", dropout2)]
    }

    /// The layer over a whole sequence batch.
    ///
    /// - Parameters:
    ///   - src: (B, T, D) if `batchFirst` else (T, B, D).
    ///   - mask: (T, T) or (B*h, T, T), nonzero = may not attend (`src_mask`).
    ///   - keyPaddingMask: (B, T), nonzero = padding (`src_key_padding_mask`).
    ///   - causal: position i attends to positions 0...i only (combined with the masks;
    ///     unlike PyTorch's `is_causal` it needs no mask beside it).
    /// - Returns: the shape of src.
    /// - Throws: `SequentError` when the shapes do not fit, naming them.
    public func callAsFunction(
        _ src: Tensor, mask: Tensor? = nil, keyPaddingMask: Tensor? = nil, causal: Bool = false
    ) throws(SequentError) -> Tensor {
        try configuration.checkSequence(src, "src", "TransformerEncoderLayer")
        func selfAttentionBlock(_ x: Tensor) throws(SequentError) -> Tensor {
            dropout1(try selfAttention.selfAttention(x, keyPaddingMask: keyPaddingMask, attentionMask: mask, causal: causal))
        }
        return try residualBlocks(src, selfAttentionBlock, feedForward: { self.feedForward($0, dropping: true) })
    }

    /// The layer on n new positions of a causal sequence whose earlier positions are in
    /// `cache` (incremental decoding): equal to the rows of `self(x, causal: true)` on the
    /// whole sequence. Runs as in evaluation mode (no dropout).
    ///
    /// - Parameters:
    ///   - x: the new positions, (B, n, D) if `batchFirst` else (n, B, D).
    ///   - cache: this layer's self-attention keys and values; grows by n.
    /// - Throws: `SequentError` when x does not fit the layer or the cache.
    public func callAsFunction(_ x: Tensor, cache: KeyValueCache) throws(SequentError) -> Tensor {
        try configuration.checkSequence(x, "x", "TransformerEncoderLayer", length: "n")
        return try residualBlocks(x, { (x) throws(SequentError) in try self.selfAttention.selfAttention(x, cache: cache) },
                                  feedForward: { self.feedForward($0, dropping: false) })
    }

    /// The two sublayers with their residual connections, pre- or post-norm.
    private func residualBlocks(
        _ src: Tensor, _ selfAttentionBlock: (Tensor) throws(SequentError) -> Tensor, feedForward: (Tensor) -> Tensor
    ) throws(SequentError) -> Tensor {
        let x = try configuration.residual(src, norm1, selfAttentionBlock)
        return try configuration.residual(x, norm2, feedForward)
    }

    /// FFN(x), with the dropouts when `dropping`.
    private func feedForward(_ x: Tensor, dropping: Bool) -> Tensor {
        transformerFeedForward(x, linear1: linear1, activation: configuration.activation, linear2: linear2,
                               innerDropout: dropping ? activationDropout : nil, outputDropout: dropping ? dropout2 : nil)
    }
}
