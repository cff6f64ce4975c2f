import SequentTensor

/// A stack of N Transformer decoder layers with an optional final LayerNorm, PyTorch's
/// `nn.TransformerDecoder`:
///
///     x = layer_N(... layer_1(tgt, memory) ..., memory),   out = norm(x) when there is one
///
/// Keys: `layers.{i}.` + the layer's keys, `norm.weight`, `norm.bias`. As with
/// `TransformerEncoder`, each layer is drawn afresh (PyTorch copies one layer N times).
public final class TransformerDecoder: Module {
    /// The layers, applied in order; keys `layers.0`, `layers.1`, ...
    public let layers: [TransformerDecoderLayer]
    /// The final normalization; key `norm`; nil without one.
    public let norm: LayerNorm?
    public var isTraining = true

    /// A stack of the given layers.
    ///
    /// - Throws: `SequentError` when there are no layers or they differ in D or layout.
    public init(layers: [TransformerDecoderLayer], norm: LayerNorm? = nil) throws(SequentError) {
        try TransformerStack.validate("TransformerDecoder", layers, norm)
        self.layers = layers
        self.norm = norm
    }

    /// `layerCount` layers of `configuration`, each drawn from `generator` in turn, and a
    /// final LayerNorm when `finalNorm`.
    public convenience init(
        _ configuration: TransformerLayerConfiguration, layerCount: Int, finalNorm: Bool = false,
        generator: inout RandomGenerator
    ) throws(SequentError) {
        let (layers, norm): ([TransformerDecoderLayer], LayerNorm?) = try TransformerStack.make(
            "TransformerDecoder", configuration, layerCount: layerCount, finalNorm: finalNorm, generator: &generator)
        try self.init(layers: layers, norm: norm)
    }

    public var submodules: [(key: String, module: any Module)] {
        TransformerStack.submodules(layers, norm)
    }

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
        guard caches.count == layers.count else {
            throw .invalidArgument("TransformerDecoder", "expected \(layers.count) caches (one per layer), got \(caches.count)")
        }
        var x = tgt
        for (layer, cache) in zip(layers, caches) {
            x = try layer(x, memory: memory, cache: cache, memoryKeyPaddingMask: memoryKeyPaddingMask)
        }
        return norm.map { $0(x) } ?? x
    }

    /// One empty cache per layer, for incremental decoding.
    public func makeCaches() -> [TransformerDecoderLayer.Cache] { layers.map { _ in TransformerDecoderLayer.Cache() } }
}
