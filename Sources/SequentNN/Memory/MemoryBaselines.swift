import SequentTensor

/// The LSTM that memory-augmented networks are compared with on the bit-sequence tasks: a
/// stacked `LSTM` over the inputs and a linear map of every step's hidden state to logits.
///
///     h_t = LSTM(x_t, h_{t-1})      y_t = W h_t + b       x is (T, B, X), y is (T, B, Y)
///
/// Keys: `lstm.*` (PyTorch's `nn.LSTM`), `output.weight`, `output.bias`.
public final class SequenceLSTM: Module {
    public let lstm: LSTM
    public let output: Linear
    public var isTraining = true
    public var submodules: [(key: String, module: any Module)] { [("lstm", lstm), ("output", output)] }

    /// - Throws: `SequentError` for sizes below 1.
    public init(inputSize: Int, hiddenSize: Int, layerCount: Int, outputSize: Int, generator: inout RandomGenerator) throws {
        lstm = try LSTM(inputSize: inputSize, hiddenSize: hiddenSize, layerCount: layerCount, generator: &generator)
        output = Linear(inputSize: hiddenSize, outputSize: outputSize, generator: &generator)
    }

    /// Logits (T, B, Y) for inputs (T, B, X).
    public func callAsFunction(_ inputs: Tensor) throws -> Tensor {
        output(try lstm(inputs).output)
    }
}

/// The LSTM that end-to-end memory networks are compared with: it reads the story's
/// statements, oldest first, and then the question, as one word sequence, and answers from
/// its last hidden state (Weston et al. 2015's LSTM baseline).
///
/// Keys: `embedding.weight`, `lstm.*`, `output.weight`, `output.bias`.
public final class StoryLSTM: Module {
    public let embedding: Embedding
    public let lstm: LSTM
    public let output: Linear
    public var isTraining = true
    public var submodules: [(key: String, module: any Module)] { [("embedding", embedding), ("lstm", lstm), ("output", output)] }

    /// - Throws: `SequentError` for sizes below 1.
    public init(vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, generator: inout RandomGenerator) throws {
        embedding = Embedding(vocabularySize: vocabularySize, embeddingSize: embeddingSize, generator: &generator)
        lstm = try LSTM(inputSize: embeddingSize, hiddenSize: hiddenSize, batchFirst: true, generator: &generator)
        output = Linear(inputSize: hiddenSize, outputSize: vocabularySize, generator: &generator)
    }

    /// Answer logits (B, V) for word ids (B, T), each row's words ending at `lengths[b]`.
    public func callAsFunction(tokens: [Int], batchSize B: Int, time T: Int, lengths: [Int]) throws -> Tensor {
        let (_, state) = try lstm(tokens: tokens, shape: [B, T], embedding: embedding, lengths: lengths)
        return output(state.hiddenState.select(alongAxis: 0, index: 0))
    }
}

extension Loss {
    /// Binary cross-entropy of logits x against targets y in [0, 1], averaged over every
    /// element (PyTorch's `F.binary_cross_entropy_with_logits`), in the stable form
    ///
    ///     l = max(x, 0) - x y + log(1 + e^{-|x|})
    ///
    /// - Throws: `SequentError` when the shapes differ.
    public static func binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor) throws(SequentError) -> Tensor {
        guard logits.shape == targets.shape else {
            throw .shapeMismatch("binaryCrossEntropyWithLogits", "logits \(logits.shape) and targets \(targets.shape) differ")
        }
        let softTail = ((logits.abs() * -1).exp() + 1).log()
        return (logits.relu() - logits * targets + softTail).mean()
    }
}
