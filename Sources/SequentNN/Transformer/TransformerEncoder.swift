import SequentTensor

/// A stack of N Transformer encoder layers with an optional final LayerNorm, PyTorch's
/// `nn.TransformerEncoder`:
///
///     x = layer_N(... layer_1(src)),   out = norm(x) when there is a final norm
///
/// src and out are (B, T, D) if `batchFirst` else (T, B, D). Every layer gets the same
/// masks. Keys: `layers.{i}.` + the layer's keys, `norm.weight`, `norm.bias`.
///
/// Unlike PyTorch, which deep-copies one layer N times (so every layer starts equal), the
/// convenience initialiser draws each layer's values afresh from the generator.
public final class TransformerEncoder: Module {
    /// The layers, applied in order; keys `layers.0`, `layers.1`, ...
    public let layers: [TransformerEncoderLayer]
    /// The final normalization; key `norm`; nil without one.
    public let norm: LayerNorm?
    public var isTraining = true

    /// A stack of the given layers.
    ///
    /// - Throws: `SequentError` when there are no layers or they differ in D or layout.
    public init(layers: [TransformerEncoderLayer], norm: LayerNorm? = nil) throws(SequentError) {
        try TransformerStack.validate("TransformerEncoder", layers, norm)
        self.layers = layers
        self.norm = norm
    }

    /// `layerCount` layers of `configuration`, each drawn from `generator` in turn, and a
    /// final LayerNorm when `finalNorm`.
    public convenience init(
        _ configuration: TransformerLayerConfiguration, layerCount: Int, finalNorm: Bool = false,
        generator: inout RandomGenerator
    ) throws(SequentError) {
        let (layers, norm): ([TransformerEncoderLayer], LayerNorm?) = try TransformerStack.make(
            "TransformerEncoder", configuration, layerCount: layerCount, finalNorm: finalNorm, generator: &generator)
        try self.init(layers: layers, norm: norm)
    }

    public var submodules: [(key: String, module: any Module)] {
        TransformerStack.submodules(layers, norm)
    }

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
        guard caches.count == layers.count else {
            throw .invalidArgument("TransformerEncoder", "expected \(layers.count) caches (one per layer), got \(caches.count)")
        }
        var x = x
        for (layer, cache) in zip(layers, caches) { x = try layer(x, cache: cache) }
        return norm.map { $0(x) } ?? x
    }

    /// One empty cache per layer, for incremental decoding.
    public func makeCaches() -> [KeyValueCache] { layers.map { _ in KeyValueCache() } }
}
