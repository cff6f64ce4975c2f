import SequentTensor

/// One layer of the Transformer decoder (Vaswani et al., 2017), PyTorch's
/// `nn.TransformerDecoderLayer`: self-attention over the target, attention to the encoder's
/// output (the memory) and a position-wise feed-forward network, each inside a residual
/// connection with layer normalization,
///
///     post-norm (normFirst false):               pre-norm (normFirst true):
///         x = norm1(x + SA(x))                       x = x + SA(norm1(x))
///         x = norm2(x + MHA(x, memory))              x = x + MHA(norm2(x), memory)
///         x = norm3(x + FFN(x))                      x = x + FFN(norm3(x))
///
/// with SA(x) = dropout1(self_attn(x, x, x)), MHA(x, m) = dropout2(multihead_attn(x, m, m)),
/// FFN(x) = dropout3(linear2(dropout(act(linear1(x))))).
///
/// tgt is (B, L, D) if `batchFirst` else (L, B, D); memory (B, S, D) or (S, B, D).
/// Masks follow Sequent's convention (nonzero = may not attend; see `Tensor+Attention.swift`).
///
/// Keys as PyTorch's `state_dict()`: `self_attn.*`, `multihead_attn.*` (each `in_proj_weight`,
/// `in_proj_bias`, `out_proj.weight`, `out_proj.bias`), `linear1.*`, `linear2.*`,
/// `norm1.*`, `norm2.*`, `norm3.*` (`weight`, `bias`).
public final class TransformerDecoderLayer: Module {
    /// The layer's options.
    public let configuration: TransformerLayerConfiguration
    /// Masked multi-head self-attention over the target; key `self_attn`.
    public let selfAttention: MultiheadAttention
    /// Encoder-decoder attention from the target to the memory; key `multihead_attn`.
    public let crossAttention: MultiheadAttention
    /// D -> F; key `linear1`.
    public let linear1: Linear
    /// F -> D; key `linear2`.
    public let linear2: Linear
    /// Around the self-attention sublayer; key `norm1`.
    public let norm1: LayerNorm
    /// Around the encoder-decoder attention sublayer; key `norm2`.
    public let norm2: LayerNorm
    /// Around the feed-forward sublayer; key `norm3`.
    public let norm3: LayerNorm
    /// Dropout after the activation, inside the feed-forward network; key `dropout`.
    public let activationDropout: Dropout
    /// Dropouts on the three sublayers' outputs; keys `dropout1`, `dropout2`, `dropout3`.
    public let dropout1: Dropout, dropout2: Dropout, dropout3: Dropout
    public var isTraining = true

    /// The keys and values one decoder layer keeps during incremental decoding.
    public final class Cache {
        /// The target's self-attention keys and values; grows by each step's positions.
        public let selfAttention = KeyValueCache()
        /// The memory's projections for the encoder-decoder attention, made at the first step.
        public let memory = KeyValueCache()

        /// An empty cache.
        public init() {}

        /// The number of target positions decoded so far.
        public var length: Int { selfAttention.length }

        /// Empties both caches (a new target sequence, or a new memory).
        public func reset() {
            selfAttention.reset()
            memory.reset()
        }
    }

    /// A layer with `configuration`, drawing its initial values and dropout generators from
    /// `generator` in PyTorch's order (self_attn, multihead_attn, linear1, linear2).
    ///
    /// - Throws: `SequentError` when a size is not positive, h does not divide D, or the
    ///   dropout is outside [0, 1).
    public init(_ configuration: TransformerLayerConfiguration, generator: inout RandomGenerator) throws(SequentError) {
        try configuration.validate("TransformerDecoderLayer")
        self.configuration = configuration
        selfAttention = try configuration.makeAttention(generator: &generator)
        crossAttention = try configuration.makeAttention(generator: &generator)
        let feedForward = try configuration.makeFeedForward(generator: &generator)
        (linear1, activationDropout, linear2) = (feedForward.linear1, feedForward.dropout, feedForward.linear2)
        (norm1, norm2, norm3) = (configuration.makeNorm(), configuration.makeNorm(), configuration.makeNorm())
        dropout1 = try configuration.makeDropout(generator: &generator)
        dropout2 = try configuration.makeDropout(generator: &generator)
        dropout3 = try configuration.makeDropout(generator: &generator)
    }

    public var submodules: [(key: String, module: any Module)] {
        [("self_attn", selfAttention), ("multihead_attn", crossAttention), ("linear1", linear1),
         ("dropout", activationDropout), ("linear2", linear2), ("norm1", norm1), ("norm2", norm2), ("norm3", norm3),
         ("dropout1", dropout1), ("dropout2", dropout2), ("dropout3", dropout3)]
    }

