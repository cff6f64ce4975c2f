import SequentTensor

/// Multi-head attention (Vaswani et al., 2017), PyTorch's `nn.MultiheadAttention`:
///
///     q = query W_q^T + b_q,   k = key W_k^T + b_k,   v = value W_v^T + b_v
///     head_i = softmax(q_i k_i^T / sqrt(E/h) + M) v_i          (q_i: the i-th E/h columns)
///     out = concat(head_1, ..., head_h) W_o^T + b_o
///
/// with [W_q; W_k; W_v] = `in_proj_weight` and M = -inf at the masked pairs. Shapes, with
/// B = batch, L = target (query) length, S = source (key) length, E = embedding width,
/// h = heads: query (B, L, E) if `batchFirst` else (L, B, E); key and value (B, S, E) or
/// (S, B, E); out as query; weights (B, L, S) averaged over heads or (B, h, L, S) per head.
///
/// Masks follow Sequent's one convention (see `Tensor+Attention.swift`): nonzero (true) =
/// "masked out / may not attend", as PyTorch's boolean `key_padding_mask` and `attn_mask`.
/// A query that may attend to nothing gets zeros (PyTorch gives NaN there).
///
/// Without weights or training-mode dropout the heads run in the fused attention kernel,
/// which never forms the (L, S) score matrix; with either, in the plain path.
///
/// Keys (PyTorch's `state_dict()`): `in_proj_weight` (3E, E), `in_proj_bias` (3E),
/// `out_proj.weight` (E, E), `out_proj.bias` (E); no biases with `bias: false`.
/// Initialisation as PyTorch: `in_proj_weight` ~ U(-a, a) with a = sqrt(6 / (E + 3E))
/// (Xavier uniform), `out_proj.weight` ~ U(-1/sqrt(E), 1/sqrt(E)), biases zero.
public final class MultiheadAttention: Module {
    /// E, the width of queries, keys, values and outputs.
    public let embedDim: Int
    /// h, the number of heads; E/h is each head's width.
    public let headCount: Int
    /// Whether inputs and outputs are (B, T, E) rather than (T, B, E).
    public let batchFirst: Bool
    /// The dropout probability on the attention weights in training mode.
    public let dropout: Float
    /// [W_q; W_k; W_v], (3E, E); key `in_proj_weight`.
    public let inProjectionWeight: Parameter
    /// [b_q; b_k; b_v], (3E); key `in_proj_bias`; nil with `bias: false`.
    public let inProjectionBias: Parameter?
    /// W_o and b_o; key `out_proj`.
    public let outProjection: Linear
    /// The generator the dropout masks come from (split at construction).
    public var generator: RandomGenerator
    public var isTraining = true

    /// A multi-head attention layer initialised from `generator`.
    ///
    /// - Parameters:
    ///   - embedDim: E.
    ///   - headCount: h; must divide E.
    ///   - dropout: probability of dropping an attention weight in training, in [0, 1).
    ///   - bias: whether the projections have biases.
    ///   - batchFirst: inputs and outputs are (B, T, E) rather than (T, B, E).
    ///   - generator: the source of the initial values and of the dropout generator.
    /// - Throws: `SequentError` when h does not divide E or an argument is out of range.
    public init(
        embedDim: Int, headCount: Int, dropout: Float = 0, bias: Bool = true, batchFirst: Bool = false,
        generator: inout RandomGenerator
    ) throws(SequentError) {
        guard embedDim > 0, headCount > 0 else {
            throw .invalidArgument("MultiheadAttention", "embedDim and headCount must be positive, got embedDim \(embedDim), headCount \(headCount)")
        }
        guard embedDim % headCount == 0 else {
            throw .invalidArgument("MultiheadAttention", "embedDim \(embedDim) is not divisible by headCount \(headCount)")
        }
        guard dropout >= 0 && dropout < 1 else {
            throw .invalidArgument("MultiheadAttention", "dropout must be in [0, 1), got \(dropout)")
        }
        self.embedDim = embedDim
        self.headCount = headCount
        self.batchFirst = batchFirst
        self.dropout = dropout
        let bound = (6 / Float(4 * embedDim)).squareRoot()
        inProjectionWeight = Parameter(Tensor.randomUniform([3 * embedDim, embedDim], lower: -bound, upper: bound, using: &generator))
        inProjectionBias = bias ? Parameter(Tensor.zeros([3 * embedDim])) : nil
        outProjection = Linear(inputSize: embedDim, outputSize: embedDim, bias: bias, generator: &generator)
        if let outBias = outProjection.bias { try! outBias.assign(Tensor.zeros([embedDim])) }
        self.generator = generator.split()
    }

    public var localParameters: [(key: String, parameter: Parameter)] {
        [("in_proj_weight", inProjectionWeight)] + (inProjectionBias.map { [("in_proj_bias", $0)] } ?? [])
    }

    public var submodules: [(key: String, module: any Module)] { [("out_proj", outProjection)] }

