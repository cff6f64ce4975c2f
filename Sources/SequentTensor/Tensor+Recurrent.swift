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
        Tensor.require {
            try validateRecurrentLayer(input, cell: cell, weights: weights, initialHidden: initialHidden,
                                       initialCell: initialCell, batchFirst: batchFirst, lengths: lengths)
        }
        let (batch, time) = batchFirst ? (input.shape[0], input.shape[1]) : (input.shape[1], input.shape[0])
        return runRecurrentLayer(.vectors(input), batch: batch, time: time, cell: cell, weights: weights,
                                 initialHidden: initialHidden, initialCell: initialCell, batchFirst: batchFirst,
                                 lengths: lengths, stepGradientNorms: stepGradientNorms)
    }

    /// Runs one recurrent layer over token sequences looked up in an embedding table: the
    /// same results and gradients (embedding included) as
    /// `recurrentLayer(embedding.indexSelect(alongAxis: 0, indices: tokens).reshaped(...), ...)`,
    /// without the embedded vectors. Each direction's input projection X W_ih^T is a lookup in
    /// the (V, G) table E W_ih^T, and its backward one sum of the gate gradients per token
    /// instead of the products for dX and dW_ih (the table's own product gives dE and dW_ih).
    ///
    /// - Parameters:
    ///   - tokens: batch * time ids in 0..<V, laid out as the rows: (B, T) row-major if
    ///     `batchFirst`, else (T, B).
    ///   - embedding: E (V, In).
    ///   - batch, time: B and T.
    ///   - the others: as `recurrentLayer(_:cell:weights:...)`.
    public static func recurrentLayer(
        tokens: [Int], embedding: Tensor, batch: Int, time: Int, cell: RecurrentCellType, weights: [RecurrentDirectionWeights],
        initialHidden: Tensor, initialCell: Tensor?, batchFirst: Bool, lengths: [Int]? = nil,
        stepGradientNorms: ((_ direction: Int, _ norms: [Float]) -> Void)? = nil
    ) -> RecurrentLayerResult {
        Tensor.require {
            guard embedding.rank == 2 else {
                throw SequentError.shapeMismatch(cell.name, "expected a 2-D embedding table (V, In), got shape \(embedding.shape)")
            }
            guard batch >= 0, time >= 0, tokens.count == batch * time else {
                throw SequentError.shapeMismatch(cell.name, "\(tokens.count) tokens do not fill batch \(batch) x time \(time)")
            }
            try validatedIndices(tokens, size: embedding.shape[0], op: cell.name)
            try validateRecurrentLayer(batch: batch, time: time, inputSize: embedding.shape[1], cell: cell, weights: weights,
                                       initialHidden: initialHidden, initialCell: initialCell, lengths: lengths)
        }
        let tables = weights.map { Tensor.linear(embedding, weight: $0.inputWeight, bias: nil) }  // (V, G) each
        return runRecurrentLayer(.tokens(tokens, tables: tables), batch: batch, time: time, cell: cell, weights: weights,
                                 initialHidden: initialHidden, initialCell: initialCell, batchFirst: batchFirst,
                                 lengths: lengths, stepGradientNorms: stepGradientNorms)
    }

    /// The shape checks of `recurrentLayer`, as a throwing function.
    static func validateRecurrentLayer(
        _ input: Tensor, cell: RecurrentCellType, weights: [RecurrentDirectionWeights],
        initialHidden: Tensor, initialCell: Tensor?, batchFirst: Bool, lengths: [Int]?
    ) throws(SequentError) {
        guard input.rank == 3 else {
            throw SequentError.shapeMismatch(cell.name, "expected a 3-D input \(batchFirst ? "(B, T, In)" : "(T, B, In)"), got shape \(input.shape)")
        }
        let (batch, time) = batchFirst ? (input.shape[0], input.shape[1]) : (input.shape[1], input.shape[0])
        try validateRecurrentLayer(batch: batch, time: time, inputSize: input.shape[2], cell: cell, weights: weights,
                                   initialHidden: initialHidden, initialCell: initialCell, lengths: lengths)
    }

    /// The checks of the weights, state and lengths against the batch, time and input width.
    private static func validateRecurrentLayer(
        batch: Int, time: Int, inputSize: Int, cell: RecurrentCellType, weights: [RecurrentDirectionWeights],
        initialHidden: Tensor, initialCell: Tensor?, lengths: [Int]?
    ) throws(SequentError) {
        let op = cell.name
        guard weights.count == 1 || weights.count == 2 else {
            throw SequentError.invalidArgument(op, "expected weights for 1 or 2 directions, got \(weights.count)")
        }
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

    /// What the first operand of a layer's input projection is.
    private enum LayerInput {
        /// (B, T, In) or (T, B, In): projected by each direction's W_ih.
        case vectors(Tensor)
        /// Token ids in the rows' layout, and each direction's table E W_ih^T (V, G).
        case tokens([Int], tables: [Tensor])
    }

    /// Runs the checked layer on the cell kernel of `cell`.
    private static func runRecurrentLayer(
        _ input: LayerInput, batch: Int, time: Int, cell: RecurrentCellType, weights: [RecurrentDirectionWeights],
        initialHidden: Tensor, initialCell: Tensor?, batchFirst: Bool, lengths: [Int]?,
        stepGradientNorms: ((Int, [Float]) -> Void)?
    ) -> RecurrentLayerResult {
        let layout = SequenceLayout(batch: batch, time: time, batchFirst: batchFirst)
        switch cell {
        case .rnn(let nonlinearity):
            return runRecurrentLayer(RNNCellKernel.self, input, layout, cell, nonlinearity, weights, initialHidden, initialCell, lengths, stepGradientNorms)
        case .lstm:
            return runRecurrentLayer(LSTMCellKernel.self, input, layout, cell, .tanh, weights, initialHidden, initialCell, lengths, stepGradientNorms)
        case .gru:
            return runRecurrentLayer(GRUCellKernel.self, input, layout, cell, .tanh, weights, initialHidden, initialCell, lengths, stepGradientNorms)
        }
    }

    private static func runRecurrentLayer<Cell: RecurrentCellKernel>(
        _ kernel: Cell.Type, _ input: LayerInput, _ layout: SequenceLayout, _ cell: RecurrentCellType,
        _ nonlinearity: RecurrentNonlinearity, _ weights: [RecurrentDirectionWeights], _ initialHidden: Tensor,
        _ initialCell: Tensor?, _ lengths: [Int]?, _ stepGradientNorms: ((Int, [Float]) -> Void)?
    ) -> RecurrentLayerResult {
        let B = layout.batch
        let inputSize = weights[0].inputWeight.shape[1]
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
        // Each direction's tensors on the tape: the first operand of its input projection
        // (W_ih, or the token table), then W_hh, b_ih, b_hh.
        let tapeWeights: [[Tensor]] = (0..<D).map { d in
            let first: Tensor
            switch input {
            case .vectors: first = weights[d].inputWeight
            case .tokens(_, let tables): first = tables[d]
            }
            return [first] + Array(weights[d].tensors.dropFirst())
        }
        /// Calls `body` with direction d's input source.
        func withSource<R>(_ d: Int, _ body: (RecurrentInputSource) -> R) -> R {
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
        let stateShape = [D, B, H]
        var finalCellValues = Cell.hasCellState ? [Float](repeating: 0, count: D * B * H) : []
        let outputShape = layout.batchFirst ? [B, layout.time, outputWidth] : [layout.time, B, outputWidth]
        var output = Tensor.zeros([0])
        var finalHidden = Tensor.zeros([0])
        output = Tensor(shape: outputShape) { outputBuffer in
            finalHidden = Tensor(shape: stateShape) { finalHiddenBuffer in
                finalCellValues.withUnsafeMutableBufferPointer { finalCellBuffer in
                    initialHidden.withUnsafeBufferPointer { h0 in
                        (initialCell ?? Tensor.zeros([0])).withUnsafeBufferPointer { c0 in
                            for d in 0..<D {
                                withSource(d) { source in
                                    withWeightPointers(weights[d]) { w in
                                        kernels[d].forward(
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
                        }
                    }
                }
            }
        }
        let finalCell = Cell.hasCellState ? Tensor(shape: stateShape, scalars: finalCellValues) : nil

        // Inputs on the tape: x (vector input), each direction's tensors, h0, c0.
        var inputs: [Tensor] = []
        if case .vectors(let x) = input { inputs.append(x) }
        let firstWeight = inputs.count
        inputs += tapeWeights.flatMap { $0 } + [initialHidden] + (Cell.hasCellState ? [initialCell!] : [])
        let results = [output, finalHidden] + (finalCell.map { [$0] } ?? [])
        let recorded = recorded(results, operation: cell.name, inputs: inputs) { outputGradients, needs in
            let inputCount: Int
            if case .vectors(let x) = input, needs[0] { inputCount = x.count } else { inputCount = 0 }
            var dInput = [Float](repeating: 0, count: inputCount)
            var dWeights: [[Tensor]] = []
            var dHidden = [Float](repeating: 0, count: D * B * H)
            var dCell = [Float](repeating: 0, count: Cell.hasCellState ? D * B * H : 0)
            let dOutput = outputGradients[0]
            let dFinalHidden = outputGradients[1]
            let dFinalCell = outputGradients.count > 2 ? outputGradients[2] : nil
            for d in 0..<D {
                // Overwritten completely by the kernel's products and sums.
                let gradientBuffers = tapeWeights[d].map { UnsafeMutablePointer<Float>.allocate(capacity: Swift.max($0.count, 1)) }
                defer { gradientBuffers.forEach { $0.deallocate() } }
                var norms = [Float](repeating: 0, count: stepGradientNorms == nil ? 0 : layout.time)
                withSource(d) { source in
                    withWeightPointers(weights[d]) { w in
                    withOptionalPointer(dOutput) { dOut in
                    withOptionalPointer(dFinalHidden) { dhN in
                    withOptionalPointer(dFinalCell) { dcN in
                    dInput.withUnsafeMutableBufferPointer { dx in
                    dHidden.withUnsafeMutableBufferPointer { dh0 in
                    dCell.withUnsafeMutableBufferPointer { dc0 in
                    norms.withUnsafeMutableBufferPointer { normBuffer in
                        let dw = gradientBuffers
                        let hasBias = weights[d].inputBias != nil
                        let isTokens: Bool
                        if case .tokens = source { isTokens = true } else { isTokens = false }
                        let gradients = RecurrentSequenceKernel<Cell>.Gradients(
                            input: dx.isEmpty ? nil : dx.baseAddress, accumulateInput: d > 0,
                            table: isTokens ? dw[0] : nil, inputWeight: isTokens ? nil : dw[0], recurrentWeight: dw[1],
                            inputBias: hasBias ? dw[2] : nil, recurrentBias: hasBias ? dw[3] : nil,
                            h0: dh0.baseAddress! + d * B * H,
                            c0: Cell.hasCellState ? dc0.baseAddress! + d * B * H : nil)
                        kernels[d].backward(
                            source: source, weights: w,
                            dOutput: dOut, outputStride: outputWidth, outputOffset: d * H,
                            dFinalHidden: dhN.map { $0 + d * B * H }, dFinalCell: dcN.map { $0 + d * B * H },
                            trace: traces[d], gradients: gradients,
                            stepNorms: normBuffer.isEmpty ? nil : normBuffer.baseAddress)
                    }}}}}}}}
                }
                stepGradientNorms?(d, norms)
                dWeights.append(zip(tapeWeights[d], gradientBuffers).map { tensor, buffer in
                    Tensor(shape: tensor.shape, scalars: Array(UnsafeBufferPointer(start: buffer, count: tensor.count)))
                })
            }
            var gradients: [Tensor?] = []
            if case .vectors(let x) = input { gradients.append(needs[0] ? Tensor(shape: x.shape, scalars: dInput) : nil) }
            assert(gradients.count == firstWeight)
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
