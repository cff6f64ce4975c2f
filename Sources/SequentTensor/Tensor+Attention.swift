// Scaled dot-product attention (Vaswani et al., 2017) as one differentiable operation, and
// the one masking convention of Sequent.
//
// B = batch, h = heads, Tq = queries, Tk = keys, d = query/key width, dv = value width.
//
// MASKS. Everywhere in Sequent a mask says what may NOT take part: a nonzero (true) entry
// means "masked out / may not attend", zero means "attends". This is the convention of
// PyTorch's boolean masks in nn.MultiheadAttention (attn_mask, key_padding_mask) and
// nn.Transformer; note that F.scaled_dot_product_attention uses the opposite one (True =
// takes part). Three kinds combine (a pair is masked if any of them masks it):
//   - `mask`: any tensor broadcastable to the scores (B, h, Tq, Tk) (or (B, Tq, Tk) for 3-D
//     inputs), e.g. (Tq, Tk) for every batch entry and head;
//   - key padding: `keyPaddingMask` (B, Tk), nonzero = padding, or `keyLengths` (B), keys
//     j >= keyLengths[b] are padding;
//   - `causal`: query i sees keys 0...i only (top-left aligned, as PyTorch's is_causal).
// A query row that is masked everywhere gets output 0 and gradient 0, never NaN.

/// Which of the two implementations of scaled dot-product attention to run.
public enum AttentionImplementation: Sendable {
    /// The fused kernel: tiles over keys with an online softmax and never forms the
    /// (Tq, Tk) score matrix; the backward pass recomputes it tile by tile.
    case fused
    /// matmul + softmax + matmul through the ordinary operations; keeps the (B, h, Tq, Tk)
    /// weights (and is the path that can return them or apply dropout to them).
    case plain
}

extension Tensor {
    /// Scaled dot-product attention,
    ///
    ///     out = softmax(Q K^T * scale + M) V,    scale = 1/sqrt(d) by default,
    ///
    /// where M is -inf at the masked pairs and 0 elsewhere (see the masking convention at the
    /// top of `Tensor+Attention.swift`: nonzero = may not attend).
    ///
    /// Q is (B, h, Tq, d), K is (B, h, Tk, d), V is (B, h, Tk, dv), out is (B, h, Tq, dv);
    /// 3-D inputs (B, Tq, d), (B, Tk, d), (B, Tk, dv) give (B, Tq, dv).
    ///
    /// - Parameters:
    ///   - query: Q.
    ///   - key: K.
    ///   - value: V.
    ///   - mask: nonzero = masked; broadcastable to (B, h, Tq, Tk) ((B, Tq, Tk) for 3-D).
    ///   - keyPaddingMask: (B, Tk), nonzero = key j of batch entry b is padding.
    ///   - keyLengths: (B) valid key counts; keys j >= keyLengths[b] are padding.
    ///   - causal: mask keys after the query (j > i).
    ///   - scale: the factor on Q K^T; nil for 1/sqrt(d).
    ///   - implementation: `.fused` (default) or `.plain`; both give the same values.
    public static func scaledDotProductAttention(
        query: Tensor, key: Tensor, value: Tensor, mask: Tensor? = nil, keyPaddingMask: Tensor? = nil,
        keyLengths: [Int]? = nil, causal: Bool = false, scale: Float? = nil,
        implementation: AttentionImplementation = .fused
    ) -> Tensor {
        let problem = AttentionProblem(query: query, key: key, value: value, mask: mask, keyPaddingMask: keyPaddingMask,
                                       keyLengths: keyLengths, causal: causal, scale: scale)
        let (q, k, v) = (problem.lifted(query), problem.lifted(key), problem.lifted(value))
        switch implementation {
        case .fused:
            return problem.restoringRank(fusedAttention(problem, q, k, v))
        case .plain:
            return problem.restoringRank(plainAttention(problem, q, k, v, dropout: nil).output)
        }
    }

    /// Scaled dot-product attention that also returns the attention weights
    /// softmax(Q K^T * scale + M), (B, h, Tq, Tk) ((B, Tq, Tk) for 3-D inputs); always the
    /// plain path. Arguments as `scaledDotProductAttention`.
    public static func scaledDotProductAttentionWithWeights(
        query: Tensor, key: Tensor, value: Tensor, mask: Tensor? = nil, keyPaddingMask: Tensor? = nil,
        keyLengths: [Int]? = nil, causal: Bool = false, scale: Float? = nil
    ) -> (output: Tensor, weights: Tensor) {
        let problem = AttentionProblem(query: query, key: key, value: value, mask: mask, keyPaddingMask: keyPaddingMask,
                                       keyLengths: keyLengths, causal: causal, scale: scale)
        let (output, weights) = plainAttention(problem, problem.lifted(query), problem.lifted(key), problem.lifted(value),
                                               dropout: nil)
        return (problem.restoringRank(output), problem.restoringRank(weights))
    }

