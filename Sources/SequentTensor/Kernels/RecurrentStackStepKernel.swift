// Token-by-token inference through a stack of unidirectional recurrent layers with carried
// state, for one sequence at a time (text generation, streaming): the buffers and pointer
// work behind SequentNN's `RecurrentStepper`, which checks its arguments and calls this.
//
// The weights are copied once into a layout for matrix-vector products; every buffer a step
// needs is kept, and each step runs as one parallel region that fuses the products with the
// cell, with a barrier between layers: no allocation and no autograd bookkeeping per step.
// Each thread also applies its columns of the output head to its units of the top layer's
// new state in that region, so that `logits(into:)` only adds the threads' parts.
//
// L = layers, H = hiddenSize, In = input width of the first layer, V = head outputs.

/// The kernel of SequentNN's `RecurrentStepper`; its arguments are checked there.
package final class RecurrentStackStepKernel {
    let cell: RecurrentCellType
    let hiddenSize: Int
    let inputSize: Int
    private let layers: [RecurrentStepLayer]
    /// The hidden state of each layer (L, H) and the LSTM cell state, double-buffered.
    private var hiddenState: [Float]
    private var hiddenStateNext: [Float]
    private var cellState: [Float]
    private var cellNext: [Float]
    /// With bfloat16 weights, `hiddenState` rounded for the products (L, P), P = (H + 1) / 2,
    /// double-buffered: each thread rounds its own units once per step.
    private var hiddenPairs: [UInt32]
    private var hiddenPairsNext: [UInt32]
    /// With bfloat16 weights, the input of `step(_:)` rounded ((In + 1) / 2).
    private var inputPairs: [UInt32]
    /// (V, G) rows W_ih x_v for the first layer, when inputs are tokens of an embedding.
    private let inputTable: [Float]
    private let tableRows: Int
    /// The output head's columns for each thread's units (V, units), and its bias (V).
    private let headParts: [VectorProductMatrix]
    private let headBias: [Float]
    /// (parts, V): each part's head columns applied to its units of the top layer's state.
    private var partialLogits: [Float]
    /// Whether `partialLogits` belong to the current state (a reset makes them stale).
    private var partialLogitsCurrent = false
    let weightPrecision: WeightPrecision
    /// Whether the next step reads the weights backwards (alternating from step to step).
    private var backwards = false

    /// Prepares the kernel for `weights` (checked by the caller: one entry per layer, W_ih
    /// (G, In) for the first and (G, H) for the others, W_hh (G, H); `embedding` (V', In);
    /// `head` weight (V, H) and bias (V)).
    package init(
        cell: RecurrentCellType, hiddenSize: Int, inputSize: Int, layers weights: [RecurrentWeights<Tensor>],
        embedding: Tensor?, head: (weight: Tensor, bias: Tensor?)?, weightPrecision: WeightPrecision
    ) {
        self.weightPrecision = weightPrecision
        headBias = head.map { $0.bias?.scalars ?? [Float](repeating: 0, count: $0.weight.shape[0]) } ?? []
        self.cell = cell
        self.hiddenSize = hiddenSize
        self.inputSize = inputSize
        let threads = Parallelism.threadCount
        self.layers = weights.enumerated().map { index, w in
            w.inputWeight.withUnsafeBufferPointer { wi in
                w.recurrentWeight.withUnsafeBufferPointer { wh in
                    withOptionalPointer(w.inputBias) { bi in
                        withOptionalPointer(w.recurrentBias) { bh in
                            RecurrentStepLayer(inputWeight: wi.baseAddress!, recurrentWeight: wh.baseAddress!,
                                               inputBias: bi, recurrentBias: bh,
                                               inputSize: index == 0 ? inputSize : hiddenSize, hiddenSize: hiddenSize,
                                               gateCount: cell.gateCount, threads: threads, precision: weightPrecision)
                        }
                    }
                }
            }
        }
        let stateCount = weights.count * hiddenSize
        self.hiddenState = [Float](repeating: 0, count: stateCount)
        self.hiddenStateNext = self.hiddenState
        self.cellState = cell.hasCellState ? self.hiddenState : []
        self.cellNext = self.cellState
        let rounds = weightPrecision == .bfloat16
        hiddenPairs = [UInt32](repeating: 0, count: rounds ? weights.count * ((hiddenSize + 1) / 2) : 0)
        hiddenPairsNext = hiddenPairs
        inputPairs = [UInt32](repeating: 0, count: rounds ? (inputSize + 1) / 2 : 0)
        let unitRanges = self.layers[0].unitRanges
        headParts = head.map { head in
            head.weight.withUnsafeBufferPointer { w in
                unitRanges.map { units in
                    VectorProductMatrix(rows: head.weight.shape[0], columns: units.count, precision: weightPrecision) {
                        w.baseAddress! + $0 * hiddenSize + units.lowerBound
                    }
                }
            }
        } ?? []
        partialLogits = [Float](repeating: 0, count: headParts.count * (head?.weight.shape[0] ?? 0))
        if let embedding {
            // (V, G) = E (V, In) W_ih^T: each token's input projection, once.
            inputTable = withoutGradients { Tensor.linear(embedding, weight: weights[0].inputWeight, bias: nil) }.scalars
            tableRows = embedding.shape[0]
        } else {
            inputTable = []
            tableRows = 0
        }
    }

    package var layerCount: Int { layers.count }

    /// The carried state: hidden (L, 1, H) and, for LSTM, cell (L, 1, H).
    package var state: (hidden: Tensor, cell: Tensor?) {
        let shape = [layers.count, 1, hiddenSize]
        return (Tensor(shape: shape, scalars: hiddenState), cell.hasCellState ? Tensor(shape: shape, scalars: cellState) : nil)
    }

    /// Sets the carried state (zeros when nil); shapes checked by the caller.
    package func reset(hidden newHidden: Tensor?, cell newCell: Tensor?) {
        hiddenState = newHidden?.scalars ?? [Float](repeating: 0, count: hiddenState.count)
        if cell.hasCellState { cellState = newCell?.scalars ?? [Float](repeating: 0, count: hiddenState.count) }
        if !hiddenPairs.isEmpty {
            let (H, P) = (hiddenSize, (hiddenSize + 1) / 2)
            hiddenState.withUnsafeBufferPointer { h in
                hiddenPairs.withUnsafeMutableBufferPointer { pairs in
                    for layer in 0..<layers.count {
                        VectorProductMatrix.roundPairs(h.baseAddress! + layer * H, count: H, into: pairs.baseAddress! + layer * P)
                    }
                }
            }
        }
        partialLogitsCurrent = false
    }

    /// Advances one step on input x (In, checked by the caller) and returns the top layer's
    /// new hidden state (H).
    package func step(_ input: Tensor) -> Tensor {
        input.withUnsafeBufferPointer { input in
            if !inputPairs.isEmpty { VectorProductMatrix.roundPairs(input.baseAddress!, count: inputSize, into: &inputPairs) }
            advance(input: input.baseAddress!, tableRow: nil)
        }
        return Tensor(shape: [hiddenSize], scalars: Array(hiddenState[(hiddenState.count - hiddenSize)...]))
    }

    /// The rows of the token table (0 without an embedding).
    package var tokenCount: Int { tableRows }

    /// Advances one step on a token (in 0..<tokenCount, checked by the caller).
    package func step(token: Int) {
        advance(input: nil, tableRow: token)
    }

    /// The number of outputs of the head (0 without one).
    package var headSize: Int { headBias.count }

    /// Writes the head's outputs W h + b for the current top hidden state into `logits`
    /// (resized to V if needed; no allocation when it already has that size).
    package func logits(into logits: inout [Float]) {
        if !partialLogitsCurrent {
            // After a reset: the parts on the calling thread, as a step computes them.
            hiddenState.withUnsafeBufferPointer { h in
            hiddenPairs.withUnsafeBufferPointer { pairs in
            partialLogits.withUnsafeMutableBufferPointer { partial in
                let top = layers.count - 1
                for part in headParts.indices {
                    Self.applyHead(headParts[part], units: layers[top].unitRanges[part],
                                   top: StepVector(values: h.baseAddress! + top * hiddenSize,
                                                   pairs: hiddenPairs.isEmpty ? nil : pairs.baseAddress! + top * ((hiddenSize + 1) / 2)),
                                   into: partial.baseAddress! + part * headSize)
                }
            }}}
            partialLogitsCurrent = true
        }
        if logits.count != headSize { logits = [Float](repeating: 0, count: headSize) }
        logits.withUnsafeMutableBufferPointer { out in
            out.baseAddress!.update(from: headBias, count: headSize)
            partialLogits.withUnsafeBufferPointer { partial in
                for part in headParts.indices {
                    ElementwiseKernels.zip(UnsafePointer(out.baseAddress!), partial.baseAddress! + part * headSize, out.baseAddress!,
                                           count: headSize) { $0 + $1 }
                }
            }
        }
    }

    /// One part of the logits: a head part (the head's columns for `units`) times those
    /// units of `top`, the top layer's state.
    @inline(__always)
    private static func applyHead(_ head: VectorProductMatrix, units: Range<Int>, top: StepVector, into partial: UnsafeMutablePointer<Float>) {
        let x = StepVector(values: top.values + units.lowerBound, pairs: top.pairs.map { $0 + units.lowerBound / 2 })
        head.multiply(rows: 0..<head.rows, x, partial, descending: false)
    }

    private func advance(input: UnsafePointer<Float>?, tableRow: Int?) {
        let (H, P) = (hiddenSize, (hiddenSize + 1) / 2)
        let gateWidth = cell.gateCount * H
        hiddenState.withUnsafeBufferPointer { h in
        hiddenStateNext.withUnsafeMutableBufferPointer { hNext in
        cellState.withUnsafeBufferPointer { c in
        cellNext.withUnsafeMutableBufferPointer { cNext in
        hiddenPairs.withUnsafeBufferPointer { hPairs in
        hiddenPairsNext.withUnsafeMutableBufferPointer { hPairsNext in
        inputPairs.withUnsafeBufferPointer { xPairs in
        partialLogits.withUnsafeMutableBufferPointer { partial in
        inputTable.withUnsafeBufferPointer { table in
            // Empty buffers may still have an address: decide by the precision, not the pointer.
            let rounds = !hiddenPairs.isEmpty
            let context = UncheckedSendable((
                layers, cell, backwards, headParts, partial.baseAddress, headSize,
                h.baseAddress!, hNext.baseAddress!, c.baseAddress, cNext.baseAddress,
                rounds ? hPairs.baseAddress : nil, rounds ? hPairsNext.baseAddress : nil,
                input.map { StepVector(values: $0, pairs: rounds ? xPairs.baseAddress : nil) },
                tableRow.map { table.baseAddress! + $0 * gateWidth }))
            // One fork and join per step: layer l + 1 reads all of layer l's new state.
            Parallelism.forEachPhase(layers.count, parts: layers[0].unitRanges.count) { index, part in
                let (layers, cell, backwards, headParts, partial, V, h, hNext, c, cNext, hPairs, hPairsNext, input, projection) = context.value
                let layer = layers[index]
                let layerInput = index == 0 ? input : StepVector(values: hNext + (index - 1) * H, pairs: hPairsNext.map { $0 + (index - 1) * P })
                let layerProjection = index == 0 ? projection : nil
                let hPrev = StepVector(values: h + index * H, pairs: hPairs.map { $0 + index * P })
                let (hNew, hNewPairs) = (hNext + index * H, hPairsNext.map { $0 + index * P })
                // Empty buffers may still have an address: decide by the cell, not the pointer.
                let cPrev = cell.hasCellState ? UnsafePointer(c! + index * H) : nil
                let cNew = cell.hasCellState ? cNext! + index * H : nil
                switch cell {
                case .rnn(let nonlinearity):
                    layer.step(RNNCellKernel.self, part: part, nonlinearity: nonlinearity, input: layerInput, inputProjection: layerProjection,
                               hPrev: hPrev, cPrev: cPrev, hNew: hNew, cNew: cNew, hNewPairs: hNewPairs, backwards: backwards)
                case .lstm:
                    layer.step(LSTMCellKernel.self, part: part, nonlinearity: .tanh, input: layerInput, inputProjection: layerProjection,
                               hPrev: hPrev, cPrev: cPrev, hNew: hNew, cNew: cNew, hNewPairs: hNewPairs, backwards: backwards)
                case .gru:
                    layer.step(GRUCellKernel.self, part: part, nonlinearity: .tanh, input: layerInput, inputProjection: layerProjection,
                               hPrev: hPrev, cPrev: cPrev, hNew: hNew, cNew: cNew, hNewPairs: hNewPairs, backwards: backwards)
                }
                if index == layers.count - 1 && !headParts.isEmpty {
                    let top = StepVector(values: hNew, pairs: hNewPairs.map { UnsafePointer($0) })
                    Self.applyHead(headParts[part], units: layer.unitRanges[part], top: top, into: partial! + part * V)
                }
            }
        }}}}}}}}}
        swap(&hiddenState, &hiddenStateNext)
        if cell.hasCellState { swap(&cellState, &cellNext) }
        swap(&hiddenPairs, &hiddenPairsNext)
        partialLogitsCurrent = !headParts.isEmpty
        backwards.toggle()
    }
}
