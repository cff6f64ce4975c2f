// The one sequence driver shared by RNN, LSTM and GRU: forward and backward through time
// of one layer, every direction, generic over the cell's elementwise kernel. Its two entry
// points take arrays and tensors and set the pointers up once, so that `Tensor.recurrentLayer`
// reads as checks plus the tape; below them, one direction's pass through time.
//
// D = directions, B = batch, T = time, In = input width, H = hiddenSize, G = gateCount * H,
// rows = B * T.
//
// Every per-row buffer (input, gates, states before each step, output) uses the caller's
// sequence layout, so batch-first and time-first inputs need no transpose:
//   row(b, t) = b * T + t (batch-first) or t * B + b (time-first).
//
// Forward:  gates = X W_ih^T                          one matrix product for all steps
//           (or, for token input, gates = rows of the (V, G) table E W_ih^T: a lookup)
//           per step: R = h_{t-1} W_hh^T              one matrix product (M = B)
//                     cell kernel(gates_t, R, biases, state) -> new state, saved activations
// Backward: per step, in reverse: cell backward kernel -> dGates_t (over the saved gates),
//                     dh_{t-1} += dGates_t W_hh       one matrix product (M = B)
//                     db += the rows of dGates_t      (summed while they are in cache)
//           then dW_ih = dGates^T X, dW_hh = dGates^T H_prev, dX = dGates W_ih: three large
//           products over all steps at once (for token input, dTable[v] = the sum of dGates
//           over the rows holding token v replaces dW_ih and dX).
// Threads: the batch entries are independent through time, so with at least 16 entries per
// block (blocks fixed by the machine, not by the thread count) each thread runs its blocks
// through every step, forward and backward, with single-threaded products and no fork or
// join per step (forEachBatchBlock); smaller batches share each step's product and cells out.
// Variable lengths: a row past its sequence's end holds its state, outputs zero, and gets
// zero gate gradients (PyTorch's packed-sequence semantics), on the same path.

/// Where the rows of a sequence lie: (B, T, C) when batch-first, (T, B, C) otherwise.
public struct SequenceLayout: Sendable, Equatable {
    /// B.
    public let batch: Int
    /// T.
    public let time: Int
    /// Whether rows are ordered batch-major (B, T, C).
    public let batchFirst: Bool

    public init(batch: Int, time: Int, batchFirst: Bool) {
        self.batch = batch
        self.time = time
        self.batchFirst = batchFirst
    }

    /// The row of batch entry b at time t.
    @inline(__always) func row(_ b: Int, _ t: Int) -> Int { batchFirst ? b * time + t : t * batch + b }
    /// Rows between consecutive batch entries at one time step.
    @inline(__always) var rowStep: Int { batchFirst ? time : 1 }
    /// B * T.
    var rowCount: Int { batch * time }
}

/// Where a direction's input gates X W_ih^T come from.
enum RecurrentInputSource {
    /// X (rows, In) in the sequence layout, row stride `stride`: one matrix product with W_ih^T.
    case vectors(UnsafePointer<Float>, stride: Int)
    /// One token id per row (sequence layout) into `table` (V, G) = E W_ih^T, the embedding
    /// table E (V, In) already projected: row r's gates are table row tokens[r]. This is
    /// X W_ih^T for X = E[tokens] without X: a lookup instead of a product with In = E
    /// columns, and in backward one sum per token instead of the products for dX and dW_ih.
    case tokens(UnsafePointer<Int>, table: UnsafePointer<Float>, tableRows: Int)
}

/// Raw pointers to one direction's weights: W_ih (G, In), W_hh (G, H), b_ih and b_hh (G).
struct RecurrentWeightPointers {
    let inputWeight: UnsafePointer<Float>
    let recurrentWeight: UnsafePointer<Float>
    let inputBias: UnsafePointer<Float>?
    let recurrentBias: UnsafePointer<Float>?
}

/// What a layer's first operand is.
enum RecurrentLayerInput {
    /// (B, T, In) or (T, B, In): projected by each direction's W_ih.
    case vectors(Tensor)
    /// Token ids in the rows' layout, and each direction's table E W_ih^T (V, G).
    case tokens([Int], tables: [Tensor])
}

/// What a layer's forward pass returns and keeps for its backward pass.
struct RecurrentLayerForward {
    /// (rows, D*H) in the sequence layout.
    var output: [Float]
    /// (D, B, H).
    var finalHidden: [Float]
    /// (D, B, H) for LSTM, empty otherwise.
    var finalCell: [Float]
    /// One per direction.
    let traces: [RecurrentTrace]
}

/// A layer's gradients.
struct RecurrentLayerGradients {
    /// dLoss/dX in X's layout; empty when not asked for or when the input is tokens.
    var input: [Float]
    /// Per direction, in the order of the tape: the first operand of the input projection
    /// (W_ih, or the token table), W_hh, and b_ih, b_hh when present.
    var weights: [[[Float]]]
    /// (D, B, H): dLoss/dh0, and dLoss/dc0 for LSTM (empty otherwise).
    var initialHiddenState: [Float]
    var initialCellState: [Float]
    /// Per direction, ||dLoss/dh_t|| over the batch for t = 0..<T (empty when not asked for).
    var stepNorms: [[Float]]
}

