import SequentTensor

/// How a multiplicative (Luong) score compares the decoder state with an encoder state.
public enum MultiplicativeScore: Sendable, Equatable {
    /// e_ij = s_i^T h_j (the state sizes must agree).
    case dot
    /// e_ij = s_i^T W_a h_j.
    case general
}

/// The score function of an alignment model: how much decoder state s should look at
/// encoder state h_j.
public enum AlignmentScore: Sendable, Equatable {
    /// Bahdanau et al. (2015): e_ij = v^T tanh(W_s s + W_h h_j).
    case additive
    /// Luong et al. (2015): e_ij = s^T h_j or s^T W_a h_j.
    case multiplicative(MultiplicativeScore)
}

/// Attention of a recurrent decoder over the states of its encoder (Bahdanau et al., 2015;
/// Luong et al., 2015). Every score runs through the same three steps:
///
///     keys      k_j    = W_h h_j (additive)  |  h_j (dot)  |  W_a h_j (general)   once per batch
///     energy    e_ij   = v^T tanh(W_s s + k_j) (additive)  |  s^T k_j (dot, general)
///     alignment a_ij   = exp(e_ij) / sum_{k unmasked} exp(e_ik),   a_ij = 0 where j is masked
///     context   c_i    = sum_j a_ij h_j
///
/// Shapes: B = batch, S = source time, Hq = query (decoder state) size, Hv = value (encoder
/// state) size, A = attention size (additive), K = key size (A, Hv or Hq).
///
/// The keys depend only on the encoder states, so `memory(values:mask:)` computes them once
/// per batch and every decoder step costs one (B, S, K) product and a softmax. Masks follow
/// the library-wide convention: 1 where a source position is MASKED OUT (padding), 0 where
/// it may be attended.
///
/// Keys: `query.weight` (A, Hq) = W_s and `v` (A) for the additive score; `key.weight` =
/// W_h (A, Hv) or W_a (Hq, Hv). No biases, as in the papers' equations. Initialisation as
/// `Linear` (U(-1/sqrt(In), 1/sqrt(In))); v ~ U(-1/sqrt(A), 1/sqrt(A)).
public final class EncoderDecoderAttention: Module {
    /// The score function.
    public let score: AlignmentScore
    /// Hq: the size of the decoder state that asks.
    public let querySize: Int
    /// Hv: the size of an encoder state.
    public let valueSize: Int
    /// W_s (A, Hq), additive only; key `query`.
    public let queryProjection: Linear?
    /// W_h (A, Hv) for the additive score, W_a (Hq, Hv) for the general one; key `key`.
    public let keyProjection: Linear?
    /// v (A), additive only; key `v`.
    public let energyWeight: Parameter?
    public var isTraining = true

    /// The encoder side of attention for one batch: the states to average, their keys
    /// (computed once), and the padding mask.
    public struct Memory {
        /// h, (B, S, Hv).
        public let values: Tensor
        /// k, (B, S, K).
        public let keys: Tensor
        /// (B, S): 1 where a source position is padding, 0 where it may be attended.
        public let mask: Tensor?

        /// B.
        public var batchSize: Int { values.shape[0] }
        /// S.
        public var sourceTime: Int { values.shape[1] }

        /// The memory of the batch entries `rows`, in that order (repeats allowed): beam
        /// search gives every hypothesis its own row.
        public func selecting(rows: [Int]) -> Memory {
            Memory(values: values.indexSelect(alongAxis: 0, indices: rows),
                   keys: keys.indexSelect(alongAxis: 0, indices: rows),
                   mask: mask?.indexSelect(alongAxis: 0, indices: rows))
        }
    }

    /// An attention with `score` between decoder states of size `querySize` and encoder
    /// states of size `valueSize`.
    ///
    /// - Parameters:
    ///   - attentionSize: A, the width of the additive score's hidden layer (default Hq);
    ///     ignored by the multiplicative scores.
    /// - Throws: `SequentError` for sizes that are not positive, or a dot score between
    ///   states of different sizes.
    public init(
        score: AlignmentScore, querySize: Int, valueSize: Int, attentionSize: Int? = nil,
        generator: inout RandomGenerator
    ) throws {
        let op = "EncoderDecoderAttention"
        let attentionSize = attentionSize ?? querySize
        guard querySize > 0, valueSize > 0, attentionSize > 0 else {
            throw SequentError.invalidArgument(op, "query, value and attention sizes must be positive, got \(querySize), \(valueSize) and \(attentionSize)")
        }
        self.score = score
        self.querySize = querySize
        self.valueSize = valueSize
        switch score {
        case .additive:
            queryProjection = Linear(inputSize: querySize, outputSize: attentionSize, bias: false, generator: &generator)
            keyProjection = Linear(inputSize: valueSize, outputSize: attentionSize, bias: false, generator: &generator)
            let bound = 1 / Float(attentionSize).squareRoot()
            energyWeight = Parameter(Tensor.randomUniform([attentionSize], lower: -bound, upper: bound, using: &generator))
        case .multiplicative(.dot):
            guard querySize == valueSize else {
                throw SequentError.invalidArgument(op, "the dot score needs decoder and encoder states of one size, got \(querySize) and \(valueSize) (use .general)")
            }
            (queryProjection, keyProjection, energyWeight) = (nil, nil, nil)
        case .multiplicative(.general):
            queryProjection = nil
            keyProjection = Linear(inputSize: valueSize, outputSize: querySize, bias: false, generator: &generator)
            energyWeight = nil
        }
    }

