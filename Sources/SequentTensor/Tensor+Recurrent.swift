// A whole recurrent layer (one or two directions) as one differentiable operation on the
// fused path of Kernels/RecurrentSequenceKernel.swift.

/// The kind of recurrent cell a layer runs.
public enum RecurrentCellType: Sendable, Equatable, Codable {
    /// The Elman RNN with tanh or relu.
    case rnn(RecurrentNonlinearity)
    /// Long short-term memory.
    case lstm
    /// Gated recurrent unit.
    case gru

    /// Gate blocks of width H in the weight matrices: 1, 4 or 3.
    public var gateCount: Int {
        switch self {
        case .rnn: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }

    /// Whether the cell carries a cell state besides the hidden state (LSTM).
    public var hasCellState: Bool { self == .lstm }

    /// The name PyTorch uses for the layer ("RNN", "LSTM", "GRU").
    public var name: String {
        switch self {
        case .rnn: return "RNN"
        case .lstm: return "LSTM"
        case .gru: return "GRU"
        }
    }
}

/// One direction's parameters in PyTorch's layout (G = gateCount * H):
/// `weight_ih` (G, In), `weight_hh` (G, H), `bias_ih` (G), `bias_hh` (G).
public struct RecurrentDirectionWeights {
    public var inputWeight: Tensor
    public var recurrentWeight: Tensor
    public var inputBias: Tensor?
    public var recurrentBias: Tensor?

    public init(inputWeight: Tensor, recurrentWeight: Tensor, inputBias: Tensor?, recurrentBias: Tensor?) {
        self.inputWeight = inputWeight
        self.recurrentWeight = recurrentWeight
        self.inputBias = inputBias
        self.recurrentBias = recurrentBias
    }

    var tensors: [Tensor] { [inputWeight, recurrentWeight] + [inputBias, recurrentBias].compactMap { $0 } }

    /// The same values cut off from the tape.
    public var detachedValues: RecurrentDirectionWeights {
        RecurrentDirectionWeights(inputWeight: inputWeight.detached(), recurrentWeight: recurrentWeight.detached(),
                                  inputBias: inputBias?.detached(), recurrentBias: recurrentBias?.detached())
    }
}

/// The results of one recurrent layer.
public struct RecurrentLayerResult {
    /// (B, T, D*H) or (T, B, D*H): every step's hidden state, directions concatenated.
    public var output: Tensor
    /// (D, B, H): the hidden state after each sequence's last step, per direction.
    public var finalHidden: Tensor
    /// (D, B, H): the LSTM cell state after the last step; nil for RNN and GRU.
    public var finalCell: Tensor?
}

extension Tensor {
    /// Runs one recurrent layer over a batch of sequences, in one or two directions.
    ///
    /// - Parameters:
    ///   - input: (B, T, In) if `batchFirst`, else (T, B, In).
    ///   - cell: the cell type.
    ///   - weights: one entry per direction (forward, then reverse).
    ///   - initialHidden, initialCell: (D, B, H); `initialCell` for LSTM only.
    ///   - lengths: each sequence's length in 1...T (nil: all T). Past its end a sequence's
    ///     outputs are zero and its final state is the state at its last step; the reverse
    ///     direction starts at each sequence's own last step.
    ///   - stepGradientNorms: called during backward, per direction, with ||dLoss/dh_t|| over
    ///     the batch for t = 0..<T (the gradient probe).
    public static func recurrentLayer(
        _ input: Tensor, cell: RecurrentCellType, weights: [RecurrentDirectionWeights],
        initialHidden: Tensor, initialCell: Tensor?, batchFirst: Bool, lengths: [Int]? = nil,
        stepGradientNorms: ((_ direction: Int, _ norms: [Float]) -> Void)? = nil
    ) -> RecurrentLayerResult {
        switch cell {
        case .rnn(let nonlinearity):
            return runRecurrentLayer(RNNCellKernel.self, input, cell, nonlinearity, weights, initialHidden, initialCell, batchFirst, lengths, stepGradientNorms)
        case .lstm:
            return runRecurrentLayer(LSTMCellKernel.self, input, cell, .tanh, weights, initialHidden, initialCell, batchFirst, lengths, stepGradientNorms)
        case .gru:
            return runRecurrentLayer(GRUCellKernel.self, input, cell, .tanh, weights, initialHidden, initialCell, batchFirst, lengths, stepGradientNorms)
        }
    }