/// What one direction's forward pass keeps for its backward pass.
final class RecurrentTrace {
    /// (rows, G): activated gates, overwritten by their gradients in backward.
    var gates: [Float]
    /// (rows, H): the hidden state before each step.
    var hiddenBefore: [Float]
    /// (rows, H): the cell state before each step (LSTM).
    var cellBefore: [Float]
    /// (rows, H): GRU's W_hn h + b_hn per step; its gradient in backward.
    var extra: [Float]
    /// (B, H): the cell state after the last step (LSTM).
    var finalCell: [Float]

    /// Whether `cellBefore` and `finalCell` (LSTM), and `extra` (GRU), are in use.
    let hasCellState: Bool
    let hasExtra: Bool

    init(rows: Int, batch: Int, hiddenSize: Int, gateCount: Int, hasCellState: Bool, hasExtra: Bool) {
        self.hasCellState = hasCellState
        self.hasExtra = hasExtra
        gates = uninitializedArray(rows * gateCount * hiddenSize)
        hiddenBefore = uninitializedArray(rows * hiddenSize)
        cellBefore = hasCellState ? uninitializedArray(rows * hiddenSize) : []
        extra = hasExtra ? uninitializedArray(rows * hiddenSize) : []
        finalCell = hasCellState ? uninitializedArray(batch * hiddenSize) : []
    }

    /// The buffers' base addresses; nil for the buffers the cell does not use.
    struct Pointers {
        let gates: UnsafeMutablePointer<Float>
        let hiddenBefore: UnsafeMutablePointer<Float>
        let cellBefore: UnsafeMutablePointer<Float>?
        let extra: UnsafeMutablePointer<Float>?
        let finalCell: UnsafeMutablePointer<Float>?
    }

    /// Calls `body` with the buffers' addresses, valid only inside it.
    func withPointers<R>(_ body: (Pointers) -> R) -> R {
        gates.withUnsafeMutableBufferPointer { gatesBuffer in
        hiddenBefore.withUnsafeMutableBufferPointer { hBuffer in
        cellBefore.withUnsafeMutableBufferPointer { cBuffer in
        extra.withUnsafeMutableBufferPointer { extraBuffer in
        finalCell.withUnsafeMutableBufferPointer { finalCellBuffer in
            // Empty buffers may still have an address: decide by the cell, not the pointer.
            body(Pointers(gates: gatesBuffer.baseAddress!, hiddenBefore: hBuffer.baseAddress!,
                          cellBefore: hasCellState ? cBuffer.baseAddress : nil,
                          extra: hasExtra ? extraBuffer.baseAddress : nil,
                          finalCell: hasCellState ? finalCellBuffer.baseAddress : nil))
        }}}}}
    }
}

/// Forward and backward through time for one recurrent layer, every direction.
struct RecurrentSequenceKernel {
    let cell: RecurrentCellType
    let layout: SequenceLayout
    /// In.
    let inputSize: Int
    /// H.
    let hiddenSize: Int
    /// D: 1, or 2 for a bidirectional layer (the reverse direction runs from t = T-1 down to 0).
    let directionCount: Int
    /// Each sequence's length (nil: all T).
    let lengths: [Int]?

    /// Batch entries per thread from which each thread runs entries of its own through time
    /// (measured faster than sharing each step's products from this batch size on).
    static var minimumBatchPerThread: Int { 16 }

    /// The number of batch blocks `forEachBatchBlock` runs: fixed by the batch and the
    /// machine (`Parallelism.splitCount`), not by the thread count, since each block's
    /// products and bias sums give bits of their own.
    var batchBlockCount: Int { max(1, min(Parallelism.splitCount, layout.batch / Self.minimumBatchPerThread)) }

    /// Runs `body(batchRange, block, parallelCells)` over the batch, whose entries are
    /// independent through time: with enough of them, each thread runs its own block of them
    /// through all T steps (its products single-threaded), with no fork or join per step;
    /// otherwise one block holds the whole batch, and `parallelCells` asks it to share each
    /// step's cells out (its products are shared out by oneDNN). `block` < batchBlockCount.
    func forEachBatchBlock(_ body: (_ batchRange: Range<Int>, _ block: Int, _ parallelCells: Bool) -> Void) {
        let (B, blocks) = (layout.batch, batchBlockCount)
        guard blocks > 1 else { return body(0..<B, 0, true) }
        Parallelism.forEachChunk(count: blocks, costPerItem: 1 << 20) { chunk in
            for block in chunk { body((B * block / blocks)..<(B * (block + 1) / blocks), block, false) }
        }
    }

