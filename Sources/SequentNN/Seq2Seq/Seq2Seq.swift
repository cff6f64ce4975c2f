import SequentTensor

/// A recurrent encoder-decoder for sequence-to-sequence tasks (Sutskever et al., 2014; Cho
/// et al., 2014), with the attention of Bahdanau et al. (2015) or Luong et al. (2015).
///
/// B = batch, S = source time, T = target time, E = embedding size, H = encoder hidden size
/// per direction, D = directions (2 if bidirectional), Hd = decoder hidden size, Hv = D*H
/// (an encoder state), V = target vocabulary.
///
///     encoder:  h_1..h_S, final = RNN|LSTM|GRU(SourceEmbedding(x))      h_j (B, Hv)
///     bridge:   s_0 = final top-layer state, or tanh(W_b [h->_S; h<-_1] + b_b) (see below)
///     decoder, one cell step per target token, y_0 = beginToken:
///       .none:            s_i = cell(E y_{i-1}, s_{i-1});                   o_i = s_i
///       .additive:        c_i = attend(s_{i-1}, h);  s_i = cell([E y_{i-1}; c_i], s_{i-1});
///                                                                            o_i = [s_i; c_i]
///       .multiplicative:  s_i = cell(E y_{i-1}, s_{i-1});  c_i = attend(s_i, h);
///                                                                            o_i = tanh(W_c [c_i; s_i])
///     logits_i = W_o o_i + b_o                                               (B, V)
///
/// `attend` is `EncoderDecoderAttention` (one scoring/softmax/context path for every score);
/// padded source positions get weight exactly 0. `.none` is the fixed-length-context
/// baseline: the decoder sees the source only through s_0. Bahdanau's output layer is
/// simplified to a linear map of [s_i; c_i] (no maxout, no y_{i-1} term); Luong's model is
/// the global attention without input feeding.
///
/// The bridge from encoder to decoder (the initial decoder state, from the top encoder
/// layer's final state): with one direction and H == Hd the state is passed on as it is
/// (for an LSTM both h and c). Otherwise the forward and backward final states are
/// concatenated and projected by a learned linear map, s_0 = tanh(W_b [h->_S; h<-_1] + b_b)
/// (key `bridge_hidden`), and for an LSTM c_0 = W_c' [c->_S; c<-_1] + b_c' (key
/// `bridge_cell`, no tanh: the cell state is unbounded).
///
/// The decoder is the same kind of cell as the encoder (`RNNCell`, `LSTMCell`, `GRUCell`),
/// one layer. Keys: `source_embedding`, `target_embedding`, `encoder`, `bridge_hidden`,
/// `bridge_cell`, `decoder`, `attention`, `combine` (W_c, Luong), `head` (W_o).
public final class Seq2Seq: Module {
    /// Which attention the decoder uses.
    public enum Attention: Sendable, Equatable {
        /// No attention: the fixed-length context baseline.
        case none
        /// Bahdanau's additive attention, queried with s_{i-1}, context fed to the cell.
        case additive
        /// Luong's attention, queried with s_i, attentional hidden tanh(W_c [c; s]) predicts.
        case multiplicative(MultiplicativeScore)

        /// The score of the attention, nil for `.none`.
        public var score: AlignmentScore? {
            switch self {
            case .none: return nil
            case .additive: return .additive
            case .multiplicative(let kind): return .multiplicative(kind)
            }
        }
    }

    /// Source token vectors (V_src, E); key `source_embedding`.
    public let sourceEmbedding: Embedding
    /// Target token vectors (V, E); key `target_embedding`.
    public let targetEmbedding: Embedding
    /// The encoder, batch-first; key `encoder`.
    public let encoder: RecurrentLayer
    /// W_b (Hd, Hv), b_b; nil when the final state passes unchanged; key `bridge_hidden`.
    public let hiddenBridge: Linear?
    /// The LSTM cell-state bridge (Hd, Hv); key `bridge_cell`.
    public let cellBridge: Linear?
    /// The attention; nil for `.none`; key `attention`.
    public let attentionLayer: EncoderDecoderAttention?
    /// W_c (Hd, Hv + Hd), no bias, multiplicative attention only; key `combine`.
    public let combine: Linear?
    /// W_o (V, O), b_o: the output projection; key `head`.
    public let head: Linear
    /// Which attention the decoder uses.
    public let attention: Attention
    /// y_0, the token that starts every target sequence.
    public let beginToken: Int
    /// The token that ends a target sequence; decoding stops after it.
    public let endToken: Int
    public var isTraining = true
    let decoder: DecoderCell
    /// Dropout of the source and target token vectors (training only); nil for p = 0;
    /// key `embedding_dropout` (no parameters).
    let embeddingDropout: Dropout?