    /// The shape checks of `recurrentLayer`, as a throwing function.
    static func validateRecurrentLayer(
        _ input: Tensor, cell: RecurrentCellType, weights: [RecurrentDirectionWeights],
        initialHidden: Tensor, initialCell: Tensor?, batchFirst: Bool, lengths: [Int]?
    ) throws(SequentError) {
        let op = cell.name
        guard input.rank == 3 else {
            throw SequentError.shapeMismatch(op, "expected a 3-D input \(batchFirst ? "(B, T, In)" : "(T, B, In)"), got shape \(input.shape)")
        }
        guard weights.count == 1 || weights.count == 2 else {
            throw SequentError.invalidArgument(op, "expected weights for 1 or 2 directions, got \(weights.count)")
        }
        let (batch, time) = batchFirst ? (input.shape[0], input.shape[1]) : (input.shape[1], input.shape[0])
        let inputSize = input.shape[2]
        let hidden = weights[0].recurrentWeight.shape.last ?? 0
        let gates = cell.gateCount * hidden
        for w in weights {
            if w.inputWeight.shape != [gates, inputSize] {
                throw SequentError.shapeMismatch(op, "input has width \(inputSize) but weight_ih has shape \(w.inputWeight.shape) (expected [\(gates), \(inputSize)])")
            }
            if w.recurrentWeight.shape != [gates, hidden] {
                throw SequentError.shapeMismatch(op, "weight_hh has shape \(w.recurrentWeight.shape), expected [\(gates), \(hidden)]")
            }
            for bias in [w.inputBias, w.recurrentBias].compactMap({ $0 }) where bias.shape != [gates] {
                throw SequentError.shapeMismatch(op, "bias has shape \(bias.shape), expected [\(gates)]")
            }
        }
        let stateShape = [weights.count, batch, hidden]
        if initialHidden.shape != stateShape {
            throw SequentError.shapeMismatch(op, "expected initial hidden state of shape \(stateShape), got \(initialHidden.shape)")
        }
        if cell.hasCellState {
            guard let initialCell else { throw SequentError.invalidArgument(op, "an initial cell state is required") }
            if initialCell.shape != stateShape {
                throw SequentError.shapeMismatch(op, "expected initial cell state of shape \(stateShape), got \(initialCell.shape)")
            }
        }
        if let lengths {
            if lengths.count != batch {
                throw SequentError.invalidArgument(op, "got \(lengths.count) lengths for a batch of \(batch)")
            }
            if let bad = lengths.first(where: { $0 < 1 || $0 > time }) {
                throw SequentError.invalidArgument(op, "sequence length \(bad) is outside 1...\(time) (the input has \(time) steps)")
            }
        }
    }