    /// The time index processed at step s of a direction.
    @inline(__always) func time(atStep s: Int, reverse: Bool) -> Int { reverse ? layout.time - 1 - s : s }

    @inline(__always) func isActive(_ b: Int, _ t: Int) -> Bool { lengths.map { t < $0[b] } ?? true }

    // MARK: - One layer, every direction

    /// Runs the forward pass of every direction.
    ///
    /// - Parameters:
    ///   - input: the vectors, or the tokens and each direction's projected table.
    ///   - weights: one entry per direction (forward, then reverse).
    ///   - initialHiddenState, initialCellState: (D, B, H); the cell state for LSTM only.
    func forward(_ input: RecurrentLayerInput, weights: [RecurrentWeights<Tensor>],
                 initialHiddenState: Tensor, initialCellState: Tensor?) -> RecurrentLayerForward {
        switch cell {
        case .rnn(let nonlinearity):
            return forward(RNNCellKernel.self, nonlinearity, input, weights, initialHiddenState, initialCellState)
        case .lstm:
            return forward(LSTMCellKernel.self, .tanh, input, weights, initialHiddenState, initialCellState)
        case .gru:
            return forward(GRUCellKernel.self, .tanh, input, weights, initialHiddenState, initialCellState)
        }
    }

    /// Runs the backward pass of every direction over what `forward` kept.
    ///
    /// - Parameters:
    ///   - dOutput, dFinalHidden, dFinalCell: the gradients of the forward's results (nil: zero).
    ///   - inputGradient: whether to compute dLoss/dX (vector input only).
    ///   - stepNorms: whether to compute the per-step gradient norms.
    func backward(_ input: RecurrentLayerInput, weights: [RecurrentWeights<Tensor>], forward: RecurrentLayerForward,
                  dOutput: Tensor?, dFinalHidden: Tensor?, dFinalCell: Tensor?,
                  inputGradient: Bool, stepNorms: Bool) -> RecurrentLayerGradients {
        switch cell {
        case .rnn(let nonlinearity):
            return backward(RNNCellKernel.self, nonlinearity, input, weights, forward, dOutput, dFinalHidden, dFinalCell, inputGradient, stepNorms)
        case .lstm:
            return backward(LSTMCellKernel.self, .tanh, input, weights, forward, dOutput, dFinalHidden, dFinalCell, inputGradient, stepNorms)
        case .gru:
            return backward(GRUCellKernel.self, .tanh, input, weights, forward, dOutput, dFinalHidden, dFinalCell, inputGradient, stepNorms)
        }
    }

    /// The forward pass of every direction, for one cell kernel: the pointers set up once.
    private func forward<Cell: RecurrentCellKernel>(
        _ kernel: Cell.Type, _ nonlinearity: RecurrentNonlinearity, _ input: RecurrentLayerInput,
        _ weights: [RecurrentWeights<Tensor>], _ initialHiddenState: Tensor, _ initialCellState: Tensor?
    ) -> RecurrentLayerForward {
        let (B, H, D) = (layout.batch, hiddenSize, directionCount)
        let outputWidth = D * H
        let traces = (0..<D).map { _ in
            RecurrentTrace(rows: layout.rowCount, batch: B, hiddenSize: H, gateCount: Cell.gateCount,
                           hasCellState: Cell.hasCellState, hasExtra: Cell.hasSeparateRecurrentGate)
        }
        // Every element is written: outputs by each direction's columns, final states per direction.
        var output = uninitializedArray(layout.rowCount * outputWidth)
        var finalHidden = uninitializedArray(D * B * H)
        var finalCell = Cell.hasCellState ? uninitializedArray(D * B * H) : []
        output.withUnsafeMutableBufferPointer { outputBuffer in
        finalHidden.withUnsafeMutableBufferPointer { finalHiddenBuffer in
        finalCell.withUnsafeMutableBufferPointer { finalCellBuffer in
        initialHiddenState.withUnsafeBufferPointer { h0 in
        (initialCellState ?? Tensor.zeros([0])).withUnsafeBufferPointer { c0 in
            for d in 0..<D {
                withSource(input, direction: d) { source in
                    withPointers(weights[d]) { w in
                        forward(
                            Cell.self, nonlinearity, reverse: d == 1, source: source, weights: w,
                            h0: h0.baseAddress! + d * B * H,
                            c0: Cell.hasCellState ? c0.baseAddress! + d * B * H : nil,
                            output: outputBuffer.baseAddress!, outputStride: outputWidth, outputOffset: d * H,
                            finalHidden: finalHiddenBuffer.baseAddress! + d * B * H,
                            finalCell: Cell.hasCellState ? finalCellBuffer.baseAddress! + d * B * H : nil,
                            trace: traces[d])
                    }
                }
            }
        }}}}}
        return RecurrentLayerForward(output: output, finalHidden: finalHidden, finalCell: finalCell, traces: traces)
    }

