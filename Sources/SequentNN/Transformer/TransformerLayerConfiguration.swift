import SequentTensor

// What the Transformer encoder and decoder layers share: their options, the construction of
// their sublayers, the residual connection around each, the activation of the feed-forward
// network and that network itself.
//
// B = batch, T = time (target length L or source length S), D = d_model, F = dim_feedforward.

/// The activation between the two linear maps of a Transformer feed-forward network.
public typealias TransformerActivation = Activation

/// The options of one Transformer encoder or decoder layer, PyTorch's arguments of
/// `nn.TransformerEncoderLayer` / `nn.TransformerDecoderLayer`.
public struct TransformerLayerConfiguration: Sendable, Equatable {
    /// D, the width of every position's vector (`d_model`).
    public var dModel: Int
    /// h, the attention heads (`nhead`); must divide D.
    public var headCount: Int
    /// F, the hidden width of the feed-forward network (`dim_feedforward`).
    public var dimFeedforward: Int
    /// The dropout probability on the attention weights, inside the feed-forward network and
    /// on each sublayer's output before the residual sum (`dropout`).
    public var dropout: Float
    /// The feed-forward activation (`activation`).
    public var activation: TransformerActivation
    /// The epsilon of every LayerNorm (`layer_norm_eps`).
    public var layerNormEpsilon: Float
    /// Inputs and outputs are (B, T, D) rather than (T, B, D) (`batch_first`).
    public var batchFirst: Bool
    /// Pre-norm, x + f(norm(x)), rather than post-norm, norm(x + f(x)) (`norm_first`).
    public var normFirst: Bool
    /// Whether the linear maps and LayerNorms have biases (`bias`).
    public var bias: Bool

    /// The options, with PyTorch's defaults.
    public init(
        dModel: Int, headCount: Int, dimFeedforward: Int = 2048, dropout: Float = 0.1,
        activation: TransformerActivation = .relu, layerNormEpsilon: Float = 1e-5, batchFirst: Bool = false,
        normFirst: Bool = false, bias: Bool = true
    ) {
        self.dModel = dModel
        self.headCount = headCount
        self.dimFeedforward = dimFeedforward
        self.dropout = dropout
        self.activation = activation
        self.layerNormEpsilon = layerNormEpsilon
        self.batchFirst = batchFirst
        self.normFirst = normFirst
        self.bias = bias
    }

    /// Checks the sizes and probabilities, naming the layer.
    func validate(_ op: String) throws(SequentError) {
        guard dModel > 0, headCount > 0, dimFeedforward > 0 else {
            throw .invalidArgument(op, "dModel, headCount and dimFeedforward must be positive, got \(dModel), \(headCount), \(dimFeedforward)")
        }
        guard dModel % headCount == 0 else {
            throw .invalidArgument(op, "dModel \(dModel) is not divisible by headCount \(headCount)")
        }
        guard dropout >= 0 && dropout < 1 else {
            throw .invalidArgument(op, "dropout must be in [0, 1), got \(dropout)")
        }
    }

    /// The layout of a (B, T, D) or (T, B, D) tensor, for messages.
    func layout(_ length: String) -> String {
        batchFirst ? "(B, \(length), \(dModel))" : "(\(length), B, \(dModel))"
    }

    // The sublayers' parts, built in one place for the encoder and decoder layers; each
    // layer calls them in PyTorch's order, so that the generator's draws match it.

    /// Multi-head attention over D with h heads (self- or encoder-decoder attention).
    func makeAttention(generator: inout RandomGenerator) throws(SequentError) -> MultiheadAttention {
        try MultiheadAttention(embedDim: dModel, headCount: headCount, dropout: dropout, bias: bias,
                               batchFirst: batchFirst, generator: &generator)
    }

    /// The feed-forward network's parts, drawn in this order: linear1 (D -> F), the dropout
    /// after the activation, linear2 (F -> D).
    func makeFeedForward(generator: inout RandomGenerator) throws(SequentError) -> (linear1: Linear, dropout: Dropout, linear2: Linear) {
        let linear1 = Linear(inputSize: dModel, outputSize: dimFeedforward, bias: bias, generator: &generator)
        let inner = try makeDropout(generator: &generator)
        let linear2 = Linear(inputSize: dimFeedforward, outputSize: dModel, bias: bias, generator: &generator)
        return (linear1, inner, linear2)
    }

    /// A LayerNorm over D (a sublayer's, or a stack's final one).
    func makeNorm() -> LayerNorm {
        LayerNorm(featureCount: dModel, epsilon: layerNormEpsilon, bias: bias)
    }

    /// A dropout of the layer's probability.
    func makeDropout(generator: inout RandomGenerator) throws(SequentError) -> Dropout {
        try Dropout(probability: dropout, generator: &generator)
    }

    /// One sublayer f inside its residual connection: x + f(norm(x)) when `normFirst`,
    /// norm(x + f(x)) otherwise.
    func residual(
        _ x: Tensor, _ norm: LayerNorm, _ sublayer: (Tensor) throws(SequentError) -> Tensor
    ) throws(SequentError) -> Tensor {
        normFirst ? x + (try sublayer(norm(x))) : norm(x + (try sublayer(x)))
    }

    /// Checks that `x` is a sequence batch of width D, naming the layer and the argument.
    func checkSequence(_ x: Tensor, _ name: String, _ op: String, length: String = "T") throws(SequentError) {
        guard x.rank == 3, x.shape[2] == dModel else {
            throw .shapeMismatch(op, "expected \(name) of shape \(layout(length)), got \(x.shape)")
        }
    }
}

/// The position-wise feed-forward network of a Transformer layer (its dropouts included),
///
///     FFN(x) = dropout2(linear2(dropout(activation(linear1(x)))))
///
/// x is (..., D), linear1 maps D -> F and linear2 F -> D. Dropouts are skipped when nil
/// (incremental decoding).
func transformerFeedForward(
    _ x: Tensor, linear1: Linear, activation: TransformerActivation, linear2: Linear,
    innerDropout: Dropout?, outputDropout: Dropout?
) -> Tensor {
    let out: Tensor  // (..., D)
    if let innerDropout, innerDropout.isDropping {
        out = linear2(innerDropout(activation(linear1(x))))
    } else {
        // One op, which runs the fused inference kernel when nothing records gradients.
        out = Tensor.feedForward(x, weight1: linear1.weight.value, bias1: linear1.bias?.value, activation: activation,
                                 weight2: linear2.weight.value, bias2: linear2.bias?.value)
    }
    return outputDropout.map { $0(out) } ?? out
}