    /// Checks the inputs and masks, naming the shapes that do not fit.
    public func validate(
        query: Tensor, key: Tensor, value: Tensor, keyPaddingMask: Tensor?, keyLengths: [Int]?, attentionMask: Tensor?
    ) throws(SequentError) {
        let op = "MultiheadAttention"
        let layout = batchFirst ? "(B, L, \(embedDim))" : "(L, B, \(embedDim))"
        guard query.rank == 3, query.shape[2] == embedDim else {
            throw .shapeMismatch(op, "expected query of shape \(layout), got \(query.shape)")
        }
        guard key.rank == 3, key.shape[2] == query.shape[2] else {
            throw .shapeMismatch(op, "key \(key.shape) does not fit query \(query.shape) (expected \(batchFirst ? "(B, S, E)" : "(S, B, E)") with E = \(embedDim))")
        }
        guard value.shape == key.shape else {
            throw .shapeMismatch(op, "value \(value.shape) does not fit key \(key.shape) (they must have the same shape)")
        }
        let batchAxis = batchFirst ? 0 : 1
        guard key.shape[batchAxis] == query.shape[batchAxis] else {
            throw .shapeMismatch(op, "key \(key.shape) and query \(query.shape) differ in batch size")
        }
        let (batch, targetLength, sourceLength) = (query.shape[batchAxis], query.shape[1 - batchAxis], key.shape[1 - batchAxis])
        if let keyPaddingMask, keyPaddingMask.shape != [batch, sourceLength] {
            throw .shapeMismatch(op, "key padding mask \(keyPaddingMask.shape) must be (B, S) = \([batch, sourceLength]) for key \(key.shape)")
        }
        if let keyLengths {
            if keyPaddingMask != nil { throw .invalidArgument(op, "give key padding as a mask or as lengths, not both") }
            guard keyLengths.count == batch, keyLengths.allSatisfy({ (0...sourceLength).contains($0) }) else {
                throw .invalidArgument(op, "expected \(batch) key lengths in 0...\(sourceLength) for key \(key.shape), got \(keyLengths)")
            }
        }
        if let attentionMask {
            let allowed = [[targetLength, sourceLength], [batch * headCount, targetLength, sourceLength]]
            guard allowed.contains(attentionMask.shape) else {
                throw .shapeMismatch(op, "attention mask \(attentionMask.shape) must be (L, S) = \(allowed[0]) or (B*h, L, S) = \(allowed[1]) for query \(query.shape) and key \(key.shape)")
            }
        }
    }