    /// The layer over a whole target batch.
    ///
    /// - Parameters:
    ///   - tgt: (B, L, D) if `batchFirst` else (L, B, D).
    ///   - memory: (B, S, D) or (S, B, D), the encoder's output.
    ///   - targetMask: (L, L) or (B*h, L, L), nonzero = may not attend (`tgt_mask`).
    ///   - memoryMask: (L, S) or (B*h, L, S) (`memory_mask`).
    ///   - targetKeyPaddingMask: (B, L), nonzero = padding (`tgt_key_padding_mask`).
    ///   - memoryKeyPaddingMask: (B, S), nonzero = padding (`memory_key_padding_mask`).
    ///   - targetCausal: target position i attends to target positions 0...i only
    ///     (`tgt_is_causal`, but needing no mask beside it).
    ///   - memoryCausal: target position i attends to memory positions 0...i only.
    /// - Returns: the shape of tgt.
    /// - Throws: `SequentError` when the shapes do not fit, naming them.
    public func callAsFunction(
        _ tgt: Tensor, memory: Tensor, targetMask: Tensor? = nil, memoryMask: Tensor? = nil,
        targetKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil,
        targetCausal: Bool = false, memoryCausal: Bool = false
    ) throws(SequentError) -> Tensor {
        try configuration.checkSequence(tgt, "tgt", "TransformerDecoderLayer", length: "L")
        try configuration.checkSequence(memory, "memory", "TransformerDecoderLayer", length: "S")
        return try residualBlocks(
            tgt,
            selfAttentionBlock: { (x) throws(SequentError) in
                self.dropout1(try self.selfAttention.selfAttention(x, keyPaddingMask: targetKeyPaddingMask,
                                                                   attentionMask: targetMask, causal: targetCausal))
            },
            crossAttentionBlock: { (x) throws(SequentError) in
                self.dropout2(try self.crossAttention(query: x, key: memory, value: memory, keyPaddingMask: memoryKeyPaddingMask,
                                                      attentionMask: memoryMask, causal: memoryCausal).output)
            },
            feedForward: { self.feedForward($0, dropping: true) })
    }

    /// The layer on n new target positions whose earlier positions are in `cache`
    /// (incremental decoding): equal to the rows of `self(tgt, memory: memory,
    /// targetCausal: true, ...)` on the whole target. Runs as in evaluation mode (no dropout).
    ///
    /// - Parameters:
    ///   - tgt: the new positions, (B, n, D) if `batchFirst` else (n, B, D).
    ///   - memory: (B, S, D) or (S, B, D); projected at the first step, then read from the cache.
    ///   - cache: this layer's caches for this batch; the self-attention part grows by n.
    ///   - memoryKeyPaddingMask: (B, S), nonzero = padding.
    /// - Throws: `SequentError` when the shapes do not fit the layer or the cache.
    public func callAsFunction(
        _ tgt: Tensor, memory: Tensor, cache: Cache, memoryKeyPaddingMask: Tensor? = nil
    ) throws(SequentError) -> Tensor {
        try configuration.checkSequence(tgt, "tgt", "TransformerDecoderLayer", length: "n")
        try configuration.checkSequence(memory, "memory", "TransformerDecoderLayer", length: "S")
        return try residualBlocks(
            tgt,
            selfAttentionBlock: { (x) throws(SequentError) in try self.selfAttention.selfAttention(x, cache: cache.selfAttention) },
            crossAttentionBlock: { (x) throws(SequentError) in
                try self.crossAttention.crossAttention(query: x, memory: memory, cache: cache.memory,
                                                       keyPaddingMask: memoryKeyPaddingMask)
            },
            feedForward: { self.feedForward($0, dropping: false) })
    }

    /// The three sublayers with their residual connections, pre- or post-norm.
    private func residualBlocks(
        _ tgt: Tensor, selfAttentionBlock: (Tensor) throws(SequentError) -> Tensor,
        crossAttentionBlock: (Tensor) throws(SequentError) -> Tensor, feedForward: (Tensor) -> Tensor
    ) throws(SequentError) -> Tensor {
        var x = try configuration.residual(tgt, norm1, selfAttentionBlock)
        x = try configuration.residual(x, norm2, crossAttentionBlock)
        return try configuration.residual(x, norm3, feedForward)
    }

    /// FFN(x), with the dropouts when `dropping`.
    private func feedForward(_ x: Tensor, dropping: Bool) -> Tensor {
        transformerFeedForward(x, linear1: linear1, activation: configuration.activation, linear2: linear2,
                               innerDropout: dropping ? activationDropout : nil, outputDropout: dropping ? dropout3 : nil)
    }
}