    /// The backward pass of every direction, for one cell kernel: the pointers set up once.
    private func backward<Cell: RecurrentCellKernel>(
        _ kernel: Cell.Type, _ nonlinearity: RecurrentNonlinearity, _ input: RecurrentLayerInput,
        _ weights: [RecurrentWeights<Tensor>], _ forward: RecurrentLayerForward,
        _ dOutput: Tensor?, _ dFinalHidden: Tensor?, _ dFinalCell: Tensor?, _ inputGradient: Bool, _ stepNorms: Bool
    ) -> RecurrentLayerGradients {
        let (B, H, D) = (layout.batch, hiddenSize, directionCount)
        let outputWidth = D * H
        var dInput: [Float] = []
        if case .vectors(let x) = input, inputGradient { dInput = [Float](repeating: 0, count: x.count) }
        var dHidden = [Float](repeating: 0, count: D * B * H)
        var dCell = [Float](repeating: 0, count: Cell.hasCellState ? D * B * H : 0)
        var dWeights: [[[Float]]] = []
        var norms: [[Float]] = []
        for d in 0..<D {
            // The first operand of the input projection: W_ih (G, In) or the token table (V, G).
            let firstCount: Int
            switch input {
            case .vectors: firstCount = weights[d].inputWeight.count
            case .tokens(_, let tables): firstCount = tables[d].count
            }
            let hasBias = weights[d].inputBias != nil
            let G = Cell.gateCount * H
            // Overwritten completely by the kernel's products and sums.
            var dFirst = uninitializedArray(firstCount)
            var dRecurrentWeight = uninitializedArray(G * H)
            var dInputBias = hasBias ? uninitializedArray(G) : []
            var dRecurrentBias = hasBias ? uninitializedArray(G) : []
            var directionNorms = [Float](repeating: 0, count: stepNorms ? layout.time : 0)
            withSource(input, direction: d) { source in
                withPointers(weights[d]) { w in
                withOptionalPointer(dOutput) { dOut in
                withOptionalPointer(dFinalHidden) { dhN in
                withOptionalPointer(dFinalCell) { dcN in
                dInput.withUnsafeMutableBufferPointer { dx in
                dHidden.withUnsafeMutableBufferPointer { dh0 in
                dCell.withUnsafeMutableBufferPointer { dc0 in
                dFirst.withUnsafeMutableBufferPointer { dFirst in
                dRecurrentWeight.withUnsafeMutableBufferPointer { dWhh in
                dInputBias.withUnsafeMutableBufferPointer { dbih in
                dRecurrentBias.withUnsafeMutableBufferPointer { dbhh in
                directionNorms.withUnsafeMutableBufferPointer { normBuffer in
                    let isTokens: Bool
                    if case .tokens = source { isTokens = true } else { isTokens = false }
                    let gradients = DirectionGradients(
                        input: dx.isEmpty ? nil : dx.baseAddress, accumulateInput: d > 0,
                        table: isTokens ? dFirst.baseAddress : nil, inputWeight: isTokens ? nil : dFirst.baseAddress,
                        recurrentWeight: dWhh.baseAddress!,
                        inputBias: hasBias ? dbih.baseAddress : nil, recurrentBias: hasBias ? dbhh.baseAddress : nil,
                        h0: dh0.baseAddress! + d * B * H,
                        c0: Cell.hasCellState ? dc0.baseAddress! + d * B * H : nil)
                    backward(
                        Cell.self, nonlinearity, reverse: d == 1, source: source, weights: w,
                        dOutput: dOut, outputStride: outputWidth, outputOffset: d * H,
                        dFinalHidden: dhN.map { $0 + d * B * H }, dFinalCell: dcN.map { $0 + d * B * H },
                        trace: forward.traces[d], gradients: gradients,
                        stepNorms: normBuffer.isEmpty ? nil : normBuffer.baseAddress)
                }}}}}}}}}}}}
            }
            dWeights.append([dFirst, dRecurrentWeight] + (hasBias ? [dInputBias, dRecurrentBias] : []))
            norms.append(directionNorms)
        }
        return RecurrentLayerGradients(input: dInput, weights: dWeights, initialHiddenState: dHidden, initialCellState: dCell, stepNorms: norms)
    }

    /// Calls `body` with direction d's input source.
    private func withSource<R>(_ input: RecurrentLayerInput, direction d: Int, _ body: (RecurrentInputSource) -> R) -> R {
        switch input {
        case .vectors(let x):
            return x.withUnsafeBufferPointer { body(.vectors($0.baseAddress!, stride: inputSize)) }
        case .tokens(let tokens, let tables):
            return tokens.withUnsafeBufferPointer { ids in
                tables[d].withUnsafeBufferPointer {
                    body(.tokens(ids.baseAddress!, table: $0.baseAddress!, tableRows: tables[d].shape[0]))
                }
            }
        }
    }

