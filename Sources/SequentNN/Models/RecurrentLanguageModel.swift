import SequentTensor

/// A token-level recurrent language model: embedding, a recurrent layer, a linear head.
///
///     e = Embedding(tokens)          tokens (B, T) -> e (B, T, E)
///     y, state = RNN|LSTM|GRU(e)     y (B, T, H), state (L, B, H)
///     logits = y W^T + b             logits (B, T, V)
///
/// B = batch, T = time, E = embedding size, H = hidden size, L = layers, V = vocabulary.
///
/// Keys as the `LM` module of `shared/bench/torch_rnn_bench.py` (`emb`, `rnn`, `head`):
/// `emb.weight`, `rnn.weight_ih_l0`, `rnn.weight_hh_l0`, `rnn.bias_ih_l0`, `rnn.bias_hh_l0`,
/// ..., `head.weight`, `head.bias`, so a PyTorch `state_dict()` loads as it is. The layers are
/// created (and draw from the generator) in that order, as PyTorch does. The forward pass is
/// exactly the three layers, with nothing added between them (the embedding's lookup is
/// folded into the first recurrent layer's input projection, with the same results).
public final class RecurrentLanguageModel: Module {
    /// The sizes and options a model is built from: what `sequent demo` and `sequent lm
    /// train` make of their flags, passed whole to the model.
    public struct Configuration: Sendable, Equatable {
        /// The recurrent cell (`.lstm`, `.gru`, `.rnn(.tanh)`, ...).
        public var cell: RecurrentCellType
        /// V: the number of distinct tokens.
        public var vocabularySize: Int
        /// E: the width of a token vector.
        public var embeddingSize: Int
        /// H: the width of the recurrent state.
        public var hiddenSize: Int
        /// L: stacked recurrent layers.
        public var layerCount: Int
        /// The dropout between recurrent layers in training mode (as PyTorch's `dropout=`).
        public var dropout: Float

        public init(cell: RecurrentCellType, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int,
                    layerCount: Int = 1, dropout: Float = 0) {
            self.cell = cell
            self.vocabularySize = vocabularySize
            self.embeddingSize = embeddingSize
            self.hiddenSize = hiddenSize
            self.layerCount = layerCount
            self.dropout = dropout
        }
    }

    /// What the model was built from.
    public let configuration: Configuration
    /// Token vectors, (V, E); key `emb`.
    public let embedding: Embedding
    /// The recurrent layer, batch-first; key `rnn`.
    public let recurrent: RecurrentLayer
    /// The output projection to logits, (V, H); key `head`.
    public let head: Linear
    public var isTraining = true

    /// V: the number of distinct tokens.
    public var vocabularySize: Int { embedding.vocabularySize }

    /// A model initialised as PyTorch initialises `LM`: embedding N(0, 1), recurrent and
    /// head weights U(-1/sqrt(fan), 1/sqrt(fan)).
    ///
    /// - Parameters:
    ///   - configuration: the cell, V, E, H, L and the dropout between layers.
    ///   - generator: the source of the initial values.
    /// - Throws: `SequentError` for a size that is not positive or a dropout outside [0, 1).
    public init(_ configuration: Configuration, generator: inout RandomGenerator) throws {
        let c = configuration
        guard c.vocabularySize > 0, c.embeddingSize > 0 else {
            throw SequentError.invalidArgument(
                "RecurrentLanguageModel",
                "vocabulary size and embedding size must be positive, got \(c.vocabularySize) and \(c.embeddingSize)")
        }
        self.configuration = configuration
        embedding = Embedding(vocabularySize: c.vocabularySize, embeddingSize: c.embeddingSize, generator: &generator)
        recurrent = try RecurrentLayer(
            cell: c.cell, inputSize: c.embeddingSize, hiddenSize: c.hiddenSize, layerCount: c.layerCount,
            batchFirst: true, dropout: c.dropout, generator: &generator)
        head = Linear(inputSize: c.hiddenSize, outputSize: c.vocabularySize, generator: &generator)
    }

    public var submodules: [(key: String, module: any Module)] {
        [("emb", embedding), ("rnn", recurrent), ("head", head)]
    }

    /// Zeros of the recurrent state for a batch of `batchSize`.
    public func zeroState(batchSize: Int) -> RecurrentState {
        recurrent.zeroState(batchSize: batchSize)
    }

    /// Runs the model over a batch of token sequences.
    ///
    /// - Parameters:
    ///   - tokens: B * T token ids in 0..<V, row-major (B, T): sequence b is
    ///     `tokens[b*T ..< (b+1)*T]`.
    ///   - batchSize: B.
    ///   - time: T.
    ///   - state: the state after the previous tokens (default: zeros); pass
    ///     `state.detached()` to carry it across batches without backpropagating into them.
    /// - Returns: the next-token logits (B, T, V) and the state after the last step.
    /// - Throws: `SequentError` if a token is out of range, the count is not B * T, or the
    ///   state's shape does not fit.
    public func callAsFunction(
        _ tokens: [Int], batchSize: Int, time: Int, state: RecurrentState? = nil
    ) throws -> (logits: Tensor, state: RecurrentState) {
        // The embedding's vectors go straight into the first layer's input projection
        // (`RecurrentLayer.callAsFunction(tokens:shape:embedding:)`): the same values and
        // gradients as embedding then layer, without forming the (B, T, E) vectors.
        let (output, finalState) = try recurrent(tokens: tokens, shape: [batchSize, time], embedding: embedding, state: state)  // (B, T, H)
        return (head(output), finalState)  // (B, T, V)
    }

    /// A streaming stepper for generation over the current weights: `step(token:)` then
    /// `logits(into:)` give, token by token, what the model gives for a whole sequence.
    public func stepper(weightPrecision: WeightPrecision = .float32) throws -> RecurrentStepper {
        try recurrent.stepper(embedding: embedding.weight.value, head: (head.weight.value, head.bias?.value),
                              weightPrecision: weightPrecision)
    }
}
