import Foundation
import SequentTensor

/// An encoder-decoder Transformer for translation (Vaswani et al., 2017): token embeddings
/// scaled by sqrt(D) plus sinusoidal positions, dropout, `Transformer` (batch-first), and a
/// linear output layer.
///
/// B = batch, S = source time, T = target time, D = d_model, V = target vocabulary.
///
///     x = dropout(E_src[src] * sqrt(D) + PE(0..<S))                 (B, S, D)
///     y = dropout(E_tgt[[begin, y_1..y_{T-1}]] * sqrt(D) + PE(0..<T))  (B, T, D)
///     h = Transformer(x, y, causal target, source padding masked)  (B, T, D)
///     logits = W_o h + b_o                                          (B, T, V)
///
/// Keys: `source_embedding`, `target_embedding`, `transformer.encoder.*`,
/// `transformer.decoder.*`, `head`. Decoding keeps each decoder layer's keys and values
/// (`KeyValueCache`), so a new token costs one position per layer; beam search runs its k
/// hypotheses as one batch and reorders the caches by parent.
public final class TransformerTranslator: Module {
    public let sourceEmbedding: Embedding
    public let targetEmbedding: Embedding
    public let transformer: Transformer
    public let head: Linear
    let embeddingDropout: Dropout
    /// The most positions of a source or target sentence.
    public let maxPositions: Int
    public let beginToken: Int
    public let endToken: Int
    public let headCount: Int
    public let dModel: Int
    public var isTraining = true

    public var sourceVocabularySize: Int { sourceEmbedding.vocabularySize }
    public var targetVocabularySize: Int { targetEmbedding.vocabularySize }

    /// A model with the given sizes (embeddings N(0, D^-1/2), the Transformer Xavier-uniform
    /// as PyTorch's `nn.Transformer`, the head as `Linear`).
    ///
    /// - Throws: `SequentError` for sizes that are not positive or do not fit, or special
    ///   tokens outside the target vocabulary.
    public init(
        sourceVocabularySize: Int, targetVocabularySize: Int, dModel: Int, headCount: Int, encoderLayerCount: Int,
        decoderLayerCount: Int, dimFeedforward: Int, dropout: Float, maxPositions: Int, beginToken: Int, endToken: Int,
        generator: inout RandomGenerator
    ) throws {
        let op = "TransformerTranslator"
        guard sourceVocabularySize > 0, targetVocabularySize > 0, maxPositions > 0 else {
            throw SequentError.invalidArgument(op, "vocabularies and maxPositions must be positive, got \(sourceVocabularySize), \(targetVocabularySize), \(maxPositions)")
        }
        for (name, token) in [("begin", beginToken), ("end", endToken)] where token < 0 || token >= targetVocabularySize {
            throw SequentError.invalidArgument(op, "\(name) token \(token) is outside the target vocabulary 0..<\(targetVocabularySize)")
        }
        transformer = try Transformer(dModel: dModel, headCount: headCount, encoderLayerCount: encoderLayerCount,
                                      decoderLayerCount: decoderLayerCount, dimFeedforward: dimFeedforward, dropout: dropout,
                                      batchFirst: true, generator: &generator)
        sourceEmbedding = Embedding(vocabularySize: sourceVocabularySize, embeddingSize: dModel, generator: &generator)
        targetEmbedding = Embedding(vocabularySize: targetVocabularySize, embeddingSize: dModel, generator: &generator)
        let scale = 1 / Float(dModel).squareRoot()
        try sourceEmbedding.weight.assign(sourceEmbedding.weight.value * scale)
        try targetEmbedding.weight.assign(targetEmbedding.weight.value * scale)
        head = Linear(inputSize: dModel, outputSize: targetVocabularySize, generator: &generator)
        embeddingDropout = try Dropout(probability: dropout, generator: &generator)
        self.maxPositions = maxPositions
        self.beginToken = beginToken
        self.endToken = endToken
        self.headCount = headCount
        self.dModel = dModel
    }

    public var submodules: [(key: String, module: any Module)] {
        [("source_embedding", sourceEmbedding), ("target_embedding", targetEmbedding), ("transformer", transformer),
         ("head", head), ("embedding_dropout", embeddingDropout)]
    }

