import SequentTensor

/// How a text classifier turns the recurrent layer's outputs (B, T, D*H) into one vector a text.
public enum TextPooling: String, Codable, CaseIterable, Sendable {
    /// The final state: the forward direction's at the text's last token and, when
    /// bidirectional, the backward direction's at its first; a Transformer's output at the
    /// text's last token.
    case last
    /// The mean of the outputs over the text's real tokens.
    case mean
    /// The elementwise maximum over the real tokens.
    case max
    /// One learned query over the outputs (Yang et al., 2016, "Hierarchical Attention
    /// Networks"): u_t = tanh(W h_t + b), a_t = softmax_t(u_t . q) over the real tokens,
    /// pooled = sum_t a_t h_t. The weights a are returned for explanations.
    case attention
}

/// A text classifier: token vectors, dropout on them, an encoder over each text's own
/// length, pooling, dropout and a linear head to class logits. The encoder is a stacked
/// (optionally bidirectional) RNN/LSTM/GRU on the fused path, or a Transformer encoder
/// (`TransformerTextEncoder`).
///
///     x = drop(emb(tokens))                    (B, T, E)
///     h = LSTM|GRU(x, lengths)                 (B, T, D*H), zero past each length
///       | Transformer(x, lengths)              (B, T, E),   zero past each length
///     v = pool(h)                              (B, W)
///     logits = head(drop(v))                   (B, C)
///
/// Keys: `emb.weight`, `rnn.weight_ih_l0[_reverse]`, ... (recurrent) or `enc.pos.weight`,
/// `enc.layers.0.self_attn.in_proj_weight`, ... (Transformer), `attn.proj.weight`,
/// `attn.proj.bias`, `attn.query` (attention pooling only), `head.weight`, `head.bias`.
public final class TextClassifier: Module {
    public let embedding: Embedding
    /// The recurrent encoder; nil for a Transformer classifier.
    public let recurrent: RecurrentLayer?
    /// The Transformer encoder; nil for a recurrent classifier.
    public let transformer: TransformerTextEncoder?
    public let pooling: TextPooling
    /// attention pooling: W, b of u_t = tanh(W h_t + b), and the query q (A).
    public let attentionProjection: Linear?
    public let attentionQuery: Parameter?
    public let head: Linear
    public let dropout: Dropout?
    public let embeddingDropout: Dropout?
    public var isTraining = true

    /// C.
    public var classCount: Int { head.outputSize }

    /// A recurrent classifier: a `layerCount` x `hiddenSize` RNN/LSTM/GRU over token vectors
    /// of `embeddingSize`.
    public convenience init(
        cell: RecurrentCellType, bidirectional: Bool, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int,
        layerCount: Int, classCount: Int, pooling: TextPooling, dropout: Float, embeddingDropout: Float,
        attentionSize: Int? = nil, generator: inout RandomGenerator
    ) throws {
        try Self.check(vocabularySize: vocabularySize, classCount: classCount)
        let embedding = Embedding(vocabularySize: vocabularySize, embeddingSize: embeddingSize, generator: &generator)
        let recurrent = try RecurrentLayer(
            cell: cell, inputSize: embeddingSize, hiddenSize: hiddenSize, layerCount: layerCount, batchFirst: true,
            dropout: layerCount > 1 ? dropout : 0, bidirectional: bidirectional, generator: &generator)
        try self.init(embedding: embedding, recurrent: recurrent, transformer: nil, width: hiddenSize * (bidirectional ? 2 : 1),
                      classCount: classCount, pooling: pooling, dropout: dropout, embeddingDropout: embeddingDropout,
                      attentionSize: attentionSize, generator: &generator)
    }

    /// A Transformer classifier: `layerCount` pre-norm encoder layers of `width` with
    /// `headCount` heads over token vectors of `width` and learned positions (texts of at
    /// most `maxLength` tokens); see `TransformerTextEncoder`.
    public convenience init(
        transformerWidth width: Int, headCount: Int, feedForwardSize: Int, layerCount: Int, maxLength: Int,
        vocabularySize: Int, classCount: Int, pooling: TextPooling, dropout: Float, embeddingDropout: Float,
        generator: inout RandomGenerator
    ) throws {
        try Self.check(vocabularySize: vocabularySize, classCount: classCount)
        let embedding = Embedding(vocabularySize: vocabularySize, embeddingSize: width, generator: &generator)
        let transformer = try TransformerTextEncoder(
            width: width, headCount: headCount, feedForwardSize: feedForwardSize, layerCount: layerCount,
            maxLength: maxLength, generator: &generator)
        try self.init(embedding: embedding, recurrent: nil, transformer: transformer, width: width, classCount: classCount,
                      pooling: pooling, dropout: dropout, embeddingDropout: embeddingDropout, attentionSize: nil,
                      generator: &generator)
    }

    private static func check(vocabularySize: Int, classCount: Int) throws {
        guard vocabularySize >= 1, classCount >= 2 else {
            throw SequentError.invalidArgument("TextClassifier", "needs a vocabulary and at least 2 classes; got \(vocabularySize) tokens and \(classCount) classes")
        }
    }