    private func withPointers<R>(_ w: RecurrentWeights<Tensor>, _ body: (RecurrentWeightPointers) -> R) -> R {
        w.inputWeight.withUnsafeBufferPointer { wih in
            w.recurrentWeight.withUnsafeBufferPointer { whh in
                withOptionalPointer(w.inputBias) { bih in
                    withOptionalPointer(w.recurrentBias) { bhh in
                        body(RecurrentWeightPointers(inputWeight: wih.baseAddress!, recurrentWeight: whh.baseAddress!,
                                                     inputBias: bih, recurrentBias: bhh))
                    }
                }
            }
        }
    }

    // MARK: - One direction through time

    /// Runs one direction's forward pass.
    ///
    /// - Parameters:
    ///   - reverse: whether the direction runs from t = T-1 down to 0.
    ///   - source: the input vectors, or tokens and their projected table.
    ///   - h0, c0: (B, H) initial states (c0 for LSTM only).
    ///   - output: (rows, outputStride); this direction writes columns outputOffset..<+H.
    ///   - finalHidden, finalCell: (B, H) states after each sequence's last step.
    ///   - trace: the buffers to fill for backward.
    private func forward<Cell: RecurrentCellKernel>(
        _: Cell.Type, _ nonlinearity: RecurrentNonlinearity, reverse: Bool,
        source: RecurrentInputSource, weights: RecurrentWeightPointers,
        h0: UnsafePointer<Float>, c0: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, outputStride: Int, outputOffset: Int,
        finalHidden: UnsafeMutablePointer<Float>, finalCell: UnsafeMutablePointer<Float>?,
        trace: RecurrentTrace
    ) {
        let (B, T, H, G) = (layout.batch, layout.time, hiddenSize, Cell.gateCount * hiddenSize)
        guard B > 0 else { return }
        trace.withPointers { buffers in
            let (gates, hBefore, cBefore, extra) = (buffers.gates, buffers.hiddenBefore, buffers.cellBefore, buffers.extra)
            switch source {
            case .vectors(let input, let stride):
                // gates (rows, G) = X (rows, In) W_ih^T: the input projection of every step at once.
                GEMM.multiply(transposeA: false, transposeB: true, m: layout.rowCount, n: G, k: inputSize,
                              a: input, lda: stride, b: weights.inputWeight, ldb: inputSize, c: gates, ldc: G)
            case .tokens(let tokens, let table, _):
                // gates[r] = table[tokens[r]]
                let shared = UncheckedSendable(gates)
                Parallelism.forEachChunk(count: layout.rowCount, costPerItem: G) { rows in
                    for r in rows { (shared.value + r * G).update(from: table + tokens[r] * G, count: G) }
                }
            }
            if T == 0 {
                finalHidden.update(from: h0, count: B * H)
                if let finalCell, let c0 { finalCell.update(from: c0, count: B * H) }
                return
            }
            // The state before the first processed step is the initial state.
            let firstTime = time(atStep: 0, reverse: reverse)
            for b in 0..<B {
                (hBefore + layout.row(b, firstTime) * H).update(from: h0 + b * H, count: H)
                if let cBefore, let c0 { (cBefore + layout.row(b, firstTime) * H).update(from: c0 + b * H, count: H) }
            }
            // In Float, W_hh^T (H, G) is copied once: oneDNN's sgemm with a transposed right
            // operand measured slower at M = B than with a plain one (docs/performance.md,
            // "Figures behind comments"), and this one runs T times. At bfloat16 precision W_hh (G, H) is rounded once (each thread's packed
            // product reorders it) and h_{t-1} at every step.
            let bfloat16 = GEMM.precision == .bfloat16
            let recurrentWeightBits = bfloat16 ? BFloat16.rounded(weights.recurrentWeight, rows: G, cols: H, ld: H) : nil
            let recurrentWeightT = bfloat16 ? nil : UnsafeMutablePointer<Float>.allocate(capacity: H * G)
            defer { recurrentWeightBits?.deallocate(); recurrentWeightT?.deallocate() }
            if let recurrentWeightT {
                StridedCopy.transposeOnThreads(weights.recurrentWeight, rows: G, cols: H, into: recurrentWeightT, ld: G)
            }
            let shared = UncheckedSendable((gates, hBefore, cBefore, extra, output, finalHidden, finalCell,
                                            recurrentWeightT.map { UnsafePointer($0) }, recurrentWeightBits.map { UnsafePointer($0) }))

            /// Runs every step for the batch entries `batchRange`; the cell kernels of a step
            /// are shared out between the threads when `parallelCells`.
            func steps(batchRange: Range<Int>, parallelCells: Bool) {
                let (gates, hBefore, cBefore, extra, output, finalHidden, finalCell, recurrentWeightT, recurrentWeightBits) = shared.value
                let rows = batchRange.count
                let recurrent = UnsafeMutablePointer<Float>.allocate(capacity: rows * G)  // (rows, G)
                let stateBits = recurrentWeightBits != nil ? UnsafeMutablePointer<UInt16>.allocate(capacity: rows * H) : nil
                defer { recurrent.deallocate(); stateBits?.deallocate() }
                // At bfloat16, W_hh^T reordered once for this thread's product (AMX tiles where
                // the CPU has them); oneDNN's plain bfloat16 GEMM where that is not to be had.
                let packedProduct = recurrentWeightBits.flatMap {
                    PackedBFloat16Product(m: rows, k: H, n: G, weights: $0, transposeWeights: true, ldb: H, lda: H, ldc: G)
                }
                // Without bfloat16 kernels: W_hh's bfloat16 values widened once, the states
                // rounded at each step, and Float products (the same mathematics).
                let widenedWeights = recurrentWeightBits.flatMap {
                    CPUSupport.hasNativeBFloat16 ? nil : BFloat16.widened($0, rows: G, cols: H, ld: H)
                }
                let widenedState = widenedWeights != nil ? UnsafeMutablePointer<Float>.allocate(capacity: rows * H) : nil
                defer { widenedWeights?.deallocate(); widenedState?.deallocate() }
                for s in 0..<T {
                    let t = time(atStep: s, reverse: reverse)
                    let nextTime = s + 1 < T ? time(atStep: s + 1, reverse: reverse) : nil
                    let hFirst = hBefore + layout.row(batchRange.lowerBound, t) * H
                    // R (rows, G) = h_{t-1} (rows, H) W_hh^T
                    if let recurrentWeightBits, let stateBits {
                        BFloat16.round(hFirst, rows: rows, cols: H, ld: layout.rowStep * H, into: stateBits)
                        if let packedProduct {
                            packedProduct.multiply(stateBits, into: recurrent)
                        } else if let widenedWeights, let widenedState {
                            BFloat16.widen(stateBits, count: rows * H, into: widenedState)
                            GEMM.$precision.withValue(.float32) {
                                GEMM.multiply(transposeA: false, transposeB: true, m: rows, n: G, k: H,
                                              a: widenedState, lda: H, b: widenedWeights, ldb: H, c: recurrent, ldc: G)
                            }
                        } else {
                            GEMM.multiplyBFloat16(transposeA: false, transposeB: true, m: rows, n: G, k: H,
                                                  a: stateBits, lda: H, b: recurrentWeightBits, ldb: H, c: recurrent, ldc: G)
                        }
                    } else if let recurrentWeightT {
                        GEMM.multiply(transposeA: false, transposeB: false, m: rows, n: G, k: H,
                                      a: hFirst, lda: layout.rowStep * H, b: recurrentWeightT, ldb: G, c: recurrent, ldc: G)
                    }
                    func cells(_ range: Range<Int>) {
                        for b in range {
                            let r = layout.row(b, t)
                            let hNew = nextTime.map { hBefore + layout.row(b, $0) * H } ?? finalHidden + b * H
                            let cNew = cBefore.map { cb in nextTime.map { cb + layout.row(b, $0) * H } ?? finalCell! + b * H }
                            let out = output + r * outputStride + outputOffset
                            guard isActive(b, t) else {
                                // Past the end: hold the state, output zero.
                                hNew.update(from: hBefore + r * H, count: H)
                                if let cNew, let cBefore { cNew.update(from: cBefore + r * H, count: H) }
                                out.update(repeating: 0, count: H)
                                continue
                            }
                            Cell.forward(
                                RecurrentRow(
                                    gates: gates + r * G, recurrent: recurrent + (b - batchRange.lowerBound) * G,
                                    biasIH: weights.inputBias, biasHH: weights.recurrentBias,
                                    hPrev: hBefore + r * H, cPrev: cBefore.map { UnsafePointer($0 + r * H) },
                                    hNew: hNew, cNew: cNew, extra: extra.map { $0 + r * H }),
                                hiddenSize: H, nonlinearity: nonlinearity)
                            out.update(from: hNew, count: H)
                        }
                    }
                    if parallelCells {
                        Parallelism.forEachChunk(count: rows, costPerItem: G * 8) { cells($0.lowerBound + batchRange.lowerBound ..< $0.upperBound + batchRange.lowerBound) }
                    } else {
                        cells(batchRange)
                    }
                }
            }

            forEachBatchBlock { batchRange, _, parallelCells in steps(batchRange: batchRange, parallelCells: parallelCells) }
            // Kept for backward, which starts from the state after the last step.
            if let finalCell, let kept = buffers.finalCell { kept.update(from: finalCell, count: B * H) }
        }
    }

