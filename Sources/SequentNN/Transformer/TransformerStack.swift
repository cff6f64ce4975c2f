import SequentTensor

/// What `TransformerLayerStack` needs of the layers it stacks: `TransformerEncoderLayer` and
/// `TransformerDecoderLayer`.
public protocol TransformerStackLayer: Module {
    /// What one layer keeps during incremental decoding.
    associatedtype Cache
    /// The stack's name in messages: "TransformerEncoder" or "TransformerDecoder".
    static var stackName: String { get }
    /// The layer's sizes and options.
    var configuration: TransformerLayerConfiguration { get }
    /// A layer of `configuration` with values drawn from `generator`.
    init(_ configuration: TransformerLayerConfiguration, generator: inout RandomGenerator) throws(SequentError)
    /// An empty cache for this layer.
    static func makeCache() -> Cache
}

extension TransformerStackLayer {
    /// A layer with PyTorch's arguments and defaults; see `TransformerLayerConfiguration`.
    public init(
        dModel: Int, headCount: Int, dimFeedforward: Int = 2048, dropout: Float = 0.1,
        activation: TransformerActivation = .relu, layerNormEpsilon: Float = 1e-5, batchFirst: Bool = false,
        normFirst: Bool = false, bias: Bool = true, generator: inout RandomGenerator
    ) throws(SequentError) {
        try self.init(TransformerLayerConfiguration(
            dModel: dModel, headCount: headCount, dimFeedforward: dimFeedforward, dropout: dropout, activation: activation,
            layerNormEpsilon: layerNormEpsilon, batchFirst: batchFirst, normFirst: normFirst, bias: bias),
            generator: &generator)
    }
}

/// A stack of N Transformer layers with an optional final LayerNorm: the one type behind
/// `TransformerEncoder` and `TransformerDecoder` (PyTorch's `nn.TransformerEncoder` and
/// `nn.TransformerDecoder`), whose forward passes are in their own files.
///
///     x = layer_N(... layer_1(x)),   out = norm(x) when there is a final norm
///
/// Keys: `layers.{i}.` + the layer's keys, `norm.weight`, `norm.bias`.
///
/// Unlike PyTorch, which deep-copies one layer N times (so every layer starts equal), the
/// convenience initialiser draws each layer's values afresh from the generator.
public final class TransformerLayerStack<Layer: TransformerStackLayer>: Module {
    /// The layers, applied in order; keys `layers.0`, `layers.1`, ...
    public let layers: [Layer]
    /// The final normalization; key `norm`; nil without one.
    public let norm: LayerNorm?
    public var isTraining = true

    /// A stack of the given layers.
    ///
    /// - Throws: `SequentError` when there are no layers or they differ in D or layout.
    public init(layers: [Layer], norm: LayerNorm? = nil) throws(SequentError) {
        let name = Layer.stackName
        guard let first = layers.first?.configuration else { throw .invalidArgument(name, "needs at least one layer") }
        if let other = layers.first(where: { $0.configuration.dModel != first.dModel || $0.configuration.batchFirst != first.batchFirst }) {
            throw .invalidArgument(name, "layers differ in dModel or batchFirst: \(first.dModel) and \(other.configuration.dModel)")
        }
        if let norm, norm.normalizedShape != [first.dModel] {
            throw .shapeMismatch(name, "final norm over \(norm.normalizedShape) does not fit dModel \(first.dModel)")
        }
        self.layers = layers
        self.norm = norm
    }

    /// `layerCount` layers of `configuration`, each drawn from `generator` in turn, and a
    /// final LayerNorm when `finalNorm`.
    public convenience init(
        _ configuration: TransformerLayerConfiguration, layerCount: Int, finalNorm: Bool = false,
        generator: inout RandomGenerator
    ) throws(SequentError) {
        guard layerCount >= 1 else { throw .invalidArgument(Layer.stackName, "layerCount must be at least 1, got \(layerCount)") }
        var layers: [Layer] = []
        for _ in 0..<layerCount { layers.append(try Layer(configuration, generator: &generator)) }
        try self.init(layers: layers, norm: finalNorm ? configuration.makeNorm() : nil)
    }

    public var submodules: [(key: String, module: any Module)] {
        layers.enumerated().map { ("layers.\($0.offset)", $0.element as any Module) } + (norm.map { [("norm", $0)] } ?? [])
    }

    /// One empty cache per layer, for incremental decoding.
    public func makeCaches() -> [Layer.Cache] { layers.map { _ in Layer.makeCache() } }

    /// Checks that there is one cache per layer.
    func checkCaches(_ caches: [Layer.Cache]) throws(SequentError) {
        guard caches.count == layers.count else {
            throw .invalidArgument(Layer.stackName, "expected \(layers.count) caches (one per layer), got \(caches.count)")
        }
    }
}
