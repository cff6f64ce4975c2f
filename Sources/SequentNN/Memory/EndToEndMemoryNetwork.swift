import SequentTensor

/// The sizes and options of an `EndToEndMemoryNetwork`.
public struct EndToEndMemoryNetworkConfiguration: Codable, Equatable, Sendable {
    /// V: words (0 is padding).
    public var vocabularySize: Int
    /// d: the embedding width.
    public var embeddingSize: Int
    /// K: hops.
    public var hops: Int
    /// S: memory slots (the most recent statements kept).
    public var memories: Int
    /// J: words per sentence (longer ones are cut).
    public var sentenceLength: Int
    /// Whether memories get a learned vector per slot (temporal encoding).
    public var temporalEncoding: Bool

    public init(vocabularySize: Int, embeddingSize: Int = 20, hops: Int = 3, memories: Int = 50, sentenceLength: Int = 12,
                temporalEncoding: Bool = true) {
        (self.vocabularySize, self.embeddingSize, self.hops) = (vocabularySize, embeddingSize, hops)
        (self.memories, self.sentenceLength, self.temporalEncoding) = (memories, sentenceLength, temporalEncoding)
    }

    /// Checks every size.
    ///
    /// - Throws: `SequentError.invalidArgument` naming the first size below 1 (zero memory
    ///   slots included).
    public func validate() throws(SequentError) {
        for (value, name) in [(vocabularySize, "the vocabulary size"), (embeddingSize, "the embedding size"), (hops, "the number of hops"),
                              (memories, "the number of memory slots"), (sentenceLength, "the sentence length")] where value < 1 {
            throw .invalidArgument("EndToEndMemoryNetwork", "\(name) must be at least 1, got \(value)")
        }
    }
}

/// An end-to-end memory network (Sukhbaatar, Szlam, Weston and Fergus 2015) with adjacent
/// weight tying, position encoding and temporal encoding. With embeddings A^1 ... A^{K+1}
/// (V, d) and temporal vectors T^1 ... T^{K+1} (S, d):
///
///     l_kj = (1 - j/J) - (k/d)(1 - 2j/J)          position encoding, j = 1...J, k = 1...d
///     m_i^k = sum_j l_j * A^k x_ij + T^k_i        c_i^k = m_i^{k+1}  (adjacent: C^k = A^{k+1})
///     u^1 = sum_j l_j * A^1 q_j                   (B = A^1)
///     p^k = softmax(u^k . m^k)    o^k = sum_i p_i^k c_i^k    u^{k+1} = u^k + o^k
///     logits = u^{K+1} (A^{K+1})^T                (W^T = C^K)
///
/// Memory i is the i-th most recent statement. With `linearAttention` (the paper's linear
/// start) the softmax of each hop is left out, p^k = u^k . m^k on the filled slots.
///
/// Keys: `embeddings.{k}.weight` (V, d) and `temporal.{k}` (S, d) for k = 0...K.
public final class EndToEndMemoryNetwork: Module {
    public let configuration: EndToEndMemoryNetworkConfiguration
    public let embeddings: [Embedding]
    public let temporal: [Parameter]
    /// The paper's linear start: hops without their softmax while true.
    public var linearAttention = false
    public var isTraining = true

    public var submodules: [(key: String, module: any Module)] {
        embeddings.enumerated().map { ("embeddings.\($0.offset)", $0.element) }
    }

    public var localParameters: [(key: String, parameter: Parameter)] {
        configuration.temporalEncoding ? temporal.enumerated().map { ("temporal.\($0.offset)", $0.element) } : []
    }

