// Scaled dot-product attention, fused on the CPU (FlashAttention-2, Dao 2023), with the
// textbook three-loop version kept beside it as the algorithmic reference.
//
// B = batch, h = heads, Tq = queries, Tk = keys, d = query/key width, dv = value width.
// q is (B*h, Tq, d), k is (B*h, Tk, d), v is (B*h, Tk, dv), out is (B*h, Tq, dv),
// logsumexp is (B*h, Tq); all contiguous row-major, except that the forward pass can read
// q, k, v and write out in other layouts (`AttentionOperandLayout`). Scores S = scale * q k^T are only ever
// formed one tile of (Br queries) x (Bc keys) at a time, in scratch owned by one thread.

import CSequentKernels

/// Which (query, key) pairs may not attend, as the kernels read it.
///
/// The one masking convention of Sequent: a pair is masked out when `causal` and the key
/// comes after the query (j > i, top-left aligned), when the key is padding of its batch
/// entry (`keyPadding[b * Tk + j] != 0`), or when the explicit mask is nonzero there.
struct AttentionMaskView: @unchecked Sendable {
    /// Masks keys j > i (query i may see keys 0...i).
    let causal: Bool
    /// h: batch-head index bh is batch bh / heads, head bh % heads.
    let heads: Int
    /// Tk.
    let keyCount: Int
    /// (B, Tk), nonzero = padding; nil without key padding.
    let keyPadding: UnsafePointer<Float>?
    /// (B), one past the last key that is not padding; nil without key padding.
    let keyLimits: UnsafePointer<Int>?
    /// Nonzero = masked, read at b*s.0 + head*s.1 + i*s.2 + j*s.3 (0 where broadcast).
    let mask: UnsafePointer<Float>?
    let maskStrides: (Int, Int, Int, Int)

    /// One past the last key any of the queries before `queryEnd` of `batch` may see.
    @inline(__always)
    func keyEnd(batch: Int, queryEnd: Int) -> Int {
        var end = keyLimits.map { $0[batch] } ?? keyCount
        if causal { end = min(end, queryEnd) }
        return end
    }

    /// Sets row[c] = -inf where query i of (batch, head) may not attend key j0 + c, c < cols.
    @inline(__always)
    func apply(to row: UnsafeMutablePointer<Float>, batch: Int, head: Int, query i: Int, firstKey j0: Int, cols: Int) {
        if causal && i + 1 - j0 < cols {
            let first = max(0, i + 1 - j0)
            (row + first).update(repeating: -.infinity, count: cols - first)
        }
        if let keyPadding {
            let padding = keyPadding + batch * keyCount + j0
            for c in 0..<cols where padding[c] != 0 { row[c] = -.infinity }
        }
        if let mask {
            let s = maskStrides
            let base = mask + batch * s.0 + head * s.1 + i * s.2 + j0 * s.3
            for c in 0..<cols where base[c * s.3] != 0 { row[c] = -.infinity }
        }
    }
}

/// The masks of one attention call in safe storage, lent to the kernels as an
/// `AttentionMaskView` for the length of one call.
struct AttentionMasks {
    /// Masks keys j > i.
    let causal: Bool
    /// h.
    let heads: Int
    /// Tk.
    let keyCount: Int
    /// The explicit mask padded to rank 4 with leading 1s (nonzero = masked), or nil.
    let mask: Tensor?
    /// The explicit mask's strides over (B, h, Tq, Tk), 0 where broadcast.
    let maskStrides: (Int, Int, Int, Int)
    /// (B, Tk), nonzero = padding; nil without key padding.
    let keyPadding: [Float]?
    /// (B), one past the last key that is not padding; nil without key padding.
    let keyLimits: [Int]?

    /// Runs `body` with the masks in the form the kernels read.
    func withView<R>(_ body: (AttentionMaskView) -> R) -> R {
        withOptionalPointer(mask) { maskPointer in
            (keyPadding ?? []).withUnsafeBufferPointer { paddingPointer in
                (keyLimits ?? []).withUnsafeBufferPointer { limitsPointer in
                    body(AttentionMaskView(
                        causal: causal, heads: heads, keyCount: keyCount,
                        keyPadding: keyPadding == nil ? nil : paddingPointer.baseAddress,
                        keyLimits: keyLimits == nil ? nil : limitsPointer.baseAddress,
                        mask: maskPointer, maskStrides: maskStrides))
                }
            }
        }
    }
}