    /// Scaled dot-product attention with inverted dropout on the attention weights, as
    /// nn.MultiheadAttention in training: out = dropout(P) V with P = softmax(...). Returns
    /// out and the weights after dropout (as PyTorch does); always the plain path.
    ///
    /// - Parameters:
    ///   - dropoutProbability: p in [0, 1); 0 draws nothing from `generator`.
    ///   - generator: the source of the dropout mask (one draw per call).
    ///   - others: as `scaledDotProductAttention`.
    public static func scaledDotProductAttentionWithWeights(
        query: Tensor, key: Tensor, value: Tensor, mask: Tensor? = nil, keyPaddingMask: Tensor? = nil,
        keyLengths: [Int]? = nil, causal: Bool = false, scale: Float? = nil,
        dropoutProbability: Float, using generator: inout RandomGenerator
    ) -> (output: Tensor, weights: Tensor) {
        let problem = AttentionProblem(query: query, key: key, value: value, mask: mask, keyPaddingMask: keyPaddingMask,
                                       keyLengths: keyLengths, causal: causal, scale: scale)
        var generator2 = generator
        defer { generator = generator2 }
        let (output, weights) = plainAttention(problem, problem.lifted(query), problem.lifted(key), problem.lifted(value)) {
            $0.dropout(probability: dropoutProbability, using: &generator2)
        }
        return (problem.restoringRank(output), problem.restoringRank(weights))
    }

    /// Multi-head self-attention on packed projections: `queryKeyValue` is (B, T, 3E), each
    /// row [q | k | v] with q, k, v split into `headCount` heads of width d = E / h (the
    /// layout of x [W_q; W_k; W_v]^T, PyTorch's `in_proj_weight`). Returns the heads'
    /// outputs concatenated, (B, T, E): equal to splitting q, k, v into (B, h, T, d), running
    /// `scaledDotProductAttention` and merging the heads back.
    ///
    /// That is what it records when gradients are recorded; otherwise (inference) the fused
    /// kernel reads q, k, v where they lie and writes each head's output in place, with no
    /// copies to (B, h, T, d) and back. Masks as `scaledDotProductAttention`, with Tq = Tk = T.
    public static func scaledDotProductSelfAttention(
        packedQueryKeyValue queryKeyValue: Tensor, headCount: Int, mask: Tensor? = nil, keyPaddingMask: Tensor? = nil,
        keyLengths: [Int]? = nil, causal: Bool = false
    ) -> Tensor {
        Tensor.require {
            guard queryKeyValue.rank == 3, headCount > 0, queryKeyValue.shape[2] % (3 * headCount) == 0 else {
                throw SequentError.shapeMismatch("scaledDotProductSelfAttention", "packed projections must be (B, T, 3E) with E divisible by \(headCount) heads, got \(queryKeyValue.shape)")
            }
        }
        let (batch, length, width) = (queryKeyValue.shape[0], queryKeyValue.shape[1], queryKeyValue.shape[2] / 3)
        let d = width / headCount
        if GradientMode.isEnabled && queryKeyValue.requiresGrad {
            let heads = queryKeyValue.reshaped(to: [batch, length, 3, headCount, d]).permuted([2, 0, 3, 1, 4])
            let out = scaledDotProductAttention(
                query: heads.select(alongAxis: 0, index: 0), key: heads.select(alongAxis: 0, index: 1),
                value: heads.select(alongAxis: 0, index: 2), mask: mask, keyPaddingMask: keyPaddingMask,
                keyLengths: keyLengths, causal: causal)
            return out.permuted([0, 2, 1, 3]).reshaped(to: [batch, length, width])
        }
        let headShape = [batch, headCount, length, d]
        let problem = AttentionProblem(queryShape: headShape, keyShape: headShape, valueShape: headShape, mask: mask,
                                       keyPaddingMask: keyPaddingMask, keyLengths: keyLengths, causal: causal, scale: nil)
        // q, k, v read where they lie in the packed rows; each head written in place.
        return AttentionKernels.forward(
            packedQueryKeyValue: queryKeyValue, batch: batch, length: length, headCount: headCount,
            scale: problem.scale, masks: problem.masks)
    }

    // MARK: The two paths

