import SequentTensor

/// A window-to-forecast model: a sequence encoder reads W past steps of F features and a
/// linear head maps its last state to O outputs (the next H values at once, or the next one).
///
///     recurrent:    y, _ = RNN|LSTM|GRU(x)              x (B, W, F) -> y (B, W, Hd)
///     transformer:  y = Encoder(x W_in^T + b_in + PE)   x (B, W, F) -> y (B, W, D); PE sinusoidal
///     out = y[:, W-1, :] W_head^T + b_head              (B, O)
///         + x[:, :, 0] W_hw^T + b_hw                      with the highway (LSTNet, Lai et al. 2018)
///
/// The optional highway is a linear autoregression on the window of the first feature (the
/// series itself) beside the encoder, so that the encoder models what a linear model leaves.
///
/// B = batch, W = window, F = features per step, Hd = hidden size (D for the Transformer),
/// O = outputs. Keys: `rnn.*` (PyTorch's `nn.LSTM` names) or `input.*`, `encoder.layers.{i}.*`
/// (PyTorch's `nn.TransformerEncoder`), and `head.weight`, `head.bias`, `highway.weight`,
/// `highway.bias`.
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
    /// The linear autoregression over the window of the series (W -> O); key `highway`.
    public let highway: Linear?
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
    ///   - highwayWindow: W for a highway over windows of W steps; nil for none.
    /// - Throws: `SequentError` for sizes that are not positive or a width the heads do not divide.
    public init(
        architecture: Architecture, featureCount: Int, outputCount: Int, hiddenSize: Int, layerCount: Int,
        dropout: Float, highwayWindow: Int? = nil, generator: inout RandomGenerator
    ) throws {
        guard featureCount > 0, outputCount > 0, hiddenSize > 0, layerCount > 0, (highwayWindow ?? 1) > 0 else {
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
        highway = highwayWindow.map { Linear(inputSize: $0, outputSize: outputCount, generator: &generator) }
    }

    public var submodules: [(key: String, module: any Module)] {
        let encoder: [(key: String, module: any Module)] = recurrent.map { [("rnn", $0)] } ?? [("input", inputProjection!), ("encoder", self.encoder!)]
        return encoder + [("head", head)] + (highway.map { [("highway", $0)] } ?? [])
    }

    /// The outputs for a batch of windows.
    ///
    /// - Parameter x: (B, W, F).
    /// - Returns: (B, O).
    /// - Throws: `SequentError` when x is not (B, W, F).
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.shape.count == 3, x.shape[2] == featureCount, x.shape[0] > 0, x.shape[1] > 0,
              highway.map({ x.shape[1] == $0.inputSize }) ?? true else {
            let window = highway.map { "\($0.inputSize)" } ?? "W"
            throw SequentError.shapeMismatch("ForecastingModel", "expected windows (B, \(window), \(featureCount)), got \(x.shape)")
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
        let output = head(states.select(alongAxis: 1, index: time - 1))
        guard let highway else { return output }
        return output + highway(x.select(alongAxis: 2, index: 0))  // (B, W) -> (B, O)
    }

    /// The outputs after every step of the windows, for training a recurrent model with a loss
    /// at each position, as Darts' RNNModel trains (output t reads x[:, 0...t, :] only; the
    /// last is `callAsFunction`'s):
    ///
    ///     y, _ = RNN|LSTM|GRU(x)       x (B, W, F) -> y (B, W, Hd)
    ///     out = y W_head^T + b_head    (B, W, O)
    ///
    /// - Parameter x: (B, W, F).
    /// - Returns: (B, W, O).
    /// - Throws: `SequentError` for the Transformer (whose states read the whole window), a
    ///   model with a highway (which reads the whole window), or x not (B, W, F).
    public func everyStepOutputs(_ x: Tensor) throws -> Tensor {
        guard let recurrent, highway == nil else {
            throw SequentError.invalidArgument("ForecastingModel", "outputs at every step need a recurrent encoder without a highway; this is a \(architecture.rawValue)\(highway == nil ? "" : " with a highway")")
        }
        guard x.shape.count == 3, x.shape[2] == featureCount, x.shape[0] > 0, x.shape[1] > 0 else {
            throw SequentError.shapeMismatch("ForecastingModel", "expected windows (B, W, \(featureCount)), got \(x.shape)")
        }
        return head(try recurrent(x).output)
    }

    /// The pinball (quantile) loss of quantile outputs, averaged over every element:
    ///
    ///     e = target - prediction
    ///     l = tau e            when e >= 0
    ///         (tau - 1) e      when e < 0       = tau e + relu(-e)
    ///
    /// whose minimiser over a distribution of targets is its tau-quantile (Koenker and Bassett
    /// 1978; the loss of the quantile heads of MQ-RNN, Wen et al. 2017, and of Darts'
    /// `QuantileRegression`). Built from differentiable primitives.
    ///
    /// - Parameters:
    ///   - prediction: (B, O), O = H x Q, output h * Q + q being quantile q of step h.
    ///   - target: (B, O), each step's target repeated for its Q quantiles.
    ///   - quantiles: tau_q for q = 0..<Q, each in (0, 1).
    /// - Throws: `SequentError` when the shapes differ or O is not a multiple of Q.
    public static func pinballLoss(_ prediction: Tensor, _ target: Tensor, quantiles: [Double]) throws -> Tensor {
        guard prediction.shape == target.shape, prediction.shape.count == 2, !quantiles.isEmpty,
              prediction.shape[1] % quantiles.count == 0 else {
            throw SequentError.shapeMismatch(
                "pinballLoss", "expected prediction and target (B, H x \(quantiles.count)), got \(prediction.shape) and \(target.shape)")
        }
        let (B, O) = (prediction.shape[0], prediction.shape[1])
        let tau = Tensor(shape: [B, O], scalars: (0..<(B * O)).map { Float(quantiles[$0 % O % quantiles.count]) })
        let e = target - prediction
        return (tau * e + (Float(0) - e).relu()).mean()
    }
}