    /// Checks that a batch fits the positions.
    private func checkPositions(_ batch: Seq2Seq.Batch, role: String) throws {
        guard batch.time <= maxPositions else {
            throw SequentError.invalidArgument("TransformerTranslator", "a \(role) of \(batch.time) tokens is longer than the model's \(maxPositions) positions")
        }
    }

    /// Checks that a batch fits the positions and the vocabulary; padding becomes `filler`.
    private func checkedTokens(_ batch: Seq2Seq.Batch, vocabularySize: Int, role: String, filler: Int) throws -> [Int] {
        try checkPositions(batch, role: role)
        return try batch.checkedTokens(vocabularySize: vocabularySize, role: role, filler: filler, model: "TransformerTranslator")
    }

    /// E[tokens] * sqrt(D) + PE(positions), dropped out: (B, n, D).
    private func embed(_ embedding: Embedding, _ tokens: [Int], batch: Int, positions: Range<Int>) throws -> Tensor {
        let vectors = try embedding(tokens, shape: [batch, positions.count]) * Float(dModel).squareRoot()
        let encoded = vectors + PositionalEncoding.sinusoidal(positions: positions, width: dModel).unsqueezed(at: 0)
        return embeddingDropout(encoded)
    }

    /// The encoder's output (B, S, D) for a source batch.
    func encode(_ source: Seq2Seq.Batch) throws -> Tensor {
        let tokens = try checkedTokens(source, vocabularySize: sourceVocabularySize, role: "source", filler: 0)
        let x = try embed(sourceEmbedding, tokens, batch: source.batchSize, positions: 0..<source.time)
        return try transformer.encoder(x, keyPaddingMask: source.paddingMask)
    }

    /// Teacher-forced logits (B, T, V): position i reads [begin, y_1..y_{i}] and predicts y_{i+1}.
    public func callAsFunction(source: Seq2Seq.Batch, target: Seq2Seq.Batch) throws -> Tensor {
        head(try decoderStates(source: source, target: target))
    }

    /// The last decoder layer's output (B, T, D) under teacher forcing.
    private func decoderStates(source: Seq2Seq.Batch, target: Seq2Seq.Batch) throws -> Tensor {
        guard source.batchSize == target.batchSize else {
            throw SequentError.shapeMismatch("TransformerTranslator", "\(source.batchSize) source and \(target.batchSize) target sequences")
        }
        let (B, T) = (target.batchSize, target.time)
        try checkPositions(target, role: "target")
        let inputTokens = try target.decoderInputs(beginToken: beginToken, vocabularySize: targetVocabularySize, model: "TransformerTranslator")
        let memory = try encode(source)
        let y = try embed(targetEmbedding, inputTokens, batch: B, positions: 0..<T)
        return try transformer.decoder(y, memory: memory, memoryKeyPaddingMask: source.paddingMask, targetCausal: true)
    }

    /// The teacher-forced cross-entropy over the target tokens that are not padding.
    ///
    /// The output layer (D x V, the largest product per token) and the loss run on the real
    /// tokens' rows only: a padding row would add nothing to the loss and get no gradient.
    public func loss(source: Seq2Seq.Batch, target: Seq2Seq.Batch, labelSmoothing: Float = 0) throws -> Tensor {
        let states = try decoderStates(source: source, target: target)  // (B, T, D)
        let targets = try checkedTokens(target, vocabularySize: targetVocabularySize, role: "target", filler: 0)
        let (B, T) = (target.batchSize, target.time)
        let rows = states.reshaped(to: [B * T, dModel])
        let real = (0..<(B * T)).filter { $0 % T < target.lengths[$0 / T] }
        let realRows = real.count == B * T ? rows : rows.indexSelect(alongAxis: 0, indices: real)  // (N, D)
        return try Loss.crossEntropy(logits: head(realRows), targets: real.map { targets[$0] }, labelSmoothing: labelSmoothing)
    }

    /// Incremental decoding state: the encoder memory and each decoder layer's caches.
    final class DecoderRun {
        var memory: Tensor
        var mask: Tensor
        var caches: [TransformerDecoderLayer.Cache]
        init(memory: Tensor, mask: Tensor, caches: [TransformerDecoderLayer.Cache]) {
            self.memory = memory
            self.mask = mask
            self.caches = caches
        }