    /// The fused kernel and its FlashAttention-2 backward; q, k, v are 4-D.
    private static func fusedAttention(_ problem: AttentionProblem, _ q: Tensor, _ k: Tensor, _ v: Tensor) -> Tensor {
        let (batchHeads, tq, tk, d, dv) = (problem.batch * problem.heads, problem.tq, problem.tk, problem.d, problem.dv)
        let scale = problem.scale
        let (output, logsumexp) = AttentionKernels.forward(
            q: q, k: k, v: v, outputShape: [problem.batch, problem.heads, tq, dv],
            batchHeads: batchHeads, tq: tq, tk: tk, d: d, dv: dv, scale: scale, masks: problem.masks)
        // Saved for the backward pass: Q, K, V, the output and each row's logsumexp.
        return recorded(output, operation: "scaledDotProductAttention", inputs: [q, k, v]) { dOut, needs in
            let (dq, dk, dvGradient) = AttentionKernels.backward(
                q: q, k: k, v: v, out: output, dOut: dOut, logsumexp: logsumexp, needs: (needs[0], needs[1], needs[2]),
                batchHeads: batchHeads, tq: tq, tk: tk, d: d, dv: dv, scale: scale, masks: problem.masks)
            return [dq, dk, dvGradient]
        }
    }

    /// softmax(Q K^T * scale + M) then optional dropout then times V, through recorded
    /// operations; inputs are 4-D. Returns out (B, h, Tq, dv) and the weights (B, h, Tq, Tk)
    /// after dropout.
    private static func plainAttention(
        _ problem: AttentionProblem, _ q: Tensor, _ k: Tensor, _ v: Tensor, dropout: ((Tensor) -> Tensor)?
    ) -> (output: Tensor, weights: Tensor) {
        var scores = matmul(q, k.transposed(-2, -1)) * problem.scale
        if let bias = problem.maskBias() { scores = scores + bias }
        var weights = scores.softmax(alongAxis: -1)  // fully masked rows give zeros
        if let dropout { weights = dropout(weights) }
        return (matmul(weights, v), weights)
    }

    // MARK: Shape checks

    /// Checks that the shapes of an attention call fit together, naming both shapes that
    /// do not.
    static func checkAttention(
        queryShape: [Int], keyShape: [Int], valueShape: [Int], maskShape: [Int]?, keyPaddingShape: [Int]?, keyLengths: [Int]?
    ) throws(SequentError) {
        let op = "scaledDotProductAttention"
        guard queryShape.count == 3 || queryShape.count == 4 else {
            throw .shapeMismatch(op, "query must be (B, h, Tq, d) or (B, Tq, d), got \(queryShape)")
        }
        guard keyShape.count == queryShape.count, valueShape.count == queryShape.count else {
            throw .shapeMismatch(op, "query \(queryShape), key \(keyShape) and value \(valueShape) must have the same rank")
        }
        let leading = queryShape.count - 2
        guard Array(keyShape.prefix(leading)) == Array(queryShape.prefix(leading)) else {
            throw .shapeMismatch(op, "key \(keyShape) and query \(queryShape) differ in batch or heads")
        }
        guard keyShape.last == queryShape.last else {
            throw .shapeMismatch(op, "key width \(keyShape.last!) differs from query width \(queryShape.last!): key \(keyShape), query \(queryShape)")
        }
        guard Array(valueShape.prefix(leading + 1)) == Array(keyShape.prefix(leading + 1)) else {
            throw .shapeMismatch(op, "value \(valueShape) does not fit key \(keyShape) (batch, heads and Tk must agree)")
        }
        let (batch, tq, tk) = (queryShape[0], queryShape[leading], keyShape[leading])
        let scoreShape = Array(queryShape.prefix(leading)) + [tq, tk]
        if let maskShape {
            let fits = maskShape.count <= scoreShape.count && zip(maskShape.reversed(), scoreShape.reversed()).allSatisfy { $0 == $1 || $0 == 1 }
            guard fits else {
                throw .shapeMismatch(op, "mask \(maskShape) does not broadcast to the scores \(scoreShape) (\(queryShape.count == 4 ? "B, h, Tq, Tk" : "B, Tq, Tk"))")
            }
        }
        if let keyPaddingShape, keyPaddingShape != [batch, tk] {
            throw .shapeMismatch(op, "key padding mask \(keyPaddingShape) must be (B, Tk) = \([batch, tk]) for key \(keyShape)")
        }
        if let keyLengths {
            guard keyLengths.count == batch else {
                throw .invalidArgument(op, "expected \(batch) key lengths (one per batch entry) for key \(keyShape), got \(keyLengths.count)")
            }
            if let bad = keyLengths.first(where: { $0 < 0 || $0 > tk }) {
                throw .invalidArgument(op, "key length \(bad) must be in 0...\(tk) for key \(keyShape)")
            }
            if keyPaddingShape != nil {
                throw .invalidArgument(op, "give key padding as a mask or as lengths, not both")
            }
        }
    }
}