    /// A network with weights drawn from N(0, 0.1^2), as the paper.
    ///
    /// - Throws: `SequentError` for sizes that cannot work.
    public init(configuration c: EndToEndMemoryNetworkConfiguration, generator: inout RandomGenerator) throws(SequentError) {
        try c.validate()
        configuration = c
        var embeddings: [Embedding] = [], temporal: [Parameter] = []
        for _ in 0...c.hops {
            let embedding = Embedding(vocabularySize: c.vocabularySize, embeddingSize: c.embeddingSize, generator: &generator)
            try? embedding.weight.assign(Tensor.randomNormal([c.vocabularySize, c.embeddingSize], mean: 0, standardDeviation: 0.1, using: &generator))
            embeddings.append(embedding)
            temporal.append(Parameter(Tensor.randomNormal([c.memories, c.embeddingSize], mean: 0, standardDeviation: 0.1, using: &generator)))
        }
        self.embeddings = embeddings
        self.temporal = temporal
    }

    /// l, (J, d): the position encoding's weights.
    public var positionEncoding: Tensor {
        let (J, d) = (configuration.sentenceLength, configuration.embeddingSize)
        var values = [Float](repeating: 0, count: J * d)
        for j in 1...J {
            for k in 1...d {
                values[(j - 1) * d + k - 1] = (1 - Float(j) / Float(J)) - (Float(k) / Float(d)) * (1 - 2 * Float(j) / Float(J))
            }
        }
        return Tensor(shape: [J, d], scalars: values)
    }

    /// The answer logits (B, V) and each hop's attention over the memories (B, S).
    ///
    /// - Parameters:
    ///   - stories: (B, S, J) word ids, 0 padding, memory 0 the most recent statement.
    ///   - questions: (B, J).
    ///   - memoryMask: (B, S), 1 where a memory holds a statement.
    /// - Throws: `SequentError` for counts that do not fit the sizes or ids outside 0..<V.
    public func callAsFunction(stories: [Int], questions: [Int], memoryMask: [Float], batchSize B: Int) throws(SequentError)
        -> (logits: Tensor, attention: [Tensor]) {
        let c = configuration
        let (S, J) = (c.memories, c.sentenceLength)
        guard stories.count == B * S * J, questions.count == B * J, memoryMask.count == B * S else {
            throw .shapeMismatch("EndToEndMemoryNetwork", "expected \(B * S * J) story ids, \(B * J) question ids and \(B * S) mask values for B = \(B), S = \(S), J = \(J); got \(stories.count), \(questions.count), \(memoryMask.count)")
        }
        let position = positionEncoding
        // Padding words contribute nothing: l is zeroed where the id is 0.
        let storyWordMask = Tensor(shape: [B, S, J, 1], scalars: stories.map { $0 == 0 ? 0 : 1 })
        let questionWordMask = Tensor(shape: [B, J, 1], scalars: questions.map { $0 == 0 ? 0 : 1 })
        let storyWeights = position * storyWordMask           // (B, S, J, d)
        func encodeMemories(_ k: Int) throws(SequentError) -> Tensor {
            var m = (try embeddings[k](stories, shape: [B, S, J]) * storyWeights).sum(alongAxis: 2)   // (B, S, d)
            if c.temporalEncoding { m = m + temporal[k].value }
            return m
        }
        var u = (try embeddings[0](questions, shape: [B, J]) * (position * questionWordMask)).sum(alongAxis: 1)   // (B, d)
        let absent = Tensor(shape: [B, S], scalars: memoryMask.map { $0 == 0 ? 1 : 0 })
        var attention: [Tensor] = []
        var memoriesIn = try encodeMemories(0)
        for k in 0..<c.hops {
            let memoriesOut = try encodeMemories(k + 1)
            let scores = (memoriesIn * u.unsqueezed(at: 1)).sum(alongAxis: 2)   // (B, S)
            let p = linearAttention ? scores.maskedFill(where: absent, with: 0) : scores.maskedFill(where: absent, with: -.infinity).softmax()
            attention.append(p)
            u = u + (memoriesOut * p.unsqueezed(at: 2)).sum(alongAxis: 1)
            memoriesIn = memoriesOut
        }
        let logits = Tensor.linear(u, weight: embeddings[c.hops].weight.value, bias: nil)
        return (logits, attention)
    }
}