    /// Attends from `query` to `key`/`value`.
    ///
    /// - Parameters:
    ///   - query: (B, L, E) if `batchFirst` else (L, B, E).
    ///   - key: (B, S, E) or (S, B, E).
    ///   - value: the shape of key.
    ///   - keyPaddingMask: (B, S), nonzero = padding (PyTorch's `key_padding_mask`).
    ///   - keyLengths: (B) valid source lengths, an alternative to `keyPaddingMask`.
    ///   - attentionMask: (L, S) or (B*h, L, S), nonzero = may not attend (`attn_mask`).
    ///   - causal: query i sees keys 0...i only (combined with the other masks).
    ///   - needWeights: also return the attention weights (PyTorch's `need_weights`; the
    ///     default here is false so that the fused kernel runs).
    ///   - averageAttentionWeights: weights averaged over heads (B, L, S) rather than per
    ///     head (B, h, L, S) (`average_attn_weights`).
    /// - Returns: out, the shape of query, and the weights when asked for (after dropout,
    ///   as PyTorch).
    public func callAsFunction(
        query: Tensor, key: Tensor, value: Tensor, keyPaddingMask: Tensor? = nil, keyLengths: [Int]? = nil,
        attentionMask: Tensor? = nil, causal: Bool = false, needWeights: Bool = false, averageAttentionWeights: Bool = true
    ) throws(SequentError) -> (output: Tensor, weights: Tensor?) {
        try validate(query: query, key: key, value: value, keyPaddingMask: keyPaddingMask, keyLengths: keyLengths,
                     attentionMask: attentionMask)
        let (batch, targetLength) = batchFirst ? (query.shape[0], query.shape[1]) : (query.shape[1], query.shape[0])
        let sourceLength = batchFirst ? key.shape[1] : key.shape[0]

        let q = projectHeads(toBatchFirst(query), part: .query)
        let k = projectHeads(toBatchFirst(key), part: .key)
        let v = projectHeads(toBatchFirst(value), part: .value)
        let mask = perHeadMask(attentionMask, batch: batch, targetLength: targetLength, sourceLength: sourceLength)

        let heads: Tensor
        var weights: Tensor? = nil
        let dropping = isTraining && dropout > 0
        if needWeights || dropping {
            let result = dropping
                ? Tensor.scaledDotProductAttentionWithWeights(
                    query: q, key: k, value: v, mask: mask, keyPaddingMask: keyPaddingMask, keyLengths: keyLengths,
                    causal: causal, dropoutProbability: dropout, using: &generator)
                : Tensor.scaledDotProductAttentionWithWeights(
                    query: q, key: k, value: v, mask: mask, keyPaddingMask: keyPaddingMask, keyLengths: keyLengths, causal: causal)
            heads = result.output
            if needWeights { weights = averageAttentionWeights ? result.weights.mean(alongAxis: 1) : result.weights }
        } else {
            heads = Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: mask, keyPaddingMask: keyPaddingMask,
                                                     keyLengths: keyLengths, causal: causal)
        }
        return (toBatchFirst(mergeHeads(heads)), weights)
    }

    /// Self-attention of x on itself: `self(query: x, key: x, value: x, ...).output`, with
    /// the three projections as one matrix product. Without dropout on the weights, the
    /// attention reads q, k and v from that product in place
    /// (`Tensor.scaledDotProductSelfAttention`), with no copies per head when nothing
    /// records gradients.
    ///
    /// - Parameters:
    ///   - x: (B, T, E) if `batchFirst` else (T, B, E).
    ///   - others: as `callAsFunction(query:key:value:...)`.
    /// - Returns: the shape of x.
    /// - Throws: `SequentError` when the shapes do not fit, naming them.
    public func selfAttention(
        _ x: Tensor, keyPaddingMask: Tensor? = nil, keyLengths: [Int]? = nil, attentionMask: Tensor? = nil,
        causal: Bool = false
    ) throws(SequentError) -> Tensor {
        if isTraining && dropout > 0 {
            return try self(query: x, key: x, value: x, keyPaddingMask: keyPaddingMask, keyLengths: keyLengths,
                            attentionMask: attentionMask, causal: causal).output
        }
        try validate(query: x, key: x, value: x, keyPaddingMask: keyPaddingMask, keyLengths: keyLengths,
                     attentionMask: attentionMask)
        let input = toBatchFirst(x)
        let (batch, length) = (input.shape[0], input.shape[1])
        let mask = perHeadMask(attentionMask, batch: batch, targetLength: length, sourceLength: length)
        let packed = Tensor.linear(input, weight: inProjectionWeight.value, bias: inProjectionBias?.value)  // (B, T, 3E)
        let heads = Tensor.scaledDotProductSelfAttention(packedQueryKeyValue: packed, headCount: headCount, mask: mask,
                                                         keyPaddingMask: keyPaddingMask, keyLengths: keyLengths, causal: causal)
        return toBatchFirst(outProjection(heads))
    }

    // MARK: The pieces around the attention (shared with the key/value cache)

    /// Which third of `in_proj_weight` a projection uses.
    enum ProjectionPart: Int { case query = 0, key = 1, value = 2 }

    /// x (B, T, E) -> x W_part^T + b_part -> (B, h, T, E/h).
    func projectHeads(_ x: Tensor, part: ProjectionPart) -> Tensor {
        let e = embedDim
        let rows = (part.rawValue * e)..<((part.rawValue + 1) * e)
        let weight = inProjectionWeight.value.slice(alongAxis: 0, rows)
        let bias = inProjectionBias?.value.slice(alongAxis: 0, rows)
        return Tensor.linear(x, weight: weight, bias: bias)
            .reshaped(to: [x.shape[0], x.shape[1], headCount, e / headCount]).permuted([0, 2, 1, 3])
    }

    /// x (B, T, E) -> x [W_q; W_k; W_v]^T + [b_q; b_k; b_v] -> q, k, v, each (B, h, T, E/h):
    /// the three projections of self-attention as one matrix product, reading the weights
    /// in place (projectHeads copies its third of them first).
    func projectQueryKeyValue(_ x: Tensor) -> (query: Tensor, key: Tensor, value: Tensor) {
        let (batch, length, h) = (x.shape[0], x.shape[1], headCount)
        let qkv = Tensor.linear(x, weight: inProjectionWeight.value, bias: inProjectionBias?.value)
            .reshaped(to: [batch, length, 3, h, embedDim / h]).permuted([2, 0, 3, 1, 4])  // (3, B, h, T, E/h)
        return (qkv.select(alongAxis: 0, index: 0), qkv.select(alongAxis: 0, index: 1), qkv.select(alongAxis: 0, index: 2))
    }

    /// An attention mask for the per-head scores: (B*h, L, S) as (B, h, L, S); (L, S) as given.
    func perHeadMask(_ attentionMask: Tensor?, batch: Int, targetLength: Int, sourceLength: Int) -> Tensor? {
        attentionMask.map { $0.rank == 3 ? $0.reshaped(to: [batch, headCount, targetLength, sourceLength]) : $0 }
    }

    /// heads (B, h, L, E/h) -> concat (B, L, E) -> out_proj -> (B, L, E).
    func mergeHeads(_ heads: Tensor) -> Tensor {
        let (batch, length) = (heads.shape[0], heads.shape[2])
        return outProjection(heads.permuted([0, 2, 1, 3]).reshaped(to: [batch, length, embedDim]))
    }

    /// A (T, B, E) tensor as (B, T, E) and back when the layer is not batch-first; else x.
    func toBatchFirst(_ x: Tensor) -> Tensor { batchFirst ? x : x.transposed(0, 1) }
}

/// The attention-weight dropout draws from `generator`, so checkpoints save and restore it.
extension MultiheadAttention: StochasticModule {}