    public var localParameters: [(key: String, parameter: Parameter)] {
        energyWeight.map { [("v", $0)] } ?? []
    }

    public var submodules: [(key: String, module: any Module)] {
        (queryProjection.map { [("query", $0 as any Module)] } ?? []) + (keyProjection.map { [("key", $0 as any Module)] } ?? [])
    }

    /// Prepares the encoder states of a batch: computes every key once.
    ///
    /// - Parameters:
    ///   - values: h, (B, S, Hv).
    ///   - mask: (B, S), 1 at padding; every row must leave at least one position open.
    /// - Throws: `SequentError` when the shapes do not fit or a row is masked entirely.
    public func memory(values: Tensor, mask: Tensor?) throws -> Memory {
        let op = "EncoderDecoderAttention"
        guard values.rank == 3, values.shape[2] == valueSize else {
            throw SequentError.shapeMismatch(op, "expected encoder states of shape (B, S, \(valueSize)), got \(values.shape)")
        }
        if let mask {
            guard mask.shape == Array(values.shape.prefix(2)) else {
                throw SequentError.shapeMismatch(op, "mask \(mask.shape) does not match encoder states \(values.shape) (expected (B, S))")
            }
            let S = values.shape[1]
            for b in 0..<values.shape[0] where mask.scalars[(b * S)..<((b + 1) * S)].allSatisfy({ $0 != 0 }) {
                throw SequentError.invalidArgument(op, "the mask hides every source position of batch entry \(b)")
            }
        }
        return Memory(values: values, keys: Self.keys(values: values, weight: keyProjection?.weight.value), mask: mask)
    }

    /// The context and alignment for one decoder step.
    ///
    /// - Parameters:
    ///   - query: s, (B, Hq): the decoder state that asks (s_{i-1} in Bahdanau's model,
    ///     s_i in Luong's).
    ///   - memory: the prepared encoder states.
    /// - Returns: c (B, Hv) and a (B, S), each row of a summing to 1 over the open positions.
    public func callAsFunction(query: Tensor, memory: Memory) -> (context: Tensor, alignment: Tensor) {
        let energy = Self.energy(query: query, keys: memory.keys,
                                 queryWeight: queryProjection?.weight.value, energyWeight: energyWeight?.value)
        return Self.alignedContext(energy: energy, values: memory.values, mask: memory.mask)
    }

    // MARK: The one scoring / softmax / context path, with the weights passed in

    /// k_j = h_j W^T for every source position, or h_j itself without a weight (dot):
    /// values (B, S, Hv), weight (K, Hv), keys (B, S, K).
    public static func keys(values: Tensor, weight: Tensor?) -> Tensor {
        weight.map { Tensor.linear(values, weight: $0, bias: nil) } ?? values
    }

    /// The energies e_ij of one step: v^T tanh(W_s s + k_j) with a query weight W_s (A, Hq)
    /// and v (A), else s^T k_j. query (B, Hq), keys (B, S, K), energy (B, S).
    public static func energy(query: Tensor, keys: Tensor, queryWeight: Tensor?, energyWeight: Tensor?) -> Tensor {
        let (B, S) = (keys.shape[0], keys.shape[1])
        if let queryWeight, let energyWeight {
            let projectedQuery = Tensor.linear(query, weight: queryWeight, bias: nil)  // (B, A)
            let hidden = (keys + projectedQuery.unsqueezed(at: 1)).tanh()  // (B, S, A)
            return Tensor.matmul(hidden, energyWeight.unsqueezed(at: 1)).reshaped(to: [B, S])  // (B, S, A) (A, 1)
        }
        return Tensor.matmul(keys, query.unsqueezed(at: 2)).reshaped(to: [B, S])  // (B, S, K) (B, K, 1)
    }

    /// The masked softmax of the energies and the weighted sum of the values:
    /// energy (B, S), values (B, S, Hv), mask (B, S) with 1 at padding; alignment (B, S),
    /// context (B, Hv).
    ///
    /// Masked energies become -inf before the softmax, and masked weights are then set to
    /// exactly 0, so the result does not rest on how the vector exp treats -inf (it clamps
    /// its input at -87.3).
    public static func alignedContext(energy: Tensor, values: Tensor, mask: Tensor?) -> (context: Tensor, alignment: Tensor) {
        let alignment: Tensor
        if let mask {
            alignment = energy.maskedFill(where: mask, with: -.infinity).softmax(alongAxis: -1).maskedFill(where: mask, with: 0)
        } else {
            alignment = energy.softmax(alongAxis: -1)
        }
        let context = Tensor.matmul(alignment.unsqueezed(at: 1), values).squeezed(at: 1)  // (B, 1, S) (B, S, Hv)
        return (context, alignment)
    }
}
