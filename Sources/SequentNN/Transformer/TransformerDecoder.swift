import SequentTensor

/// A stack of N Transformer decoder layers with an optional final LayerNorm, PyTorch's
/// `nn.TransformerDecoder` (construction, keys and caches: `TransformerLayerStack`):
///
///     x = layer_N(... layer_1(tgt, memory) ..., memory),   out = norm(x) when there is one
public typealias TransformerDecoder = TransformerLayerStack<TransformerDecoderLayer>

extension TransformerDecoderLayer: TransformerStackLayer {
    public static var stackName: String { "TransformerDecoder" }
    public static func makeCache() -> Cache { Cache() }
}

extension TransformerLayerStack where Layer == TransformerDecoderLayer {
    /// The stack over a whole target batch; arguments as `TransformerDecoderLayer`'s.
    public func callAsFunction(
        _ tgt: Tensor, memory: Tensor, targetMask: Tensor? = nil, memoryMask: Tensor? = nil,
        targetKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil,
        targetCausal: Bool = false, memoryCausal: Bool = false
    ) throws(SequentError) -> Tensor {
        var x = tgt
        for layer in layers {
            x = try layer(x, memory: memory, targetMask: targetMask, memoryMask: memoryMask,
                          targetKeyPaddingMask: targetKeyPaddingMask, memoryKeyPaddingMask: memoryKeyPaddingMask,
                          targetCausal: targetCausal, memoryCausal: memoryCausal)
        }
        return norm.map { $0(x) } ?? x
    }

    /// The stack on n new target positions whose earlier positions are in `caches` (one
    /// per layer; see `TransformerDecoderLayer.callAsFunction(_:memory:cache:...)`).
    ///
    /// - Throws: `SequentError` when the shapes do not fit or the cache count is not N.
    public func callAsFunction(
        _ tgt: Tensor, memory: Tensor, caches: [TransformerDecoderLayer.Cache], memoryKeyPaddingMask: Tensor? = nil
    ) throws(SequentError) -> Tensor {
        try checkCaches(caches)
        var x = tgt
        for (layer, cache) in zip(layers, caches) {
            x = try layer(x, memory: memory, cache: cache, memoryKeyPaddingMask: memoryKeyPaddingMask)
        }
        return norm.map { $0(x) } ?? x
    }
}
