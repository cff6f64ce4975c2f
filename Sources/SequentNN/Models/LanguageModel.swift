import SequentTensor

/// The language models of `sequent lm`: a recurrent one (char-rnn: embedding, stacked
/// RNN/LSTM/GRU, dropout, linear head) or a decoder-only Transformer (GPT), behind one
/// forward pass.
///
///     recurrent:    y, state = RNN|LSTM|GRU(emb(tokens), state)     (B, T, H)
///                   logits = head(dropout(y))                        (B, T, V)
///     transformer:  logits = TransformerLanguageModel(tokens)        (B, T, V), no state
///
/// B = batch, T = time, H = hidden size, V = vocabulary. The keys are those of the wrapped
/// model (`emb.weight`, `rnn.weight_ih_l0`, ..., `head.weight`; or `emb`, `pos`, `enc`, `ln`,
/// `head`), so a PyTorch module with the same layers loads the weights as they are. The
/// recurrent model's dropout acts between the recurrent layers (PyTorch's `dropout=`) and
/// on the top layer's output before the head, as char-rnn and Zaremba et al. (2014) apply it;
/// it has no parameters.
public final class LanguageModel: Module {
    /// Which network it is.
    public enum Network {
        case recurrent(RecurrentLanguageModel)
        case transformer(TransformerLanguageModel)
    }

    /// The network.
    public let network: Network
    /// The recurrent model's dropout before the head (nil for the Transformer or p = 0).
    public let outputDropout: Dropout?
    public var isTraining = true

    /// A recurrent language model (see `RecurrentLanguageModel.init`); the configuration's
    /// dropout acts between layers and before the head.
    public init(_ configuration: RecurrentLanguageModel.Configuration, generator: inout RandomGenerator) throws {
        network = .recurrent(try RecurrentLanguageModel(configuration, generator: &generator))
        let dropout = configuration.dropout
        outputDropout = dropout > 0 ? try Dropout(probability: dropout, generator: &generator) : nil
    }

    /// A Transformer language model (see `TransformerLanguageModel.init`).
    public init(
        vocabularySize: Int, width: Int, layerCount: Int, headCount: Int, context: Int, dropout: Float,
        generator: inout RandomGenerator
    ) throws {
        network = .transformer(try TransformerLanguageModel(
            vocabularySize: vocabularySize, dModel: width, layerCount: layerCount, headCount: headCount,
            maxLength: context, dropout: dropout, generator: &generator))
        outputDropout = nil
    }

    public var submodules: [(key: String, module: any Module)] {
        switch network {
        case .recurrent(let model): return model.submodules + (outputDropout.map { [("drop", $0)] } ?? [])
        case .transformer(let model): return model.submodules
        }
    }

    /// V.
    public var vocabularySize: Int {
        switch network {
        case .recurrent(let model): return model.vocabularySize
        case .transformer(let model): return model.vocabularySize
        }
    }

    /// The longest input the model takes at once (the Transformer's positions); nil for none.
    public var maximumContext: Int? {
        if case .transformer(let model) = network { return model.maxLength }
        return nil
    }

    /// Whether the model carries a state from one batch to the next.
    public var isRecurrent: Bool {
        if case .recurrent = network { return true }
        return false
    }

    /// The next-token logits of a batch of token sequences.
    ///
    /// - Parameters:
    ///   - tokens: B * T ids, row-major (B, T).
    ///   - state: a recurrent model's state after the previous tokens (nil: zeros); pass
    ///     `detached()` states to carry them without backpropagating into earlier batches.
    ///     Ignored by the Transformer.
    /// - Returns: logits (B, T, V) and, for a recurrent model, the state after the last step.
    /// - Throws: `SequentError` for an id out of range, a count that is not B * T, a state
    ///   that does not fit, or T beyond the Transformer's context.
    public func callAsFunction(
        _ tokens: [Int], batchSize: Int, time: Int, state: RecurrentState? = nil
    ) throws -> (logits: Tensor, state: RecurrentState?) {
        switch network {
        case .recurrent(let model):
            let (output, finalState) = try model.recurrent(
                tokens: tokens, shape: [batchSize, time], embedding: model.embedding, state: state)  // (B, T, H)
            let dropped = outputDropout.map { $0(output) } ?? output
            return (model.head(dropped), finalState)  // (B, T, V)
        case .transformer(let model):
            return (try model(tokens, batchSize: batchSize, time: time), nil)
        }
    }
}