        /// Keeps the rows `rows` of every cache and of the memory, in that order.
        func select(rows: [Int]) {
            memory = memory.indexSelect(alongAxis: 0, indices: rows)
            mask = mask.indexSelect(alongAxis: 0, indices: rows)
            for cache in caches {
                for kv in [cache.selfAttention, cache.memory] {
                    if let keys = kv.keys, let values = kv.values {
                        kv.keys = keys.indexSelect(alongAxis: 0, indices: rows)
                        kv.values = values.indexSelect(alongAxis: 0, indices: rows)
                    }
                }
            }
        }
    }

    /// Log-probabilities (B, V) of the next token after `previous` at `position`.
    private func step(_ run: DecoderRun, previous: [Int], position: Int) throws -> Tensor {
        guard position < maxPositions else {
            throw SequentError.invalidArgument("TransformerTranslator", "output position \(position) is past the model's \(maxPositions) positions")
        }
        let y = try embed(targetEmbedding, previous, batch: previous.count, positions: position..<(position + 1))
        let h = try transformer.decoder(y, memory: run.memory, caches: run.caches, memoryKeyPaddingMask: run.mask)  // (B, 1, D)
        return head(h.reshaped(to: [previous.count, dModel])).logSoftmax(alongAxis: -1)
    }

    /// The result of greedy decoding.
    public struct Decoding {
        /// Output tokens of each sentence, ending with `endToken` unless the limit was hit.
        public let sequences: [[Int]]
        /// With `keepsCrossAttention` and one sentence: the last decoder layer's attention to
        /// the source (T, S), averaged over heads; else nil.
        public let crossAttention: Tensor?
    }

    /// One decoder layer's cross-attention weights while reading `tokens` after `source`
    /// (teacher forcing, evaluation mode): (T, S) averaged over heads, or (h, T, S) per head.
    ///
    /// - Parameters:
    ///   - layer: the decoder layer, 0..<decoder layers; nil for the last.
    ///   - perHead: every head's weights rather than their mean.
    /// - Throws: `SequentError` for an empty output, tokens out of range or a layer that the
    ///   decoder does not have.
    public func crossAttention(source: [Int], tokens: [Int], layer: Int? = nil, perHead: Bool = false) throws -> Tensor {
        guard !tokens.isEmpty else { throw SequentError.invalidArgument("TransformerTranslator", "no output tokens to align") }
        let layers = transformer.decoder.layers
        let index = layer ?? layers.count - 1
        guard layers.indices.contains(index) else {
            throw SequentError.invalidArgument("TransformerTranslator", "decoder layer \(index) does not exist; the decoder has layers 0..<\(layers.count)")
        }
        let wasTraining = isTraining
        setTraining(false)
        defer { setTraining(wasTraining) }
        return try withoutGradients {
            let sourceBatch = try Seq2Seq.Batch([source])
            let targetBatch = try Seq2Seq.Batch([tokens])
            let targetTokens = try checkedTokens(targetBatch, vocabularySize: targetVocabularySize, role: "target", filler: beginToken)
            let T = tokens.count
            let memory = try encode(sourceBatch)
            var x = try embed(targetEmbedding, [beginToken] + targetTokens.dropLast(), batch: 1, positions: 0..<T)
            for below in layers[..<index] {
                x = try below(x, memory: memory, memoryKeyPaddingMask: sourceBatch.paddingMask, targetCausal: true)
            }
            let drawn = layers[index]
            // The query of the layer's cross-attention, as its forward pass forms it.
            let query: Tensor
            if drawn.configuration.normFirst {
                query = drawn.norm2(x + (try drawn.selfAttention.selfAttention(drawn.norm1(x), causal: true)))
            } else {
                query = drawn.norm1(x + (try drawn.selfAttention.selfAttention(x, causal: true)))
            }
            let weights = try drawn.crossAttention(query: query, key: memory, value: memory, keyPaddingMask: sourceBatch.paddingMask,
                                                   needWeights: true, averageAttentionWeights: !perHead).weights!
            return perHead ? weights.reshaped(to: [headCount, T, source.count]) : weights.reshaped(to: [T, source.count])
        }
    }