/// Where the rows of one operand of the forward kernel lie: row t of batch-head bh starts
/// at (bh / heads) * batchStride + (bh % heads) * headStride + t * rowStride. Contiguous
/// (B*h, T, width) by default; packed projections (B, T, 3, h, d) read in place otherwise.
struct AttentionOperandLayout {
    let heads: Int
    let batchStride: Int
    let headStride: Int
    let rowStride: Int

    /// (B*h, rows, width) contiguous.
    static func contiguous(rows: Int, width: Int) -> AttentionOperandLayout {
        AttentionOperandLayout(heads: 1, batchStride: rows * width, headStride: 0, rowStride: width)
    }

    @inline(__always)
    func offset(_ batchHead: Int, _ row: Int) -> Int {
        (batchHead / heads) &* batchStride &+ (batchHead % heads) &* headStride &+ row &* rowStride
    }
}

/// The fused attention forward and backward passes and their naive reference.
enum AttentionKernels {
    /// Query rows per tile (Br).
    static let queryBlock = 32
    /// Keys per tile (Bc).
    static let keyBlock = 64

    // MARK: Forward

    /// out = softmax(scale * q k^T + mask) v row by row, with an online softmax over key
    /// tiles (Milakov & Gimelshein, 2018): for each tile, with m the running maximum and
    /// l the running sum of e^(s - m),
    ///
    ///     m' = max(m, max_j s_j),   l' = l e^(m - m') + sum_j e^(s_j - m'),
    ///     o' = o e^(m - m') + sum_j e^(s_j - m') v_j,   and finally out = o / l.
    ///
    /// Keeps logsumexp = m + log l of every row for the backward pass; a fully masked row
    /// gives out = 0 and logsumexp = -inf.
    static func forward(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>, logsumexp: UnsafeMutablePointer<Float>,
        batchHeads: Int, tq: Int, tk: Int, d: Int, dv: Int, scale: Float, mask: AttentionMaskView,
        layouts: (q: AttentionOperandLayout, k: AttentionOperandLayout, v: AttentionOperandLayout, out: AttentionOperandLayout)? = nil
    ) {
        let (br, bc) = (queryBlock, keyBlock)
        let blocks = (tq + br - 1) / br
        let layout = layouts ?? (.contiguous(rows: tq, width: d), .contiguous(rows: tk, width: d),
                                 .contiguous(rows: tk, width: dv), .contiguous(rows: tq, width: dv))
        // An item is a run of query blocks of one batch-head, which transposes the keys they
        // see once: all of a head's blocks when there are heads enough to share out.
        let blocksPerItem = batchHeads >= 8 * Parallelism.threadCount ? blocks : 1
        let itemsPerHead = (blocks + blocksPerItem - 1) / blocksPerItem
        let base = UncheckedSendable((q, k, v, out, logsumexp))
        Parallelism.forEachChunk(count: batchHeads * itemsPerHead, costPerItem: blocksPerItem * br * tk * (d + dv) * 2) { items in
            let (q, k, v, out, logsumexp) = base.value
            // (d, Tk), rows padded so that they do not all fall in the same cache sets.
            let keysStride = tk + 16
            let keysT = UnsafeMutablePointer<Float>.allocate(capacity: d * keysStride)
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: br * bc)   // (Br, Bc)
            let scaledQueries = UnsafeMutablePointer<Float>.allocate(capacity: br * d)  // scale * Q_blk
            let rowMax = UnsafeMutablePointer<Float>.allocate(capacity: br)
            let rowSum = UnsafeMutablePointer<Float>.allocate(capacity: br)
            defer {
                keysT.deallocate(); scores.deallocate(); scaledQueries.deallocate(); rowMax.deallocate(); rowSum.deallocate()
            }
            let scaleVector = FloatVector(repeating: scale)
            for item in items {
                let bh = item / itemsPerHead
                let firstBlock = item % itemsPerHead * blocksPerItem
                let itemEnd = min(tq, (firstBlock + blocksPerItem) * br)
                let transposedKeys = mask.keyEnd(batch: bh / mask.heads, queryEnd: itemEnd)
                StridedCopy.transpose(k + layout.k.offset(bh, 0), rows: transposedKeys, cols: d, rowStride: layout.k.rowStride,
                                      into: keysT, ld: keysStride)
                let outStride = layout.out.rowStride
                for i0 in stride(from: firstBlock * br, to: itemEnd, by: br) {
                    let rows = min(br, tq - i0)
                    let oBlock = out + layout.out.offset(bh, i0)
                    for r in 0..<rows {
                        ElementwiseKernels.map(q + layout.q.offset(bh, i0 + r), scaledQueries + r * d, count: d) { $0 * scaleVector }
                        (oBlock + r * outStride).update(repeating: 0, count: dv)
                    }
                    rowMax.update(repeating: -.infinity, count: rows)
                    rowSum.update(repeating: 0, count: rows)
                    let keyEnd = mask.keyEnd(batch: bh / mask.heads, queryEnd: i0 + rows)
                    for j0 in stride(from: 0, to: keyEnd, by: bc) {
                        let cols = min(bc, keyEnd - j0)
                        maskedScores(scaledQueries, rows: rows, keysT: keysT + j0, keysStride: keysStride, cols: cols, width: d, scale: 1,
                                     into: scores, mask: mask, batchHead: bh, firstQuery: i0, firstKey: j0)
                        for r in 0..<rows {
                            let s = scores + r * bc
                            let newMax = max(rowMax[r], ReductionKernels.reduceContiguous(s, count: cols, .maximum))
                            if newMax == -.infinity {  // everything so far is masked: nothing to add
                                s.update(repeating: 0, count: cols)
                                continue
                            }
                            ActivationKernel.shiftedExp(newMax).apply(s, s, count: cols)
                            let correction = scalarExp(rowMax[r] - newMax)
                            rowSum[r] = rowSum[r] * correction + ReductionKernels.reduceContiguous(s, count: cols, .sum)
                            if correction != 1 { scaleRow(oBlock + r * outStride, count: dv, by: correction) }
                            rowMax[r] = newMax
                        }
                        multiplyAdd(m: rows, n: dv, k: cols, a: scores, lda: bc, transposeA: false,
                                    b: v + layout.v.offset(bh, j0), ldb: layout.v.rowStride, c: oBlock, ldc: outStride)
                    }
                    for r in 0..<rows {
                        if rowSum[r] == 0 {  // fully masked row: zeros, never NaN
                            (oBlock + r * outStride).update(repeating: 0, count: dv)
                            logsumexp[bh * tq + i0 + r] = -.infinity
                        } else {
                            scaleRow(oBlock + r * outStride, count: dv, by: 1 / rowSum[r])
                            logsumexp[bh * tq + i0 + r] = rowMax[r] + _logf(rowSum[r])
                        }
                    }
                }
            }
        }
    }

    // MARK: Backward

    /// The gradients of `forward`, recomputing every tile of P from the saved logsumexp
    /// (FlashAttention-2 backward). With P_ij = exp(s_ij - logsumexp_i) and D_i = dO_i . O_i,
    ///
    ///     dV_j = sum_i P_ij dO_i,      dP_ij = dO_i . v_j,      dS_ij = P_ij (dP_ij - D_i),
    ///     dQ_i = scale sum_j dS_ij k_j,    dK_j = scale sum_i dS_ij q_i.
    ///
    /// Two passes so that no two threads write the same row: one over key tiles (dK, dV),
    /// one over query tiles (dQ). Outputs are overwritten; nil ones are skipped.
    static func backward(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        out: UnsafePointer<Float>, dOut: UnsafePointer<Float>, logsumexp: UnsafePointer<Float>,
        dq: UnsafeMutablePointer<Float>?, dk: UnsafeMutablePointer<Float>?, dv dvOut: UnsafeMutablePointer<Float>?,
        batchHeads: Int, tq: Int, tk: Int, d: Int, dv: Int, scale: Float, mask: AttentionMaskView
    ) {
        let (br, bc) = (queryBlock, keyBlock)
        // D_i = rowsum(dO_i * O_i), (B*h, Tq).
        let rowDot = UnsafeMutablePointer<Float>.allocate(capacity: max(1, batchHeads * tq))
        defer { rowDot.deallocate() }
        let base = UncheckedSendable((q, k, v, out, dOut, logsumexp, rowDot))
        Parallelism.forEachChunk(count: batchHeads * tq, costPerItem: dv) { rows in
            let (_, _, _, out, dOut, _, rowDot) = base.value
            for row in rows { rowDot[row] = dot(out + row * dv, dOut + row * dv, count: dv) }
        }

        /// The tile's P (rows, cols) into `probabilities` and scale * dS into `scoreGradients`.
        func tileGradients(
            bh: Int, i0: Int, rows: Int, j0: Int, cols: Int,
            keysT: UnsafeMutablePointer<Float>, valuesT: UnsafeMutablePointer<Float>,
            probabilities: UnsafeMutablePointer<Float>, scoreGradients: UnsafeMutablePointer<Float>
        ) {
            let (q, _, _, _, dOut, logsumexp, rowDot) = base.value
            maskedScores(q + (bh * tq + i0) * d, rows: rows, keysT: keysT, keysStride: keyBlock, cols: cols, width: d, scale: scale,
                         into: probabilities, mask: mask, batchHead: bh, firstQuery: i0, firstKey: j0)
            // dP = dO_blk V_tile^T, (rows, cols)
            multiplyAdd(m: rows, n: cols, k: dv, a: dOut + (bh * tq + i0) * dv, lda: dv, transposeA: false,
                        b: valuesT, ldb: bc, c: scoreGradients, ldc: bc, accumulating: false)
            for r in 0..<rows {
                let p = probabilities + r * bc, ds = scoreGradients + r * bc
                let lse = logsumexp[bh * tq + i0 + r]
                if lse == -.infinity {  // fully masked row: P = 0, no gradient
                    p.update(repeating: 0, count: cols)
                    ds.update(repeating: 0, count: cols)
                    continue
                }
                ActivationKernel.shiftedExp(lse).apply(p, p, count: cols)
                let dRow = FloatVector(repeating: rowDot[bh * tq + i0 + r]), scaleVector = FloatVector(repeating: scale)
                ElementwiseKernels.zip(p, ds, ds, count: cols) { $0 * ($1 - dRow) * scaleVector }
            }
        }

        // Pass 1, over key tiles: dK_tile = sum over query tiles of dS^T Q, dV_tile = P^T dO.
        if dk != nil || dvOut != nil {
            let blocks = (tk + bc - 1) / bc
            let outputs = UncheckedSendable((dk, dvOut))
            Parallelism.forEachChunk(count: batchHeads * blocks, costPerItem: bc * tq * (2 * d + 2 * dv)) { items in
                let (q, k, v, _, dOut, _, _) = base.value
                let (dk, dvOut) = outputs.value
                let scratch = TileScratch(d: d, dv: dv)
                defer { scratch.deallocate() }
                for item in items {
                    let (bh, j0) = (item / blocks, item % blocks * bc)
                    let dkTile = dk.map { $0 + (bh * tk + j0) * d }, dvTile = dvOut.map { $0 + (bh * tk + j0) * dv }
                    let cols = min(bc, tk - j0)
                    dkTile?.update(repeating: 0, count: cols * d)
                    dvTile?.update(repeating: 0, count: cols * dv)
                    // Keys at or past the padding limit are masked for every query: zero gradient.
                    let activeCols = min(cols, mask.keyEnd(batch: bh / mask.heads, queryEnd: tq) - j0)
                    guard activeCols > 0 else { continue }
                    StridedCopy.transpose(k + (bh * tk + j0) * d, rows: activeCols, cols: d, into: scratch.keysT, ld: bc)
                    StridedCopy.transpose(v + (bh * tk + j0) * dv, rows: activeCols, cols: dv, into: scratch.valuesT, ld: bc)
                    // Under a causal mask, query tiles wholly before key j0 see none of these keys.
                    let firstQuery = mask.causal ? j0 / br * br : 0
                    for i0 in stride(from: firstQuery, to: tq, by: br) {
                        let rows = min(br, tq - i0)
                        tileGradients(bh: bh, i0: i0, rows: rows, j0: j0, cols: activeCols, keysT: scratch.keysT,
                                      valuesT: scratch.valuesT, probabilities: scratch.probabilities,
                                      scoreGradients: scratch.scoreGradients)
                        if let dvTile {  // dV_tile (cols, dv) += P^T (cols, rows) dO_blk (rows, dv)
                            multiplyAdd(m: activeCols, n: dv, k: rows, a: scratch.probabilities, lda: bc, transposeA: true,
                                        b: dOut + (bh * tq + i0) * dv, ldb: dv, c: dvTile, ldc: dv)
                        }
                        if let dkTile {  // dK_tile (cols, d) += dS^T (cols, rows) Q_blk (rows, d)
                            multiplyAdd(m: activeCols, n: d, k: rows, a: scratch.scoreGradients, lda: bc, transposeA: true,
                                        b: q + (bh * tq + i0) * d, ldb: d, c: dkTile, ldc: d)
                        }
                    }
                }
            }
        }

        // Pass 2, over query tiles: dQ_blk = sum over key tiles of dS K_tile.
        if let dq {
            let blocks = (tq + br - 1) / br
            let output = UncheckedSendable(dq)
            Parallelism.forEachChunk(count: batchHeads * blocks, costPerItem: br * tk * (2 * d + dv)) { items in
                let (_, k, v, _, _, _, _) = base.value
                let scratch = TileScratch(d: d, dv: dv)
                defer { scratch.deallocate() }
                for item in items {
                    let (bh, i0) = (item / blocks, item % blocks * br)
                    let rows = min(br, tq - i0)
                    let dqBlock = output.value + (bh * tq + i0) * d
                    dqBlock.update(repeating: 0, count: rows * d)
                    let keyEnd = mask.keyEnd(batch: bh / mask.heads, queryEnd: i0 + rows)
                    for j0 in stride(from: 0, to: keyEnd, by: bc) {
                        let cols = min(bc, keyEnd - j0)
                        StridedCopy.transpose(k + (bh * tk + j0) * d, rows: cols, cols: d, into: scratch.keysT, ld: bc)
                        StridedCopy.transpose(v + (bh * tk + j0) * dv, rows: cols, cols: dv, into: scratch.valuesT, ld: bc)
                        tileGradients(bh: bh, i0: i0, rows: rows, j0: j0, cols: cols, keysT: scratch.keysT,
                                      valuesT: scratch.valuesT, probabilities: scratch.probabilities,
                                      scoreGradients: scratch.scoreGradients)
                        // dQ_blk (rows, d) += dS (rows, cols) K_tile (cols, d)
                        multiplyAdd(m: rows, n: d, k: cols, a: scratch.scoreGradients, lda: bc, transposeA: false,
                                    b: k + (bh * tk + j0) * d, ldb: d, c: dqBlock, ldc: d)
                    }
                }
            }
        }
    }

    /// One thread's tiles for the backward pass.
    private struct TileScratch {
        let keysT: UnsafeMutablePointer<Float>          // (d, Bc)
        let valuesT: UnsafeMutablePointer<Float>        // (dv, Bc)
        let probabilities: UnsafeMutablePointer<Float>  // P, (Br, Bc)
        let scoreGradients: UnsafeMutablePointer<Float> // scale * dS, (Br, Bc)

        init(d: Int, dv: Int) {
            keysT = .allocate(capacity: d * keyBlock)
            valuesT = .allocate(capacity: dv * keyBlock)
            probabilities = .allocate(capacity: queryBlock * keyBlock)
            scoreGradients = .allocate(capacity: queryBlock * keyBlock)
        }

        func deallocate() {
            keysT.deallocate(); valuesT.deallocate(); probabilities.deallocate(); scoreGradients.deallocate()
        }
    }

    // MARK: Mask as an additive bias (the plain path)

    /// out (batches, heads, Tq, Tk) = 0 where query i may attend key j, -inf where masked;
    /// the same rule as the fused kernel (`AttentionMaskView.apply`). `batches` and
    /// `heads` may be 1 when nothing in the mask depends on them.
    static func maskBias(_ mask: AttentionMaskView, into out: UnsafeMutablePointer<Float>, batches: Int, heads: Int, tq: Int, tk: Int) {
        for b in 0..<batches {
            for head in 0..<heads {
                for i in 0..<tq {
                    let row = out + ((b * heads + head) * tq + i) * tk
                    row.update(repeating: 0, count: tk)
                    mask.apply(to: row, batch: b, head: head, query: i, firstKey: 0, cols: tk)
                }
            }
        }
    }

    // MARK: Tiles

    /// S (rows, cols; row stride Bc) = scale * Q_blk (rows, width) K_tile^T, -inf where masked;
    /// `keysT` holds K_tile transposed, (width, cols; row stride `keysStride`).
    @inline(__always)
    static func maskedScores(
        _ qBlock: UnsafePointer<Float>, rows: Int, keysT: UnsafePointer<Float>, keysStride: Int, cols: Int, width: Int, scale: Float,
        into scores: UnsafeMutablePointer<Float>, mask: AttentionMaskView, batchHead bh: Int, firstQuery i0: Int, firstKey j0: Int
    ) {
        let bc = keyBlock
        multiplyAdd(m: rows, n: cols, k: width, a: qBlock, lda: width, transposeA: false, b: keysT, ldb: keysStride,
                    c: scores, ldc: bc, accumulating: false)
        for r in 0..<rows {
            let s = scores + r * bc
            if scale != 1 { scaleRow(s, count: cols, by: scale) }
            mask.apply(to: s, batch: bh / mask.heads, head: bh % mask.heads, query: i0 + r, firstKey: j0, cols: cols)
        }
    }

    /// c (m, n; ldc) += op(a) (m, k) b (k, n; ldb), or c = op(a) b when not `accumulating`;
    /// op(a) = a (m, k; lda) or, transposed, a^T with a (k, m; lda). Vectorized along n, in
    /// C for the CPU's vector unit (`sequent_multiply_add`): a block of four rows by 16
    /// columns of c stays in registers while p runs over k, each row of b loaded once for
    /// four multiply-adds.
    static func multiplyAdd(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulating: Bool = true
    ) {
        sequent_multiply_add(m, n, k, a, lda, transposeA ? 1 : 0, b, ldb, c, ldc, accumulating ? 1 : 0)
    }

    /// x . y over `count` contiguous scalars.
    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        sequent_dot(x, y, count)
    }

    @inline(__always)
    static func scaleRow(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        let f = FloatVector(repeating: factor)
        ElementwiseKernels.map(x, x, count: count) { $0 * f }
    }

    /// e^x for one scalar, by the same polynomial as the vector code (e^-inf = 0).
    @inline(__always)
    static func scalarExp(_ x: Float) -> Float {
        VectorMath.exp(FloatVector(repeating: x))[0]
    }

    // MARK: Safe entry points (for Tensor+Attention.swift)

    /// The fused forward pass on contiguous q (B*h, Tq, d), k (B*h, Tk, d), v (B*h, Tk, dv):
    /// the output, of `outputShape` ((B*h, Tq, dv) scalars), and each row's logsumexp
    /// (B*h, Tq), which the backward pass needs.
    static func forward(
        q: Tensor, k: Tensor, v: Tensor, outputShape: [Int], batchHeads: Int, tq: Int, tk: Int, d: Int, dv: Int,
        scale: Float, masks: AttentionMasks
    ) -> (output: Tensor, logsumexp: [Float]) {
        var logsumexp = [Float](repeating: 0, count: batchHeads * tq)
        let output = Tensor(shape: outputShape) { out in
            q.withUnsafeBufferPointer { qp in
                k.withUnsafeBufferPointer { kp in
                    v.withUnsafeBufferPointer { vp in
                        logsumexp.withUnsafeMutableBufferPointer { lp in
                            masks.withView { mask in
                                forward(q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!,
                                        out: out.baseAddress!, logsumexp: lp.baseAddress!,
                                        batchHeads: batchHeads, tq: tq, tk: tk, d: d, dv: dv, scale: scale, mask: mask)
                            }
                        }
                    }
                }
            }
        }
        return (output, logsumexp)
    }

    /// The gradients of `forward(q:k:v:...)` from dOut, each only where `needs` says so
    /// (in the order q, k, v); shapes as q, k and v.
    static func backward(
        q: Tensor, k: Tensor, v: Tensor, out: Tensor, dOut: Tensor, logsumexp: [Float], needs: (q: Bool, k: Bool, v: Bool),
        batchHeads: Int, tq: Int, tk: Int, d: Int, dv: Int, scale: Float, masks: AttentionMasks
    ) -> (dq: Tensor?, dk: Tensor?, dv: Tensor?) {
        var dq: Tensor? = needs.q ? Tensor.zeros(q.shape) : nil
        var dk: Tensor? = needs.k ? Tensor.zeros(k.shape) : nil
        var dvGradient: Tensor? = needs.v ? Tensor.zeros(v.shape) : nil
        q.withUnsafeBufferPointer { qp in
        k.withUnsafeBufferPointer { kp in
        v.withUnsafeBufferPointer { vp in
        out.withUnsafeBufferPointer { op in
        dOut.withUnsafeBufferPointer { dop in
        logsumexp.withUnsafeBufferPointer { lp in
        withOptionalMutablePointer(&dq) { dqp in
        withOptionalMutablePointer(&dk) { dkp in
        withOptionalMutablePointer(&dvGradient) { dvp in
        masks.withView { mask in
            backward(q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!,
                     out: op.baseAddress!, dOut: dop.baseAddress!, logsumexp: lp.baseAddress!,
                     dq: dqp, dk: dkp, dv: dvp, batchHeads: batchHeads,
                     tq: tq, tk: tk, d: d, dv: dv, scale: scale, mask: mask)
        }}}}}}}}}}
        return (dq, dk, dvGradient)
    }

    /// Multi-head self-attention read in place from packed projections (B, T, 3E), each row
    /// [q | k | v] with h heads of width d = E / h; returns the heads' outputs merged,
    /// (B, T, E). Forward only (inference).
    static func forward(
        packedQueryKeyValue queryKeyValue: Tensor, batch: Int, length: Int, headCount: Int, scale: Float,
        masks: AttentionMasks
    ) -> Tensor {
        let width = queryKeyValue.shape[2] / 3
        let d = width / headCount
        // Row t of head j of batch entry b: q at b*T*3E + t*3E + j*d, k and v E and 2E further;
        // its output at b*T*E + t*E + j*d.
        let packed = AttentionOperandLayout(heads: headCount, batchStride: length * 3 * width, headStride: d, rowStride: 3 * width)
        let merged = AttentionOperandLayout(heads: headCount, batchStride: length * width, headStride: d, rowStride: width)
        var logsumexp = [Float](repeating: 0, count: batch * headCount * length)
        return Tensor(shape: [batch, length, width]) { out in
            guard out.count > 0 else { return }
            queryKeyValue.withUnsafeBufferPointer { qkv in
                logsumexp.withUnsafeMutableBufferPointer { lp in
                    masks.withView { maskView in
                        forward(
                            q: qkv.baseAddress!, k: qkv.baseAddress! + width, v: qkv.baseAddress! + 2 * width,
                            out: out.baseAddress!, logsumexp: lp.baseAddress!, batchHeads: batch * headCount,
                            tq: length, tk: length, d: d, dv: d, scale: scale, mask: maskView,
                            layouts: (packed, packed, packed, merged))
                    }
                }
            }
        }
    }

    /// The masks as an additive bias, (batches, heads, Tq, Tk): 0 where query i may attend
    /// key j, -inf where masked.
    static func maskBias(_ masks: AttentionMasks, batches: Int, heads: Int, tq: Int, tk: Int) -> Tensor {
        Tensor(shape: [batches, heads, tq, tk]) { out in
            guard out.count > 0 else { return }
            masks.withView { view in
                maskBias(view, into: out.baseAddress!, batches: batches, heads: heads, tq: tq, tk: tk)
            }
        }
    }

    // MARK: Reference

    /// The same forward pass by the textbook formula in Double, materialising every row of
    /// scores: the reference for tests. Fully masked rows give zeros.
    static func forwardNaive(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
        batchHeads: Int, tq: Int, tk: Int, d: Int, dv: Int, scale: Float, mask: AttentionMaskView
    ) {
        var bias = [Float](repeating: 0, count: tk)
        for bh in 0..<batchHeads {
            for i in 0..<tq {
                bias.withUnsafeMutableBufferPointer {
                    $0.update(repeating: 0)
                    mask.apply(to: $0.baseAddress!, batch: bh / mask.heads, head: bh % mask.heads, query: i, firstKey: 0, cols: tk)
                }
                var scores = [Double](repeating: -.infinity, count: tk)
                for j in 0..<tk where bias[j] == 0 {
                    var sum = 0.0
                    for p in 0..<d { sum += Double(q[(bh * tq + i) * d + p]) * Double(k[(bh * tk + j) * d + p]) }
                    scores[j] = Double(scale) * sum
                }
                let peak = scores.max() ?? -.infinity
                let weights = scores.map { peak == -.infinity ? 0 : _exp($0 - peak) }
                let total = weights.reduce(0, +)
                for c in 0..<dv {
                    var sum = 0.0
                    for j in 0..<tk where weights[j] > 0 { sum += weights[j] * Double(v[(bh * tk + j) * dv + c]) }
                    out[(bh * tq + i) * dv + c] = total > 0 ? Float(sum / total) : 0
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#else
import Foundation
@inline(__always) private func _exp(_ x: Double) -> Double { Foundation.exp(x) }
#endif