    /// V_src.
    public var sourceVocabularySize: Int { sourceEmbedding.vocabularySize }
    /// V.
    public var targetVocabularySize: Int { targetEmbedding.vocabularySize }
    /// Hd.
    public let decoderHiddenSize: Int

    /// A model with the given sizes, initialised from `generator` (embeddings N(0, 1), every
    /// other weight U(-1/sqrt(fan), 1/sqrt(fan)) as PyTorch).
    ///
    /// - Parameters:
    ///   - cell: the encoder's and decoder's cell (`.lstm`, `.gru`, `.rnn(.tanh)`).
    ///   - sourceVocabularySize: V_src.
    ///   - targetVocabularySize: V, including `beginToken` and `endToken`.
    ///   - embeddingSize: E, for source and target tokens.
    ///   - hiddenSize: H, the encoder's hidden size per direction.
    ///   - decoderHiddenSize: Hd (default H).
    ///   - encoderLayerCount: stacked encoder layers.
    ///   - bidirectional: a bidirectional encoder (then Hv = 2H).
    ///   - attention: `.none`, `.additive`, `.multiplicative(.dot)` (needs Hd == Hv) or
    ///     `.multiplicative(.general)`.
    ///   - attentionSize: A, the additive score's width (default Hd).
    ///   - dropout: p in [0, 1): in training, dropout of the source and target token vectors
    ///     and between stacked encoder layers (PyTorch's `nn.GRU(dropout:)`). Its generator
    ///     is split after every weight is drawn, so the weights do not depend on p.
    ///   - beginToken, endToken: target token ids in 0..<V.
    /// - Throws: `SequentError` for sizes that are not positive, special tokens out of range,
    ///   or a dot score between states of different sizes.
    public init(
        cell: RecurrentCellType, sourceVocabularySize: Int, targetVocabularySize: Int, embeddingSize: Int,
        hiddenSize: Int, decoderHiddenSize: Int? = nil, encoderLayerCount: Int = 1, bidirectional: Bool = false,
        attention: Attention, attentionSize: Int? = nil, dropout: Float = 0, beginToken: Int, endToken: Int,
        generator: inout RandomGenerator
    ) throws {
        let op = "Seq2Seq"
        let decoderSize = decoderHiddenSize ?? hiddenSize
        guard sourceVocabularySize > 0, targetVocabularySize > 0, embeddingSize > 0, hiddenSize > 0, decoderSize > 0 else {
            throw SequentError.invalidArgument(op, "vocabulary, embedding and hidden sizes must be positive, got \(sourceVocabularySize), \(targetVocabularySize), \(embeddingSize), \(hiddenSize) and \(decoderSize)")
        }
        for (name, token) in [("begin", beginToken), ("end", endToken)] where token < 0 || token >= targetVocabularySize {
            throw SequentError.invalidArgument(op, "\(name) token \(token) is outside the target vocabulary 0..<\(targetVocabularySize)")
        }
        let valueSize = (bidirectional ? 2 : 1) * hiddenSize
        self.attention = attention
        self.beginToken = beginToken
        self.endToken = endToken
        self.decoderHiddenSize = decoderSize
        sourceEmbedding = Embedding(vocabularySize: sourceVocabularySize, embeddingSize: embeddingSize, generator: &generator)
        targetEmbedding = Embedding(vocabularySize: targetVocabularySize, embeddingSize: embeddingSize, generator: &generator)
        encoder = try RecurrentLayer(cell: cell, inputSize: embeddingSize, hiddenSize: hiddenSize, layerCount: encoderLayerCount,
                                     batchFirst: true, dropout: dropout, bidirectional: bidirectional, generator: &generator)
        if bidirectional || hiddenSize != decoderSize {
            hiddenBridge = Linear(inputSize: valueSize, outputSize: decoderSize, generator: &generator)
            cellBridge = cell.hasCellState ? Linear(inputSize: valueSize, outputSize: decoderSize, generator: &generator) : nil
        } else {
            (hiddenBridge, cellBridge) = (nil, nil)
        }
        attentionLayer = try attention.score.map { score in
            try EncoderDecoderAttention(score: score, querySize: decoderSize, valueSize: valueSize,
                                        attentionSize: attentionSize, generator: &generator)
        }
        let decoderInputSize = embeddingSize + (attention == .additive ? valueSize : 0)
        decoder = try DecoderCell(cell, inputSize: decoderInputSize, hiddenSize: decoderSize, generator: &generator)
        // O, the width of o_i: [s_i; c_i] for the additive attention, else Hd.
        let outputSize = attention == .additive ? decoderSize + valueSize : decoderSize
        if case .multiplicative = attention {
            combine = Linear(inputSize: valueSize + decoderSize, outputSize: decoderSize, bias: false, generator: &generator)
        } else {
            combine = nil
        }
        head = Linear(inputSize: outputSize, outputSize: targetVocabularySize, generator: &generator)
        embeddingDropout = dropout > 0 ? try Dropout(probability: dropout, generator: &generator) : nil
    }