    /// The gradients of one direction, accumulated into the caller's buffers.
    private struct DirectionGradients {
        /// Vector input: (rows, In), row stride as the input's; added to when `accumulateInput`.
        let input: UnsafeMutablePointer<Float>?
        let accumulateInput: Bool
        /// Token input: (V, G), the gradient of the projected table; overwritten.
        let table: UnsafeMutablePointer<Float>?
        /// (G, In) (vector input only), (G, H), (G), (G): overwritten.
        let inputWeight: UnsafeMutablePointer<Float>?
        let recurrentWeight: UnsafeMutablePointer<Float>?
        let inputBias: UnsafeMutablePointer<Float>?
        let recurrentBias: UnsafeMutablePointer<Float>?
        /// (B, H): dLoss/dh0 and dLoss/dc0, overwritten.
        let h0: UnsafeMutablePointer<Float>
        let c0: UnsafeMutablePointer<Float>?
    }

    /// Runs one direction's backward pass; the trace's gates and extra buffers are overwritten.
    ///
    /// - Parameters:
    ///   - dOutput: (rows, outputStride) gradient of the output (nil: zero).
    ///   - dFinalHidden, dFinalCell: (B, H) gradients of the final states (nil: zero).
    ///   - stepNorms: if given, receives ||dLoss/dh_t|| over the batch for every t (time order).
    private func backward<Cell: RecurrentCellKernel>(
        _: Cell.Type, _ nonlinearity: RecurrentNonlinearity, reverse: Bool,
        source: RecurrentInputSource, weights: RecurrentWeightPointers,
        dOutput: UnsafePointer<Float>?, outputStride: Int, outputOffset: Int,
        dFinalHidden: UnsafePointer<Float>?, dFinalCell: UnsafePointer<Float>?,
        trace: RecurrentTrace, gradients: DirectionGradients, stepNorms: UnsafeMutablePointer<Float>?
    ) {
        let (B, T, H, G) = (layout.batch, layout.time, hiddenSize, Cell.gateCount * hiddenSize)
        let rows = layout.rowCount
        // The columns of dGates that also drive W_hh; GRU's last gate comes from `extra`.
        let sharedWidth = Cell.hasSeparateRecurrentGate ? G - H : G
        let dhCarry = gradients.h0, dcCarry = gradients.c0
        if let dFinalHidden { dhCarry.update(from: dFinalHidden, count: B * H) } else { dhCarry.update(repeating: 0, count: B * H) }
        if let dcCarry {
            if let dFinalCell { dcCarry.update(from: dFinalCell, count: B * H) } else { dcCarry.update(repeating: 0, count: B * H) }
        }
        trace.withPointers { buffers in
            let (gates, hBefore, cBefore, extra) = (buffers.gates, buffers.hiddenBefore, buffers.cellBefore, buffers.extra)
            let finalCell = buffers.finalCell
            // Each batch block's sums of the gate gradients (G) and of GRU's `extra` gradients (H)
            // over its rows, taken at each step while the rows are in cache: the bias gradients.
            let sumWidth = G + H
            let biasSums = gradients.inputBias != nil || gradients.recurrentBias != nil
                ? UnsafeMutablePointer<Float>.allocate(capacity: batchBlockCount * sumWidth) : nil
            biasSums?.initialize(repeating: 0, count: batchBlockCount * sumWidth)
            defer { biasSums?.deallocate() }
            if T > 0 && B > 0 {
                let dhTotal = UnsafeMutablePointer<Float>.allocate(capacity: B * H)
                // Each batch block's sum of ||dLoss/dh_t||^2 at every t, added up at the end.
                let normSquares = stepNorms.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: batchBlockCount * T) }
                defer { dhTotal.deallocate(); normSquares?.deallocate() }
                let shared = UncheckedSendable((gates, hBefore, cBefore, extra, finalCell, dhTotal, dhCarry, dcCarry, dOutput, normSquares, biasSums))
                forEachBatchBlock { batchRange, block, parallelCells in
                    let (gates, hBefore, cBefore, extra, finalCell, dhTotal, dhCarry, dcCarry, dOutput, normSquares, biasSums) = shared.value
                    let first = batchRange.lowerBound
                    for s in stride(from: T - 1, through: 0, by: -1) {
                        let t = time(atStep: s, reverse: reverse)
                        let nextTime = s + 1 < T ? time(atStep: s + 1, reverse: reverse) : nil
                        func cells(_ range: Range<Int>) {
                            for b in range {
                                let r = layout.row(b, t)
                                let dh = dhTotal + b * H
                                dh.update(from: dhCarry + b * H, count: H)
                                guard isActive(b, t) else {
                                    // A held state passes its gradient straight through.
                                    (gates + r * G).update(repeating: 0, count: G)
                                    if let extra { (extra + r * H).update(repeating: 0, count: H) }
                                    continue
                                }
                                if let dOutput {
                                    let dOut = dOutput + r * outputStride + outputOffset
                                    ElementwiseKernels.zip(UnsafePointer(dh), dOut, dh, count: H) { $0 + $1 }
                                }
                                let cNew = cBefore.map { cb in UnsafePointer(nextTime.map { cb + layout.row(b, $0) * H } ?? finalCell! + b * H) }
                                Cell.backward(
                                    RecurrentGradientRow(
                                        gates: gates + r * G, hPrev: hBefore + r * H,
                                        cPrev: cBefore.map { UnsafePointer($0 + r * H) }, cNew: cNew,
                                        extra: extra.map { $0 + r * H }, dh: dh,
                                        dc: dcCarry.map { $0 + b * H }, dhPrevDirect: dhCarry + b * H),
                                    hiddenSize: H, nonlinearity: nonlinearity)
                            }
                        }
                        if parallelCells {
                            Parallelism.forEachChunk(count: batchRange.count, costPerItem: G * 8) { cells(($0.lowerBound + first)..<($0.upperBound + first)) }
                        } else {
                            cells(batchRange)
                        }
                        if let normSquares {
                            normSquares[block * T + t] = ReductionKernels.sumOfSquares(dhTotal + first * H, count: batchRange.count * H)
                        }
                        if let biasSums {
                            let sums = biasSums + block * sumWidth
                            for b in batchRange {
                                let r = layout.row(b, t)
                                ElementwiseKernels.zip(UnsafePointer(sums), gates + r * G, sums, count: G) { $0 + $1 }
                                if let extra { ElementwiseKernels.zip(UnsafePointer(sums + G), extra + r * H, sums + G, count: H) { $0 + $1 } }
                            }
                        }
                        // dh_{t-1} += dGates_t (rows, G) W_hh (G, H)
                        GEMM.multiply(transposeA: false, transposeB: false, m: batchRange.count, n: H, k: sharedWidth,
                                      a: gates + layout.row(first, t) * G, lda: layout.rowStep * G,
                                      b: weights.recurrentWeight, ldb: H, beta: 1, c: dhCarry + first * H, ldc: H)
                        if let extra, Cell.hasSeparateRecurrentGate {
                            GEMM.multiply(transposeA: false, transposeB: false, m: batchRange.count, n: H, k: H,
                                          a: extra + layout.row(first, t) * H, lda: layout.rowStep * H,
                                          b: weights.recurrentWeight + sharedWidth * H, ldb: H, beta: 1, c: dhCarry + first * H, ldc: H)
                        }
                    }
                }
                if let stepNorms, let normSquares {
                    for t in 0..<T {
                        stepNorms[t] = (0..<batchBlockCount).reduce(Float(0)) { $0 + normSquares[$1 * T + t] }.squareRoot()
                    }
                }
            }
            // Weight and input gradients: large products over all steps at once.
            if case .vectors(let input, let stride) = source, let dW = gradients.inputWeight {
                GEMM.multiply(transposeA: true, transposeB: false, m: G, n: inputSize, k: rows,
                              a: gates, lda: G, b: input, ldb: stride, c: dW, ldc: inputSize)
            }
            if case .tokens(let tokens, _, let tableRows) = source, let dTable = gradients.table {
                // dTable[v] = sum of dGates[r] over the rows r with tokens[r] = v, in row order;
                // each thread sums its own columns.
                dTable.update(repeating: 0, count: tableRows * G)
                let shared = UncheckedSendable((UnsafePointer(gates), dTable))
                Parallelism.forEachChunk(count: G, costPerItem: rows) { columns in
                    let (gates, dTable) = shared.value
                    for r in 0..<rows {
                        let target = dTable + tokens[r] * G + columns.lowerBound
                        ElementwiseKernels.zip(UnsafePointer(target), gates + r * G + columns.lowerBound, target,
                                               count: columns.count) { $0 + $1 }
                    }
                }
            }
            if let dW = gradients.recurrentWeight {
                GEMM.multiply(transposeA: true, transposeB: false, m: sharedWidth, n: H, k: rows,
                              a: gates, lda: G, b: hBefore, ldb: H, c: dW, ldc: H)
                if let extra, Cell.hasSeparateRecurrentGate {
                    GEMM.multiply(transposeA: true, transposeB: false, m: H, n: H, k: rows,
                                  a: extra, lda: H, b: hBefore, ldb: H, c: dW + sharedWidth * H, ldc: H)
                }
            }
            if let biasSums {
                // db_ih: the blocks' sums added up, in block order.
                for block in 1..<batchBlockCount {
                    ElementwiseKernels.zip(UnsafePointer(biasSums), biasSums + block * sumWidth, biasSums, count: sumWidth) { $0 + $1 }
                }
                gradients.inputBias?.update(from: biasSums, count: G)
                if let db = gradients.recurrentBias {
                    // The same sums over the gate columns both biases share; GRU's last gate's
                    // recurrent bias sums the gradients of `extra`.
                    db.update(from: biasSums, count: sharedWidth)
                    if Cell.hasSeparateRecurrentGate { (db + sharedWidth).update(from: biasSums + G, count: H) }
                }
            }
            if case .vectors(_, let stride) = source, let dX = gradients.input {
                GEMM.multiply(transposeA: false, transposeB: false, m: rows, n: inputSize, k: G,
                              a: gates, lda: G, b: weights.inputWeight, ldb: inputSize,
                              beta: gradients.accumulateInput ? 1 : 0, c: dX, ldc: stride)
            }
        }
    }
}

/// An array of `count` values that the caller overwrites completely before reading.
func uninitializedArray(_ count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}
