// One recurrent layer (one or two directions) on the fused sequence kernel, behind arrays and
// tensors: the pointer set-up of forward and backward lives here, once, so that
// `Tensor.recurrentLayer` reads as checks plus the tape.
//
// D = directions, B = batch, T = time, In = input width, H = hidden size, G = gateCount * H.

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
    var initialHidden: [Float]
    var initialCell: [Float]
    /// Per direction, ||dLoss/dh_t|| over the batch for t = 0..<T (empty when not asked for).
    var stepNorms: [[Float]]
}

/// The kernels of one layer, every direction.
struct RecurrentLayerKernel {
    let cell: RecurrentCellType
    let layout: SequenceLayout
    let inputSize: Int
    let hiddenSize: Int
    let directionCount: Int
    /// Each sequence's length (nil: all T).
    let lengths: [Int]?

    func forward(_ input: RecurrentLayerInput, weights: [RecurrentWeights<Tensor>],
                 initialHidden: Tensor, initialCell: Tensor?) -> RecurrentLayerForward {
        switch cell {
        case .rnn(let nonlinearity):
            return forward(RNNCellKernel.self, nonlinearity, input, weights, initialHidden, initialCell)
        case .lstm:
            return forward(LSTMCellKernel.self, .tanh, input, weights, initialHidden, initialCell)
        case .gru:
            return forward(GRUCellKernel.self, .tanh, input, weights, initialHidden, initialCell)
        }
    }

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

    private func sequenceKernel<Cell: RecurrentCellKernel>(_: Cell.Type, _ nonlinearity: RecurrentNonlinearity, direction: Int) -> RecurrentSequenceKernel<Cell> {
        RecurrentSequenceKernel<Cell>(layout: layout, inputSize: inputSize, hiddenSize: hiddenSize, nonlinearity: nonlinearity,
                                      lengths: lengths, reverse: direction == 1)
    }

    private func forward<Cell: RecurrentCellKernel>(
        _ kernel: Cell.Type, _ nonlinearity: RecurrentNonlinearity, _ input: RecurrentLayerInput,
        _ weights: [RecurrentWeights<Tensor>], _ initialHidden: Tensor, _ initialCell: Tensor?
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
        initialHidden.withUnsafeBufferPointer { h0 in
        (initialCell ?? Tensor.zeros([0])).withUnsafeBufferPointer { c0 in
            for d in 0..<D {
                withSource(input, direction: d) { source in
                    withPointers(weights[d]) { w in
                        sequenceKernel(Cell.self, nonlinearity, direction: d).forward(
                            source: source, weights: w,
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
                    let gradients = RecurrentSequenceKernel<Cell>.Gradients(
                        input: dx.isEmpty ? nil : dx.baseAddress, accumulateInput: d > 0,
                        table: isTokens ? dFirst.baseAddress : nil, inputWeight: isTokens ? nil : dFirst.baseAddress,
                        recurrentWeight: dWhh.baseAddress!,
                        inputBias: hasBias ? dbih.baseAddress : nil, recurrentBias: hasBias ? dbhh.baseAddress : nil,
                        h0: dh0.baseAddress! + d * B * H,
                        c0: Cell.hasCellState ? dc0.baseAddress! + d * B * H : nil)
                    sequenceKernel(Cell.self, nonlinearity, direction: d).backward(
                        source: source, weights: w,
                        dOutput: dOut, outputStride: outputWidth, outputOffset: d * H,
                        dFinalHidden: dhN.map { $0 + d * B * H }, dFinalCell: dcN.map { $0 + d * B * H },
                        trace: forward.traces[d], gradients: gradients,
                        stepNorms: normBuffer.isEmpty ? nil : normBuffer.baseAddress)
                }}}}}}}}}}}}
            }
            dWeights.append([dFirst, dRecurrentWeight] + (hasBias ? [dInputBias, dRecurrentBias] : []))
            norms.append(directionNorms)
        }
        return RecurrentLayerGradients(input: dInput, weights: dWeights, initialHidden: dHidden, initialCell: dCell, stepNorms: norms)
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
}

/// An array of `count` values that the caller overwrites completely before reading.
func uninitializedArray(_ count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}