    /// p of the dropout (0: none).
    public var dropout: Float { embeddingDropout?.probability ?? 0 }

    /// Token vectors, dropped out in training.
    private func dropped(_ x: Tensor) -> Tensor { embeddingDropout.map { $0(x) } ?? x }

    public var submodules: [(key: String, module: any Module)] {
        var modules: [(key: String, module: any Module)] = [
            ("source_embedding", sourceEmbedding), ("target_embedding", targetEmbedding), ("encoder", encoder),
        ]
        if let hiddenBridge { modules.append(("bridge_hidden", hiddenBridge)) }
        if let cellBridge { modules.append(("bridge_cell", cellBridge)) }
        modules.append(("decoder", decoder.module))
        if let attentionLayer { modules.append(("attention", attentionLayer)) }
        if let combine { modules.append(("combine", combine)) }
        modules.append(("head", head))
        if let embeddingDropout { modules.append(("embedding_dropout", embeddingDropout)) }
        return modules
    }

    // MARK: Encoder

    /// What the decoder needs from the encoder: the attention memory (nil without
    /// attention) and the initial decoder state s_0.
    struct Encoding {
        var memory: EncoderDecoderAttention.Memory?
        var initialState: DecoderState
    }

    /// The batch's tokens with padding replaced by `filler`, after checking every real token.
    func checkedTokens(_ batch: Batch, vocabularySize: Int, role: String, filler: Int = 0) throws -> [Int] {
        try batch.checkedTokens(vocabularySize: vocabularySize, role: role, filler: filler, model: "Seq2Seq")
    }

    /// Runs the encoder over the source and prepares the attention memory and s_0.
    func encode(_ source: Batch) throws -> Encoding {
        let (B, S) = (source.batchSize, source.time)
        let tokens = try checkedTokens(source, vocabularySize: sourceVocabularySize, role: "source")
        let embedded = dropped(try sourceEmbedding(tokens, shape: [B, S]))  // (B, S, E)
        let (states, final) = try encoder(embedded, lengths: source.lengths)  // (B, S, Hv), (L*D, B, H)
        let (D, L) = (encoder.directionCount, encoder.layerCount)
        // The top layer's final states, forward then backward: (D, B, H) -> (B, D*H).
        func topLayer(_ state: Tensor) -> Tensor {
            state.slice(alongAxis: 0, ((L - 1) * D)..<(L * D)).permuted([1, 0, 2]).reshaped(to: [B, D * encoder.hiddenSize])
        }
        var initial = DecoderState(hidden: topLayer(final.hiddenState), cell: final.cellState.map(topLayer))
        if let hiddenBridge {
            initial.hidden = hiddenBridge(initial.hidden).tanh()
            if let cellBridge, let cell = initial.cell { initial.cell = cellBridge(cell) }
        }
        let memory = try attentionLayer?.memory(values: states, mask: source.paddingMask)
        return Encoding(memory: memory, initialState: initial)
    }

    // MARK: Decoder