/// One attention call, checked and brought to 4-D, with its masks in kernel form.
private struct AttentionProblem {
    let batch: Int, heads: Int, tq: Int, tk: Int, d: Int, dv: Int
    let scale: Float
    /// Whether the caller passed 3-D tensors (results are returned 3-D).
    let threeDimensional: Bool
    /// The masks in the form the kernels take: causal, the explicit mask padded to rank 4
    /// with its broadcast strides, the key padding from either of its forms.
    let masks: AttentionMasks

    /// The problem of attending from `query` to `key` and `value` (only their shapes are read).
    init(query: Tensor, key: Tensor, value: Tensor, mask: Tensor?, keyPaddingMask: Tensor?, keyLengths: [Int]?,
         causal: Bool, scale: Float?) {
        self.init(queryShape: query.shape, keyShape: key.shape, valueShape: value.shape, mask: mask,
                  keyPaddingMask: keyPaddingMask, keyLengths: keyLengths, causal: causal, scale: scale)
    }

    init(queryShape: [Int], keyShape: [Int], valueShape: [Int], mask: Tensor?, keyPaddingMask: Tensor?, keyLengths: [Int]?,
         causal: Bool, scale: Float?) {
        Tensor.require {
            try Tensor.checkAttention(queryShape: queryShape, keyShape: keyShape, valueShape: valueShape,
                                      maskShape: mask?.shape, keyPaddingShape: keyPaddingMask?.shape, keyLengths: keyLengths)
        }
        threeDimensional = queryShape.count == 3
        let lift = { (shape: [Int]) in shape.count == 3 ? [shape[0], 1, shape[1], shape[2]] : shape }
        let (query, key, value) = (lift(queryShape), lift(keyShape), lift(valueShape))
        (batch, heads, tq, d) = (query[0], query[1], query[2], query[3])
        (tk, dv) = (key[2], value[3])
        self.scale = scale ?? 1 / Float(d).squareRoot()

        let explicitMask: Tensor?, maskStrides: (Int, Int, Int, Int)
        if let mask {
            // Rank 4 with leading 1s; for 3-D inputs the missing head axis is axis 1.
            let scoreRank = threeDimensional ? 3 : 4
            var shape4 = [Int](repeating: 1, count: scoreRank - mask.rank) + mask.shape
            if threeDimensional { shape4.insert(1, at: 1) }
            let m = mask.detached().reshaped(to: shape4)
            let dims = m.shape
            let contiguous = [dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1]
            let s = (0..<4).map { dims[$0] == 1 ? 0 : contiguous[$0] }
            explicitMask = m
            maskStrides = (s[0], s[1], s[2], s[3])
        } else {
            explicitMask = nil
            maskStrides = (0, 0, 0, 0)
        }

        var padding: [Float]? = keyPaddingMask?.scalars
        if let keyLengths {
            padding = keyLengths.flatMap { length in (0..<keyShape[keyShape.count - 2]).map { $0 >= length ? Float(1) : 0 } }
        }
        let (batch, tk) = (self.batch, self.tk)
        let keyLimits = padding.map { padding in
            (0..<batch).map { b in
                let row = padding[(b * tk)..<((b + 1) * tk)]
                return (row.lastIndex(where: { $0 == 0 }).map { $0 - b * tk + 1 }) ?? 0
            }
        }
        masks = AttentionMasks(causal: causal, heads: heads, keyCount: tk, mask: explicitMask, maskStrides: maskStrides,
                               keyPadding: padding, keyLimits: keyLimits)
    }

    /// An input brought to 4-D: (B, 1, T, width) for 3-D inputs.
    func lifted(_ t: Tensor) -> Tensor { threeDimensional ? t.unsqueezed(at: 1) : t }

    /// A 4-D result back to 3-D when the inputs were 3-D.
    func restoringRank(_ t: Tensor) -> Tensor { threeDimensional ? t.squeezed(at: 1) : t }


    /// The masks as an additive bias (0 or -inf), (B or 1, h or 1, Tq, Tk); nil without masks.
    func maskBias() -> Tensor? {
        guard masks.causal || masks.keyPadding != nil || masks.mask != nil else { return nil }
        let batches = masks.keyPadding != nil || masks.maskStrides.0 != 0 ? batch : 1
        let headCount = masks.maskStrides.1 != 0 ? heads : 1
        return AttentionKernels.maskBias(masks, batches: batches, heads: headCount, tq: tq, tk: tk)
    }
}