    /// Greedy decoding with the key/value caches, until `endToken` or `maxLength` tokens
    /// (at most the model's positions).
    public func greedyDecode(source: Seq2Seq.Batch, maxLength: Int, keepsCrossAttention: Bool = false) throws -> Decoding {
        guard maxLength >= 1 else {
            throw SequentError.invalidArgument("TransformerTranslator", "the maximum output length must be at least 1, got \(maxLength)")
        }
        let limit = min(maxLength, maxPositions)
        let wasTraining = isTraining
        setTraining(false)
        defer { setTraining(wasTraining) }
        return try withoutGradients {
            let B = source.batchSize
            let run = DecoderRun(memory: try encode(source), mask: source.paddingMask, caches: transformer.decoder.makeCaches())
            var sequences = [[Int]](repeating: [], count: B)
            var previous = [Int](repeating: beginToken, count: B)
            var position = 0
            while position < limit, sequences.contains(where: { $0.last != endToken }) {
                let logProbabilities = try step(run, previous: previous, position: position).scalars
                let V = targetVocabularySize
                for b in 0..<B where sequences[b].last != endToken {
                    var best = 0
                    for v in 1..<V where logProbabilities[b * V + v] > logProbabilities[b * V + best] { best = v }
                    sequences[b].append(best)
                    previous[b] = best
                }
                position += 1
            }
            let attention = keepsCrossAttention && B == 1 && !sequences[0].isEmpty
                ? try crossAttention(source: source.sequence(0), tokens: sequences[0]) : nil
            return Decoding(sequences: sequences, crossAttention: attention)
        }
    }

    /// One beam-search hypothesis.
    public struct Hypothesis {
        public let tokens: [Int]
        public let logProbability: Float
        public let score: Float
        public let isFinished: Bool
    }

    /// Beam search with GNMT's length normalisation, score = log p / ((5 + |Y|) / 6)^alpha,
    /// over every sentence of a batch at once (the rules of `Seq2Seq.beamSearch`): the
    /// encoder runs once, the live hypotheses of all sentences are one decoder batch, and
    /// each step costs one cached position per layer for all of them, the key/value caches
    /// and the memory following each hypothesis's parent (`BatchedBeamSearch`).
    ///
    /// - Parameters:
    ///   - maxLength: the most output tokens of every sentence (at most the positions), or
    ///   - maxLengths: one per sentence.
    /// - Returns: per sentence at most k hypotheses, best score first.
    /// - Throws: `SequentError` for tokens out of range or past the positions, or k, a
    ///   maximum length or alpha out of range.
    public func beamSearch(
        source: Seq2Seq.Batch, beamWidth: Int, maxLength: Int = 0, maxLengths: [Int]? = nil, lengthPenalty alpha: Float = 0
    ) throws -> [[Hypothesis]] {
        let limits = maxLengths ?? Array(repeating: maxLength, count: source.batchSize)
        guard limits.count == source.batchSize else {
            throw SequentError.invalidArgument("TransformerTranslator", "\(limits.count) maximum lengths for \(source.batchSize) sentences")
        }
        for limit in limits where limit < 1 {
            throw SequentError.invalidArgument("TransformerTranslator", "the maximum output length must be at least 1, got \(limit)")
        }
        let search = try BatchedBeamSearch(model: "TransformerTranslator", beamWidth: beamWidth, alpha: alpha,
                                           vocabularySize: targetVocabularySize, beginToken: beginToken, endToken: endToken)
        let wasTraining = isTraining
        setTraining(false)
        defer { setTraining(wasTraining) }
        return try withoutGradients {
            let run = DecoderRun(memory: try encode(source), mask: source.paddingMask, caches: transformer.decoder.makeCaches())
            let results = try search.run(
                limits: limits.map { min($0, maxPositions) }, sourceLengths: source.lengths,
                step: { previous, position in .init(logProbabilities: try step(run, previous: previous, position: position).scalars) },
                select: { run.select(rows: $0) })
            return results.map { hypotheses in
                hypotheses.map { Hypothesis(tokens: $0.tokens, logProbability: $0.logProbability, score: $0.score, isFinished: $0.isFinished) }
            }
        }
    }

    /// Beam search on one sentence; see `beamSearch(source:beamWidth:maxLength:maxLengths:lengthPenalty:)`.
    public func beamSearch(source: [Int], beamWidth: Int, maxLength: Int, lengthPenalty alpha: Float = 0) throws -> [Hypothesis] {
        try beamSearch(source: try Seq2Seq.Batch([source]), beamWidth: beamWidth, maxLength: maxLength, lengthPenalty: alpha)[0]
    }
}
