// A whole recurrent layer (one or two directions) as one differentiable operation on the
// fused path (Kernels/RecurrentSequenceKernel.swift).
//
// D = directions, B = batch, T = time, In = input width, H = hiddenSize, G = gateCount * H.

/// The results of one recurrent layer.
public struct RecurrentLayerResult {
    /// (B, T, D*H) or (T, B, D*H): every step's hidden state, directions concatenated.
    public var output: Tensor
    /// (D, B, H): the hidden state after each sequence's last step, per direction.
    public var finalHiddenState: Tensor
    /// (D, B, H): the LSTM cell state after the last step; nil for RNN and GRU.
    public var finalCellState: Tensor?
}

extension Tensor {
    /// Runs one recurrent layer over a batch of sequences, in one or two directions.
    ///
    /// - Parameters:
    ///   - input: (B, T, In) if `batchFirst`, else (T, B, In).
    ///   - cell: the cell type.
    ///   - hiddenSize: H, the number of units of each direction.
    ///   - weights: one entry per direction (forward, then reverse).
    ///   - initialHiddenState, initialCellState: (D, B, H); `initialCellState` for LSTM only.
    ///   - lengths: each sequence's length in 1...T (nil: all T). Past its end a sequence's
    ///     outputs are zero and its final state is the state at its last step; the reverse
    ///     direction starts at each sequence's own last step.
    ///   - stepGradientNorms: called during backward, per direction, with ||dLoss/dh_t|| over
    ///     the batch for t = 0..<T (the gradient probe).
    public static func recurrentLayer(
        _ input: Tensor, cell: RecurrentCellType, hiddenSize: Int, weights: [RecurrentWeights<Tensor>],
        initialHiddenState: Tensor, initialCellState: Tensor?, batchFirst: Bool, lengths: [Int]? = nil,
        stepGradientNorms: ((_ direction: Int, _ norms: [Float]) -> Void)? = nil
    ) throws(SequentError) -> RecurrentLayerResult {
        guard input.rank == 3 else {
            throw SequentError.shapeMismatch(cell.name, "expected a 3-D input \(batchFirst ? "(B, T, In)" : "(T, B, In)"), got shape \(input.shape)")
        }
        let (batch, time) = batchFirst ? (input.shape[0], input.shape[1]) : (input.shape[1], input.shape[0])
        let layout = SequenceLayout(batch: batch, time: time, batchFirst: batchFirst)
        try validateRecurrentLayer(layout, inputSize: input.shape[2], cell: cell, hiddenSize: hiddenSize, weights: weights,
                                   initialHiddenState: initialHiddenState, initialCellState: initialCellState, lengths: lengths)
        let kernel = RecurrentSequenceKernel(cell: cell, layout: layout, inputSize: input.shape[2], hiddenSize: hiddenSize,
                                             directionCount: weights.count, lengths: lengths)
        return recordRecurrentLayer(kernel, .vectors(input), weights: weights, initialHiddenState: initialHiddenState,
                      initialCellState: initialCellState, stepGradientNorms: stepGradientNorms)
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
    ///   - the others: as `recurrentLayer(_:cell:hiddenSize:weights:...)`.
    public static func recurrentLayer(
        tokens: [Int], embedding: Tensor, batch: Int, time: Int, cell: RecurrentCellType, hiddenSize: Int,
        weights: [RecurrentWeights<Tensor>], initialHiddenState: Tensor, initialCellState: Tensor?, batchFirst: Bool,
        lengths: [Int]? = nil, stepGradientNorms: ((_ direction: Int, _ norms: [Float]) -> Void)? = nil
    ) throws(SequentError) -> RecurrentLayerResult {
        guard embedding.rank == 2 else {
            throw SequentError.shapeMismatch(cell.name, "expected a 2-D embedding table (V, In), got shape \(embedding.shape)")
        }
        guard batch >= 0, time >= 0, tokens.count == batch * time else {
            throw SequentError.shapeMismatch(cell.name, "\(tokens.count) tokens do not fill batch \(batch) x time \(time)")
        }
        try validatedIndices(tokens, size: embedding.shape[0], op: cell.name)
        let layout = SequenceLayout(batch: batch, time: time, batchFirst: batchFirst)
        try validateRecurrentLayer(layout, inputSize: embedding.shape[1], cell: cell, hiddenSize: hiddenSize, weights: weights,
                                   initialHiddenState: initialHiddenState, initialCellState: initialCellState, lengths: lengths)
        let tables = weights.map { Tensor.linear(embedding, weight: $0.inputWeight, bias: nil) }  // (V, G) each
        let kernel = RecurrentSequenceKernel(cell: cell, layout: layout, inputSize: embedding.shape[1], hiddenSize: hiddenSize,
                                             directionCount: weights.count, lengths: lengths)
        return recordRecurrentLayer(kernel, .tokens(tokens, tables: tables), weights: weights, initialHiddenState: initialHiddenState,
                      initialCellState: initialCellState, stepGradientNorms: stepGradientNorms)
    }

    /// The checks of the weights, the initial state and the lengths against the layout.
    private static func validateRecurrentLayer(
        _ layout: SequenceLayout, inputSize: Int, cell: RecurrentCellType, hiddenSize: Int,
        weights: [RecurrentWeights<Tensor>], initialHiddenState: Tensor, initialCellState: Tensor?, lengths: [Int]?
    ) throws(SequentError) {
        let op = cell.name
        guard hiddenSize > 0 else { throw SequentError.invalidArgument(op, "hidden size must be positive, got \(hiddenSize)") }
        guard weights.count == 1 || weights.count == 2 else {
            throw SequentError.invalidArgument(op, "expected weights for 1 or 2 directions, got \(weights.count)")
        }
        for w in weights { try w.validate(cell: cell, inputSize: inputSize, hiddenSize: hiddenSize, op: op) }
        try validateRecurrentState(initialHiddenState, initialCellState, cell: cell,
                                   shape: [weights.count, layout.batch, hiddenSize], op: op)
        try validateSequenceLengths(lengths, layout: layout, op: op)
    }

    /// Checks a recurrent state of `shape` (the cell state for LSTM only), in the one wording
    /// the layers use too.
    public static func validateRecurrentState(
        _ hidden: Tensor, _ cellState: Tensor?, cell: RecurrentCellType, shape: [Int], op: String
    ) throws(SequentError) {
        if hidden.shape != shape {
            throw SequentError.shapeMismatch(op, "expected hidden state of shape \(shape), got \(hidden.shape)")
        }
        if cell.hasCellState {
            guard let cellState else { throw SequentError.invalidArgument(op, "an LSTM needs a cell state besides the hidden state") }
            if cellState.shape != shape {
                throw SequentError.shapeMismatch(op, "expected cell state of shape \(shape), got \(cellState.shape)")
            }
        }
    }

    /// Checks per-sequence lengths against a batch of `layout.batch` sequences of `layout.time` steps.
    public static func validateSequenceLengths(_ lengths: [Int]?, layout: SequenceLayout, op: String) throws(SequentError) {
        guard let lengths else { return }
        if lengths.count != layout.batch {
            throw SequentError.invalidArgument(op, "expected \(layout.batch) sequence lengths (one per batch entry), got \(lengths.count)")
        }
        if let bad = lengths.first(where: { $0 < 1 || $0 > layout.time }) {
            throw SequentError.invalidArgument(op, "sequence length \(bad) must be in 1...\(layout.time) (the input has \(layout.time) steps)")
        }
    }

    /// Runs the checked layer on its kernel and records it on the tape.
    private static func recordRecurrentLayer(
        _ kernel: RecurrentSequenceKernel, _ input: RecurrentLayerInput, weights: [RecurrentWeights<Tensor>],
        initialHiddenState: Tensor, initialCellState: Tensor?, stepGradientNorms: ((Int, [Float]) -> Void)?
    ) -> RecurrentLayerResult {
        let (layout, cell) = (kernel.layout, kernel.cell)
        let (B, T, H, D) = (layout.batch, layout.time, kernel.hiddenSize, kernel.directionCount)
        let forward = kernel.forward(input, weights: weights, initialHiddenState: initialHiddenState, initialCellState: initialCellState)
        let stateShape = [D, B, H]
        let output = Tensor(shape: layout.batchFirst ? [B, T, D * H] : [T, B, D * H], scalars: forward.output)
        let finalHidden = Tensor(shape: stateShape, scalars: forward.finalHidden)
        let finalCell = cell.hasCellState ? Tensor(shape: stateShape, scalars: forward.finalCell) : nil

        // On the tape: x (vector input), then per direction the first operand of its input
        // projection (W_ih, or the token table), W_hh, b_ih, b_hh; then h0 and c0.
        let tapeWeights: [[Tensor]] = (0..<D).map { d in
            let first: Tensor
            switch input {
            case .vectors: first = weights[d].inputWeight
            case .tokens(_, let tables): first = tables[d]
            }
            return [first, weights[d].recurrentWeight] + [weights[d].inputBias, weights[d].recurrentBias].compactMap { $0 }
        }
        var inputs: [Tensor] = []
        if case .vectors(let x) = input { inputs.append(x) }
        inputs += tapeWeights.flatMap { $0 }
        inputs += [initialHiddenState] + (cell.hasCellState ? [initialCellState!] : [])
        let results = [output, finalHidden] + (finalCell.map { [$0] } ?? [])
        let recorded = recorded(results, operation: cell.name, inputs: inputs) { outputGradients, needs in
            let vectorInput: Tensor?
            if case .vectors(let x) = input { vectorInput = x } else { vectorInput = nil }
            let gradients = kernel.backward(
                input, weights: weights, forward: forward,
                dOutput: outputGradients[0], dFinalHidden: outputGradients[1],
                dFinalCell: outputGradients.count > 2 ? outputGradients[2] : nil,
                inputGradient: vectorInput != nil && needs[0], stepNorms: stepGradientNorms != nil)
            if let stepGradientNorms {
                for d in 0..<D { stepGradientNorms(d, gradients.stepNorms[d]) }
            }
            var result: [Tensor?] = []
            if let x = vectorInput { result.append(needs[0] ? Tensor(shape: x.shape, scalars: gradients.input) : nil) }
            for d in 0..<D {
                result += zip(tapeWeights[d], gradients.weights[d]).map { Tensor(shape: $0.shape, scalars: $1) }
            }
            result.append(Tensor(shape: stateShape, scalars: gradients.initialHiddenState))
            if cell.hasCellState { result.append(Tensor(shape: stateShape, scalars: gradients.initialCellState)) }
            return result
        }
        return RecurrentLayerResult(output: recorded[0], finalHiddenState: recorded[1], finalCellState: cell.hasCellState ? recorded[2] : nil)
    }
}