    private static func runRecurrentLayer<Cell: RecurrentCellKernel>(
        _ kernel: Cell.Type, _ input: Tensor, _ cell: RecurrentCellType, _ nonlinearity: RecurrentNonlinearity,
        _ weights: [RecurrentDirectionWeights], _ initialHidden: Tensor, _ initialCell: Tensor?,
        _ batchFirst: Bool, _ lengths: [Int]?, _ stepGradientNorms: ((Int, [Float]) -> Void)?
    ) -> RecurrentLayerResult {
        Tensor.require {
            try validateRecurrentLayer(input, cell: cell, weights: weights, initialHidden: initialHidden,
                                       initialCell: initialCell, batchFirst: batchFirst, lengths: lengths)
        }
        let layout = batchFirst
            ? SequenceLayout(batch: input.shape[0], time: input.shape[1], batchFirst: true)
            : SequenceLayout(batch: input.shape[1], time: input.shape[0], batchFirst: false)
        let (B, inputSize) = (layout.batch, input.shape[2])
        let H = weights[0].recurrentWeight.shape[1]
        let D = weights.count
        let outputWidth = D * H
        let kernels = (0..<D).map {
            RecurrentSequenceKernel<Cell>(layout: layout, inputSize: inputSize, hidden: H, nonlinearity: nonlinearity,
                                          lengths: lengths, reverse: $0 == 1)
        }
        let traces = (0..<D).map { _ in
            RecurrentTrace(rows: layout.rowCount, batch: B, hidden: H, gateCount: Cell.gateCount,
                           hasCellState: Cell.hasCellState, hasExtra: Cell.hasSeparateRecurrentGate)
        }
        let stateShape = [D, B, H]
        var finalCellValues = Cell.hasCellState ? [Float](repeating: 0, count: D * B * H) : []
        let outputShape = batchFirst ? [B, layout.time, outputWidth] : [layout.time, B, outputWidth]
        var output = Tensor.zeros([0])
        var finalHidden = Tensor.zeros([0])
        output = Tensor(shape: outputShape) { outputBuffer in
            finalHidden = Tensor(shape: stateShape) { finalHiddenBuffer in
                finalCellValues.withUnsafeMutableBufferPointer { finalCellBuffer in
                    input.withUnsafeBufferPointer { x in
                        initialHidden.withUnsafeBufferPointer { h0 in
                            (initialCell ?? Tensor.zeros([0])).withUnsafeBufferPointer { c0 in
                                for d in 0..<D {
                                    withWeightPointers(weights[d]) { w in
                                        kernels[d].forward(
                                            input: x.baseAddress!, inputStride: inputSize, weights: w,
                                            h0: h0.baseAddress! + d * B * H,
                                            c0: Cell.hasCellState ? c0.baseAddress! + d * B * H : nil,
                                            output: outputBuffer.baseAddress!, outputStride: outputWidth, outputOffset: d * H,
                                            finalHidden: finalHiddenBuffer.baseAddress! + d * B * H,
                                            finalCell: Cell.hasCellState ? finalCellBuffer.baseAddress! + d * B * H : nil,
                                            trace: traces[d])
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let finalCell = Cell.hasCellState ? Tensor(shape: stateShape, scalars: finalCellValues) : nil

        // Inputs on the tape: x, each direction's weights, h0, c0.
        let weightTensors = weights.map(\.tensors)
        let inputs = [input] + weightTensors.flatMap { $0 } + [initialHidden] + (Cell.hasCellState ? [initialCell!] : [])
        let results = [output, finalHidden] + (finalCell.map { [$0] } ?? [])
        let recorded = recorded(results, operation: cell.name, inputs: inputs) { outputGradients, needs in
            var dInput = needs[0] ? [Float](repeating: 0, count: input.count) : []
            var dWeights: [[Tensor]] = []
            var dHidden = [Float](repeating: 0, count: D * B * H)
            var dCell = [Float](repeating: 0, count: Cell.hasCellState ? D * B * H : 0)
            let dOutput = outputGradients[0]
            let dFinalHidden = outputGradients[1]
            let dFinalCell = outputGradients.count > 2 ? outputGradients[2] : nil
            for d in 0..<D {
                // Overwritten completely by the kernel's products and sums.
                let gradientBuffers = weightTensors[d].map { UnsafeMutablePointer<Float>.allocate(capacity: Swift.max($0.count, 1)) }
                defer { gradientBuffers.forEach { $0.deallocate() } }
                var norms = [Float](repeating: 0, count: stepGradientNorms == nil ? 0 : layout.time)
                withWeightPointers(weights[d]) { w in
                    input.withUnsafeBufferPointer { x in
                    withOptionalPointer(dOutput) { dOut in
                    withOptionalPointer(dFinalHidden) { dhN in
                    withOptionalPointer(dFinalCell) { dcN in
                    dInput.withUnsafeMutableBufferPointer { dx in
                    dHidden.withUnsafeMutableBufferPointer { dh0 in
                    dCell.withUnsafeMutableBufferPointer { dc0 in
                    norms.withUnsafeMutableBufferPointer { normBuffer in
                        do {
                            let dw = gradientBuffers
                            let hasBias = weights[d].inputBias != nil
                            let gradients = RecurrentSequenceKernel<Cell>.Gradients(
                                input: needs[0] ? dx.baseAddress : nil, accumulateInput: d > 0,
                                inputWeight: dw[0], recurrentWeight: dw[1],
                                inputBias: hasBias ? dw[2] : nil, recurrentBias: hasBias ? dw[3] : nil,
                                h0: dh0.baseAddress! + d * B * H,
                                c0: Cell.hasCellState ? dc0.baseAddress! + d * B * H : nil)
                            kernels[d].backward(
                                input: x.baseAddress!, inputStride: inputSize, weights: w,
                                dOutput: dOut, outputStride: outputWidth, outputOffset: d * H,
                                dFinalHidden: dhN.map { $0 + d * B * H }, dFinalCell: dcN.map { $0 + d * B * H },
                                trace: traces[d], gradients: gradients,
                                stepNorms: normBuffer.isEmpty ? nil : normBuffer.baseAddress)
                        }
                    }}}}}}}}
                }
                stepGradientNorms?(d, norms)
                dWeights.append(zip(weightTensors[d], gradientBuffers).map { tensor, buffer in
                    Tensor(shape: tensor.shape, scalars: Array(UnsafeBufferPointer(start: buffer, count: tensor.count)))
                })
            }
            var gradients: [Tensor?] = [needs[0] ? Tensor(shape: input.shape, scalars: dInput) : nil]
            gradients += dWeights.flatMap { $0 }.map { Optional($0) }
            gradients.append(Tensor(shape: stateShape, scalars: dHidden))
            if Cell.hasCellState { gradients.append(Tensor(shape: stateShape, scalars: dCell)) }
            return gradients
        }
        return RecurrentLayerResult(output: recorded[0], finalHidden: recorded[1], finalCell: Cell.hasCellState ? recorded[2] : nil)
    }

    private static func withWeightPointers<R>(_ w: RecurrentDirectionWeights, _ body: (RecurrentWeightPointers) -> R) -> R {
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
