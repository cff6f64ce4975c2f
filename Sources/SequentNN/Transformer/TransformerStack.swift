import SequentTensor

/// What `TransformerEncoder` and `TransformerDecoder` need of the layers they stack.
public protocol TransformerStackLayer: Module {
    /// The layer's sizes and options.
    var configuration: TransformerLayerConfiguration { get }
    /// A layer of `configuration` with values drawn from `generator`.
    init(_ configuration: TransformerLayerConfiguration, generator: inout RandomGenerator) throws(SequentError)
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

extension TransformerEncoderLayer: TransformerStackLayer {}
extension TransformerDecoderLayer: TransformerStackLayer {}

/// The parts the encoder and decoder stacks share: checking, building and naming N layers
/// and an optional final LayerNorm.
enum TransformerStack {
    /// Checks that there is a layer, that all agree in D and layout, and that the final norm fits.
    static func validate<Layer: TransformerStackLayer>(_ name: String, _ layers: [Layer], _ norm: LayerNorm?) throws(SequentError) {
        guard let first = layers.first else { throw .invalidArgument(name, "needs at least one layer") }
        if let other = layers.first(where: { $0.configuration.dModel != first.configuration.dModel || $0.configuration.batchFirst != first.configuration.batchFirst }) {
            throw .invalidArgument(name, "layers differ in dModel or batchFirst: \(first.configuration.dModel) and \(other.configuration.dModel)")
        }
        if let norm, norm.normalizedShape != [first.configuration.dModel] {
            throw .shapeMismatch(name, "final norm over \(norm.normalizedShape) does not fit dModel \(first.configuration.dModel)")
        }
    }

    /// `layerCount` layers of `configuration`, each drawn from `generator` in turn, and a
    /// final LayerNorm when `finalNorm`.
    static func make<Layer: TransformerStackLayer>(
        _ name: String, _ configuration: TransformerLayerConfiguration, layerCount: Int, finalNorm: Bool,
        generator: inout RandomGenerator
    ) throws(SequentError) -> (layers: [Layer], norm: LayerNorm?) {
        guard layerCount >= 1 else { throw .invalidArgument(name, "layerCount must be at least 1, got \(layerCount)") }
        var layers: [Layer] = []
        for _ in 0..<layerCount { layers.append(try Layer(configuration, generator: &generator)) }
        let norm = finalNorm ? LayerNorm(featureCount: configuration.dModel, epsilon: configuration.layerNormEpsilon, bias: configuration.bias) : nil
        return (layers, norm)
    }

    /// Keys `layers.{i}` and `norm`.
    static func submodules(_ layers: [any Module], _ norm: LayerNorm?) -> [(key: String, module: any Module)] {
        layers.enumerated().map { ("layers.\($0.offset)", $0.element) } + (norm.map { [("norm", $0)] } ?? [])
    }
}
