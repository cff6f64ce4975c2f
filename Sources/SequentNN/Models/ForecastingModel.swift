import SequentTensor

/// A window-to-forecast model: a sequence encoder reads W past steps of F features and a
/// linear head maps its last state to O outputs (the next H values at once, or the next one).
///
///     recurrent:    y, _ = RNN|LSTM|GRU(x)              x (B, W, F) -> y (B, W, Hd)
///     transformer:  y = Encoder(x W_in^T + b_in + PE)   x (B, W, F) -> y (B, W, D); PE sinusoidal
///     out = y[:, W-1, :] W_head^T + b_head              (B, O)
///
/// B = batch, W = window, F = features per step, Hd = hidden size (D for the Transformer),
/// O = outputs. Keys: `rnn.*` (PyTorch's `nn.LSTM` names) or `input.*`, `encoder.layers.{i}.*`
/// (PyTorch's `nn.TransformerEncoder`), and `head.weight`, `head.bias`.
public final class ForecastingModel: Module {
    /// The encoder family.
    public enum Architecture: String, Sendable, Codable, CaseIterable {
        case lstm, gru, rnn, transformer

        /// The recurrent cell; nil for the Transformer.
        public var cell: RecurrentCellType? {
            switch self {
            case .lstm: return .lstm
            case .gru: return .gru
            case .rnn: return .rnn(.tanh)
            case .transformer: return nil
            }
        }
    }

    public let architecture: Architecture
    public let featureCount: Int
    public let outputCount: Int
    /// The recurrent encoder; key `rnn`.
    public let recurrent: RecurrentLayer?
    /// The Transformer's input projection (F -> D); key `input`.
    public let inputProjection: Linear?
    /// The Transformer encoder; key `encoder`.
    public let encoder: TransformerEncoder?
    /// The output projection; key `head`.
    public let head: Linear
    public var isTraining = true

    /// A model with PyTorch's initialisation of each layer.
    ///
    /// - Parameters:
    ///   - architecture: the encoder.
    ///   - featureCount: F, values per time step.
    ///   - outputCount: O.
    ///   - hiddenSize: the recurrent hidden size, or the Transformer's width D (a multiple of 4: 4 heads).
    ///   - layerCount: stacked layers.
    ///   - dropout: between recurrent layers, or inside the Transformer layers.
    /// - Throws: `SequentError` for sizes that are not positive or a width the heads do not divide.
    public init(
        architecture: Architecture, featureCount: Int, outputCount: Int, hiddenSize: Int, layerCount: Int,
        dropout: Float, generator: inout RandomGenerator
    ) throws {
        guard featureCount > 0, outputCount > 0, hiddenSize > 0, layerCount > 0 else {
            throw SequentError.invalidArgument(
                "ForecastingModel", "features, outputs, hidden size and layers must be positive, got \(featureCount), \(outputCount), \(hiddenSize), \(layerCount)")
        }
        self.architecture = architecture
        self.featureCount = featureCount
        self.outputCount = outputCount
        if let cell = architecture.cell {
            recurrent = try RecurrentLayer(
                cell: cell, inputSize: featureCount, hiddenSize: hiddenSize, layerCount: layerCount, batchFirst: true,
                dropout: dropout, generator: &generator)
            inputProjection = nil
            encoder = nil
        } else {
            let heads = hiddenSize % 4 == 0 ? 4 : hiddenSize % 2 == 0 ? 2 : 1
            recurrent = nil
            inputProjection = Linear(inputSize: featureCount, outputSize: hiddenSize, generator: &generator)
            encoder = try TransformerEncoder(
                TransformerLayerConfiguration(dModel: hiddenSize, headCount: heads, dimFeedforward: 2 * hiddenSize,
                                              dropout: dropout, batchFirst: true, normFirst: true),
                layerCount: layerCount, finalNorm: true, generator: &generator)
        }
        head = Linear(inputSize: hiddenSize, outputSize: outputCount, generator: &generator)
    }

    public var submodules: [(key: String, module: any Module)] {
        if let recurrent { return [("rnn", recurrent), ("head", head)] }
        return [("input", inputProjection!), ("encoder", encoder!), ("head", head)]
    }

    /// The outputs for a batch of windows.
    ///
    /// - Parameter x: (B, W, F).
    /// - Returns: (B, O).
    /// - Throws: `SequentError` when x is not (B, W, F).
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.shape.count == 3, x.shape[2] == featureCount, x.shape[0] > 0, x.shape[1] > 0 else {
            throw SequentError.shapeMismatch("ForecastingModel", "expected windows (B, W, \(featureCount)), got \(x.shape)")
        }
        let time = x.shape[1]
        let states: Tensor  // (B, W, Hd)
        if let recurrent {
            states = try recurrent(x).output
        } else {
            let projected = inputProjection!(x)  // (B, W, D)
            let positions = PositionalEncoding.sinusoidal(positions: 0..<time, width: projected.shape[2])  // (W, D)
            states = try encoder!(projected + positions)
        }
        return head(states.select(alongAxis: 1, index: time - 1))
    }
}