    /// One decoder step, shared by teacher forcing, greedy decoding and beam search.
    ///
    /// - Parameters:
    ///   - input: E y_{i-1}, (B, E).
    ///   - state: s_{i-1}.
    ///   - memory: the encoder states (nil without attention).
    /// - Returns: o_i (B, O), the input of the output projection; s_i; a_i (B, S) or nil.
    func decoderStep(
        _ input: Tensor, state: DecoderState, memory: EncoderDecoderAttention.Memory?
    ) throws -> (output: Tensor, state: DecoderState, alignment: Tensor?) {
        guard let attentionLayer, let memory else {
            let next = try decoder(input, state)
            return (next.hidden, next, nil)
        }
        switch attention {
        case .additive:
            let (context, alignment) = attentionLayer(query: state.hidden, memory: memory)  // c_i from s_{i-1}
            let next = try decoder(Tensor.concatenate([input, context], alongAxis: 1), state)
            return (Tensor.concatenate([next.hidden, context], alongAxis: 1), next, alignment)
        default:
            let next = try decoder(input, state)
            let (context, alignment) = attentionLayer(query: next.hidden, memory: memory)  // c_i from s_i
            let attentional = combine!(Tensor.concatenate([context, next.hidden], alongAxis: 1)).tanh()
            return (attentional, next, alignment)
        }
    }

    // MARK: Teacher forcing

    /// The result of a teacher-forced pass.
    public struct Output {
        /// (B, T, V): the scores of target token i given the true tokens before it.
        public let logits: Tensor
        /// (B, T, S): the attention weights of every step, rows past a target's length and
        /// columns past a source's length are 0; nil without attention. Differentiable.
        public let alignment: Tensor?
    }

    /// Runs the model with teacher forcing: decoder step i reads the true token y_{i-1}
    /// (y_0 = `beginToken`) and predicts y_i.
    ///
    /// - Parameters:
    ///   - source: the source sentences.
    ///   - target: the target sentences, each ending with `endToken` for the model to learn
    ///     to stop (the model does not append it).
    /// - Throws: `SequentError` if a token is out of range or the batch sizes differ.
    public func callAsFunction(source: Batch, target: Batch) throws -> Output {
        guard source.batchSize == target.batchSize else {
            throw SequentError.shapeMismatch("Seq2Seq", "\(source.batchSize) source and \(target.batchSize) target sequences")
        }
        let (B, T) = (target.batchSize, target.time)
        // Decoder inputs: y_0 = begin, then the target shifted right by one.
        let inputTokens = try target.decoderInputs(beginToken: beginToken, vocabularySize: targetVocabularySize, model: "Seq2Seq")
        let inputs = dropped(try targetEmbedding(inputTokens, shape: [B, T]))  // (B, T, E)
        let encoding = try encode(source)
        var state = encoding.initialState
        var outputs: [Tensor] = [], alignments: [Tensor] = []
        for i in 0..<T {
            let step = try decoderStep(inputs.select(alongAxis: 1, index: i), state: state, memory: encoding.memory)
            state = step.state
            outputs.append(step.output)
            if let alignment = step.alignment { alignments.append(alignment) }
        }
        let logits = head(Tensor.stack(outputs, alongAxis: 1))  // (B, T, O) -> (B, T, V)
        let alignment = alignments.isEmpty ? nil : Tensor.stack(alignments, alongAxis: 1)
            .maskedFill(where: target.paddingMask.unsqueezed(at: 2), with: 0)  // (B, T, S)
        return Output(logits: logits, alignment: alignment)
    }

    /// The teacher-forced cross-entropy, averaged over the target tokens that are not
    /// padding: sum_{b, i < length_b} -log p(y_bi | y_b<i, x_b) / sum_b length_b.
    ///
    /// - Throws: `SequentError` as `callAsFunction(source:target:)`.
    public func loss(source: Batch, target: Batch, labelSmoothing: Float = 0) throws -> Tensor {
        let output = try self(source: source, target: target)
        let targets = try checkedTokens(target, vocabularySize: targetVocabularySize, role: "target")
        return try Loss.crossEntropy(logits: output.logits, targets: targets, mask: 1 - target.paddingMask,
                                     labelSmoothing: labelSmoothing)
    }
}
