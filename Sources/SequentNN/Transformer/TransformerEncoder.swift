import SequentTensor

/// A stack of N Transformer encoder layers with an optional final LayerNorm, PyTorch's
/// `nn.TransformerEncoder` (construction, keys and caches: `TransformerLayerStack`):
///
///     x = layer_N(... layer_1(src)),   out = norm(x) when there is a final norm
///
/// src and out are (B, T, D) if `batchFirst` else (T, B, D). Every layer gets the same
/// masks.
public typealias TransformerEncoder = TransformerLayerStack<TransformerEncoderLayer>

extension TransformerEncoderLayer: TransformerStackLayer {
    public static var stackName: String { "TransformerEncoder" }
    public static func makeCache() -> KeyValueCache { KeyValueCache() }
}

extension TransformerLayerStack where Layer == TransformerEncoderLayer {
    /// The stack over a whole sequence batch; arguments as `TransformerEncoderLayer`'s.
    public func callAsFunction(
        _ src: Tensor, mask: Tensor? = nil, keyPaddingMask: Tensor? = nil, causal: Bool = false
    ) throws(SequentError) -> Tensor {
        var x = src
        for layer in layers { x = try layer(x, mask: mask, keyPaddingMask: keyPaddingMask, causal: causal) }
        return norm.map { $0(x) } ?? x
    }

    /// The stack on n new positions of a causal sequence whose earlier positions are in
    /// `caches` (one per layer; see `TransformerEncoderLayer.callAsFunction(_:cache:)`).
    ///
    /// - Throws: `SequentError` when the shapes do not fit or the cache count is not N.
    public func callAsFunction(_ x: Tensor, caches: [KeyValueCache]) throws(SequentError) -> Tensor {
        try checkCaches(caches)
        var x = x
        for (layer, cache) in zip(layers, caches) { x = try layer(x, cache: cache) }
        return norm.map { $0(x) } ?? x
    }
}