    /// The pooling, head and dropouts over an encoder whose outputs are `width` wide.
    private init(
        embedding: Embedding, recurrent: RecurrentLayer?, transformer: TransformerTextEncoder?, width: Int, classCount: Int,
        pooling: TextPooling, dropout: Float, embeddingDropout: Float, attentionSize: Int?, generator: inout RandomGenerator
    ) throws {
        self.embedding = embedding
        self.recurrent = recurrent
        self.transformer = transformer
        self.pooling = pooling
        if pooling == .attention {
            let size = attentionSize ?? width
            attentionProjection = Linear(inputSize: width, outputSize: size, generator: &generator)
            let bound = 1 / Float(size).squareRoot()
            attentionQuery = Parameter(Tensor.randomUniform([size], lower: -bound, upper: bound, using: &generator))
        } else {
            attentionProjection = nil
            attentionQuery = nil
        }
        head = Linear(inputSize: width, outputSize: classCount, generator: &generator)
        self.dropout = dropout > 0 ? try Dropout(probability: dropout, generator: &generator) : nil
        self.embeddingDropout = embeddingDropout > 0 ? try Dropout(probability: embeddingDropout, generator: &generator) : nil
    }

    public var localParameters: [(key: String, parameter: Parameter)] {
        attentionQuery.map { [("attn.query", $0)] } ?? []
    }

    public var submodules: [(key: String, module: any Module)] {
        var list: [(key: String, module: any Module)] = [("emb", embedding)]
        if let recurrent { list.append(("rnn", recurrent)) }
        if let transformer { list.append(("enc", transformer)) }
        if let attentionProjection { list.append(("attn.proj", attentionProjection)) }
        list.append(("head", head))
        if let dropout { list.append(("drop", dropout)) }
        if let embeddingDropout { list.append(("emb_drop", embeddingDropout)) }
        return list
    }

    /// The class logits of a batch of texts.
    ///
    /// - Parameters:
    ///   - tokens: B * T ids, row-major (B, T); positions past a text's length are padding
    ///     (any id in range) and are never read.
    ///   - lengths: each text's token count, in 1...T.
    /// - Returns: logits (B, C), and for attention pooling the weights (B, T): each row sums
    ///   to 1 over the text's tokens and is 0 on its padding.
    public func callAsFunction(_ tokens: [Int], batchSize: Int, time: Int, lengths: [Int]) throws
        -> (logits: Tensor, attention: Tensor?) {
        guard lengths.count == batchSize, lengths.allSatisfy({ (1...time).contains($0) }) else {
            throw SequentError.invalidArgument("TextClassifier", "lengths must be \(batchSize) values in 1...\(time), got \(lengths)")
        }
        let output: Tensor, state: RecurrentState?
        // The token path builds the table E W_ih^T (V rows) once a call: worth it only when
        // the batch has at least as many tokens as the vocabulary; else embed, then project.
        let dropsTokens = embeddingDropout?.isDropping ?? false
        if let transformer {
            let vectors = try embedding(tokens, shape: [batchSize, time])
            (output, state) = (try transformer(embeddingDropout.map { $0(vectors) } ?? vectors, lengths: lengths), nil)
        } else if let recurrent, dropsTokens || batchSize * time < embedding.vocabularySize {
            let vectors = try embedding(tokens, shape: [batchSize, time])
            (output, state) = try recurrent(embeddingDropout.map { $0(vectors) } ?? vectors, lengths: lengths)
        } else if let recurrent {
            (output, state) = try recurrent(tokens: tokens, shape: [batchSize, time], embedding: embedding, lengths: lengths)
        } else {
            throw SequentError.invalidArgument("TextClassifier", "has no encoder")
        }
        // 0 on real tokens, a large negative number on padding.
        var maskValues = [Float](repeating: 0, count: batchSize * time)
        for b in 0..<batchSize { for t in lengths[b]..<time { maskValues[b * time + t] = -1e30 } }
        let mask = Tensor(shape: [batchSize, time], scalars: maskValues)
        var attention: Tensor?
        let pooled: Tensor
        switch pooling {
        case .attention:
            let u = attentionProjection!(output).tanh()                                              // (B, T, A)
            let size = u.shape[2]
            let scores = Tensor.matmul(u.reshaped(to: [batchSize * time, size]), attentionQuery!.value.reshaped(to: [size, 1]))
                .reshaped(to: [batchSize, time])
            let weights = (scores + mask).softmax(alongAxis: 1)                                     // (B, T)
            attention = weights
            pooled = (output * weights.unsqueezed(at: 2)).sum(alongAxis: 1)                          // (B, D*H)
        case .mean:
            let inverse = Tensor(shape: [batchSize, 1], scalars: lengths.map { 1 / Float($0) })
            pooled = output.sum(alongAxis: 1) * inverse
        case .max:
            pooled = (output + mask.unsqueezed(at: 2)).max(alongAxis: 1)
        case .last:
            guard let state, let recurrent else {
                // A Transformer's output at each text's last real token.
                var pick = [Float](repeating: 0, count: batchSize * time)
                for b in 0..<batchSize { pick[b * time + lengths[b] - 1] = 1 }
                pooled = (output * Tensor(shape: [batchSize, time, 1], scalars: pick)).sum(alongAxis: 1)
                break
            }
            let rows = state.hiddenState.shape[0]
            if recurrent.bidirectional {
                pooled = Tensor.concatenate(
                    [state.hiddenState.select(alongAxis: 0, index: rows - 2), state.hiddenState.select(alongAxis: 0, index: rows - 1)],
                    alongAxis: 1)
            } else {
                pooled = state.hiddenState.select(alongAxis: 0, index: rows - 1)
            }
        }
        let dropped = dropout.map { $0(pooled) } ?? pooled
        return (head(dropped), attention)
    }
}
