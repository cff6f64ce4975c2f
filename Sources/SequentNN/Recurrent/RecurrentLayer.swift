import SequentTensor

/// The state a recurrent layer carries between steps and batches.
///
/// `hidden` is (L*D, B, H) (layers times directions, batch, hidden size), as PyTorch's `h_n`;
/// `cell` is the LSTM cell state of the same shape, nil for RNN and GRU.
public struct RecurrentState {
    public var hidden: Tensor
    public var cell: Tensor?

    public init(hidden: Tensor, cell: Tensor? = nil) {
        self.hidden = hidden
        self.cell = cell
    }

    /// The same state cut off from the tape: truncated backpropagation through time carries
    /// the values into the next batch but stops gradients at the boundary.
    public func detached() -> RecurrentState {
        RecurrentState(hidden: hidden.detached(), cell: cell?.detached())
    }
}

/// Where the backward pass reports ||dLoss/dh_t|| for every time step (the gradient probe).
///
/// Attach one to a layer's `gradientProbe`; after `backward()`, `norms[layer][direction]`
/// holds T values in time order, summed over the batch in the L2 sense.
public final class RecurrentGradientProbe {
    /// norms[layer][direction][t].
    public private(set) var norms: [[[Float]]]

    public init() { norms = [] }

    func record(layer: Int, direction: Int, values: [Float]) {
        while norms.count <= layer { norms.append([]) }
        while norms[layer].count <= direction { norms[layer].append([]) }
        norms[layer][direction] = values
    }
}

extension RecurrentWeights where Value == Parameter {
    /// New parameters for one direction of a cell of `cell` with PyTorch's initialisation:
    /// every weight and bias drawn from U(-1/sqrt(H), 1/sqrt(H)), H = `hiddenSize`.
    public static func uniform(
        cell: RecurrentCellType, inputSize: Int, hiddenSize: Int, bias: Bool, generator: inout RandomGenerator
    ) -> RecurrentWeights<Parameter> {
        let bound = 1 / Float(hiddenSize).squareRoot()
        let gates = cell.gateCount * hiddenSize
        func uniform(_ shape: [Int]) -> Parameter {
            Parameter(Tensor.randomUniform(shape, lower: -bound, upper: bound, using: &generator))
        }
        return RecurrentWeights(inputWeight: uniform([gates, inputSize]), recurrentWeight: uniform([gates, hiddenSize]),
                                inputBias: bias ? uniform([gates]) : nil, recurrentBias: bias ? uniform([gates]) : nil)
    }

    /// The current values (on the tape when gradients are recorded).
    public var values: RecurrentWeights<Tensor> { map(\.value) }
}

/// A stacked, optionally bidirectional recurrent layer: the one sequence driver behind
/// `RNN`, `LSTM` and `GRU`, which differ only in their cell.
///
/// Shapes (PyTorch's conventions): input (B, T, In) if `batchFirst` else (T, B, In);
/// output (B, T, D*H) or (T, B, D*H); states (L*D, B, H), where D = 2 if bidirectional.
/// Layer l > 0 reads layer l-1's output, with dropout between layers in training mode.
///
/// Every direction of every layer runs on the fused path: the input projections of all
/// steps in one matrix product, one matrix product and one fused gate kernel per step, a
/// hand-written backward through time, and weight gradients in large products at the end.
public class RecurrentLayer: StochasticModule {
    public let cellType: RecurrentCellType
    public let inputSize: Int
    public let hiddenSize: Int
    public let layerCount: Int
    public let hasBias: Bool
    public let batchFirst: Bool
    /// The probability of zeroing each output of a layer before the next (not after the last).
    public let dropout: Float
    public let bidirectional: Bool
    public var isTraining = true
    /// The weights of each direction of each layer: layers[layer][direction].
    public let layers: [[RecurrentWeights<Parameter>]]
    /// If set, receives the per-step gradient norms during backward.
    public var gradientProbe: RecurrentGradientProbe?
    /// The source of the dropout masks between layers, split from the generator given at
    /// construction.
    public var generator: RandomGenerator

    /// D: 2 if bidirectional, else 1.
    public var directionCount: Int { bidirectional ? 2 : 1 }

    /// Creates the layer with PyTorch's initialisation: every weight and bias drawn from
    /// U(-1/sqrt(H), 1/sqrt(H)).
    public init(
        cell: RecurrentCellType, inputSize: Int, hiddenSize: Int, layerCount: Int = 1, bias: Bool = true,
        batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false,
        generator: inout RandomGenerator
    ) throws {
        let op = cell.name
        guard inputSize > 0, hiddenSize > 0 else {
            throw SequentError.invalidArgument(op, "input size and hidden size must be positive, got \(inputSize) and \(hiddenSize)")
        }
        guard layerCount >= 1 else { throw SequentError.invalidArgument(op, "layer count must be at least 1, got \(layerCount)") }
        guard dropout >= 0 && dropout < 1 else {
            throw SequentError.invalidArgument(op, "dropout must be in [0, 1), got \(dropout)")
        }
        self.cellType = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.hasBias = bias
        self.batchFirst = batchFirst
        self.dropout = dropout
        self.bidirectional = bidirectional
        var layers: [[RecurrentWeights<Parameter>]] = []
        for layer in 0..<layerCount {
            let layerInput = layer == 0 ? inputSize : hiddenSize * (bidirectional ? 2 : 1)
            layers.append((0..<(bidirectional ? 2 : 1)).map { _ in
                .uniform(cell: cell, inputSize: layerInput, hiddenSize: hiddenSize, bias: bias, generator: &generator)
            })
        }
        self.layers = layers
        self.generator = generator.split()
    }

    public var localParameters: [(key: String, parameter: Parameter)] {
        var entries: [(key: String, parameter: Parameter)] = []
        for (k, directions) in layers.enumerated() {
            for (d, p) in directions.enumerated() {
                let suffix = "_l\(k)" + (d == 1 ? "_reverse" : "")
                entries += p.entries.map { ($0.key + suffix, $0.value) }
            }
        }
        return entries
    }

    /// Zeros of the state shape for a batch of `batchSize`.
    public func zeroState(batchSize: Int) -> RecurrentState {
        let shape = [layerCount * directionCount, batchSize, hiddenSize]
        return RecurrentState(hidden: Tensor.zeros(shape), cell: cellType.hasCellState ? Tensor.zeros(shape) : nil)
    }

    /// Checks the input, state and lengths, naming what was expected and what came.
    public func validate(_ input: Tensor, state: RecurrentState?, lengths: [Int]?) throws {
        let op = cellType.name
        let layoutName = batchFirst ? "(B, T, \(inputSize))" : "(T, B, \(inputSize))"
        guard input.rank == 3 else {
            throw SequentError.shapeMismatch(op, "expected input of shape \(layoutName), got a \(input.rank)-D tensor of shape \(input.shape)")
        }
        guard input.shape[2] == inputSize else {
            throw SequentError.shapeMismatch(op, "expected input width \(inputSize) in \(layoutName), got shape \(input.shape)")
        }
        if input.hasNonFinite {
            throw SequentError(.invalidValue, "\(op): the input contains NaN or infinity")
        }
        let (batch, time) = batchFirst ? (input.shape[0], input.shape[1]) : (input.shape[1], input.shape[0])
        try validate(batch: batch, time: time, state: state, lengths: lengths)
    }

    /// Checks token input: `shape` is (B, T) if `batchFirst` else (T, B) and holds the
    /// tokens, each in the embedding's 0..<V, whose vectors are `inputSize` wide and finite;
    /// then the state and lengths.
    public func validate(tokens: [Int], shape: [Int], embedding: Embedding, state: RecurrentState?, lengths: [Int]?) throws {
        let op = cellType.name
        let layoutName = batchFirst ? "(B, T)" : "(T, B)"
        guard shape.count == 2, shape.allSatisfy({ $0 >= 0 }), shape[0] * shape[1] == tokens.count else {
            throw SequentError.shapeMismatch(op, "expected tokens in a 2-D shape \(layoutName), got \(tokens.count) tokens in shape \(shape)")
        }
        guard embedding.embeddingSize == inputSize else {
            throw SequentError.shapeMismatch(op, "expected an embedding of size \(inputSize) (the input width), got \(embedding.embeddingSize)")
        }
        if let position = tokens.firstIndex(where: { $0 < 0 || $0 >= embedding.vocabularySize }) {
            throw SequentError.invalidArgument(op, "token \(tokens[position]) at position \(position) is out of range 0..<\(embedding.vocabularySize)")
        }
        // The embedded vectors would be the input: the rows of the tokens used must be finite.
        let (table, width) = (embedding.weight.value.scalars, embedding.embeddingSize)
        var checked = [Bool](repeating: false, count: embedding.vocabularySize)
        for token in tokens where !checked[token] {
            checked[token] = true
            if table[(token * width)..<((token + 1) * width)].contains(where: { !$0.isFinite }) {
                throw SequentError(.invalidValue, "\(op): the input contains NaN or infinity (the embedding of token \(token))")
            }
        }
        let (batch, time) = batchFirst ? (shape[0], shape[1]) : (shape[1], shape[0])
        try validate(batch: batch, time: time, state: state, lengths: lengths)
    }

    /// Checks the state and lengths against a batch of `batch` sequences of `time` steps,
    /// in the wording of `Tensor.recurrentLayer`'s checks.
    private func validate(batch: Int, time: Int, state: RecurrentState?, lengths: [Int]?) throws {
        if let state {
            try Tensor.validateRecurrentState(state.hidden, state.cell, cell: cellType,
                                              shape: [layerCount * directionCount, batch, hiddenSize], op: cellType.name)
        }
        try Tensor.validateSequenceLengths(lengths, layout: SequenceLayout(batch: batch, time: time, batchFirst: batchFirst),
                                           op: cellType.name)
    }

    /// Runs the layer over a batch of sequences.
    ///
    /// - Parameters:
    ///   - input: (B, T, In) if `batchFirst` else (T, B, In).
    ///   - state: the initial state (default: zeros).
    ///   - lengths: each sequence's length (default: all T). Outputs past a sequence's end are
    ///     zero and its final state is the state at its own last step, in both directions.
    /// - Returns: every step's output (B, T, D*H) or (T, B, D*H), and the final state.
    public func callAsFunction(
        _ input: Tensor, state: RecurrentState? = nil, lengths: [Int]? = nil
    ) throws -> (output: Tensor, state: RecurrentState) {
        try validate(input, state: state, lengths: lengths)
        return try run(.vectors(input), batch: batchFirst ? input.shape[0] : input.shape[1], state: state, lengths: lengths)
    }

    /// Runs the layer over token sequences whose vectors are the rows of `embedding`: the
    /// same outputs, state and gradients (the embedding's included) as
    /// `self(embedding(tokens, shape: shape), ...)`, without the embedded vectors. The first
    /// layer looks its input projection up in the table E W_ih^T instead of multiplying every
    /// vector by W_ih, and in backward sums its gate gradients per token instead of two
    /// products (`Tensor.recurrentLayer(tokens:embedding:...)`).
    ///
    /// - Parameters:
    ///   - tokens: ids in 0..<V, laid out row-major in `shape`: (B, T) if `batchFirst`, else (T, B).
    ///   - embedding: the vectors of the tokens, `inputSize` wide.
    ///   - state, lengths: as for vector input.
    /// - Returns: every step's output (B, T, D*H) or (T, B, D*H), and the final state.
    public func callAsFunction(
        tokens: [Int], shape: [Int], embedding: Embedding, state: RecurrentState? = nil, lengths: [Int]? = nil
    ) throws -> (output: Tensor, state: RecurrentState) {
        try validate(tokens: tokens, shape: shape, embedding: embedding, state: state, lengths: lengths)
        let (batch, time) = batchFirst ? (shape[0], shape[1]) : (shape[1], shape[0])
        return try run(.tokens(tokens, embedding: embedding.weight.value, time: time), batch: batch, state: state, lengths: lengths)
    }

    /// A streaming stepper over this layer's current weights (unidirectional layers only):
    /// the same outputs token by token as the layer gives for a whole sequence.
    ///
    /// - Parameters:
    ///   - embedding: optional (V', In) table for `step(token:)`.
    ///   - head: optional output layer, weight (V, H) and bias (V), for `logits(into:)`.
    public func stepper(
        embedding: Tensor? = nil, head: (weight: Tensor, bias: Tensor?)? = nil, weightPrecision: WeightPrecision = .float32
    ) throws -> RecurrentStepper {
        guard !bidirectional else {
            throw SequentError.invalidArgument("RecurrentStepper", "a bidirectional layer cannot run step by step (its reverse direction reads the future)")
        }
        return try RecurrentStepper(cell: cellType, inputSize: inputSize, hiddenSize: hiddenSize,
                                    layers: layers.map { $0[0].values }, embedding: embedding, head: head,
                                    weightPrecision: weightPrecision)
    }

    /// What the first layer of the stack reads.
    private enum StackInput {
        /// (B, T, In) or (T, B, In).
        case vectors(Tensor)
        /// Ids into the rows of an embedding table (V, In), T steps.
        case tokens([Int], embedding: Tensor, time: Int)
    }

    /// Runs the stack on checked input: each layer on the output of the one before (after
    /// dropout in training), from its slice of the state.
    private func run(_ input: StackInput, batch: Int, state: RecurrentState?, lengths: [Int]?) throws -> (output: Tensor, state: RecurrentState) {
        let initial = state ?? zeroState(batchSize: batch)
        let D = directionCount
        var next = input
        var finalHidden: [Tensor] = []
        var finalCell: [Tensor] = []
        for (layer, directions) in layers.enumerated() {
            let stateRange = (layer * D)..<((layer + 1) * D)
            let (hidden, cell) = (initial.hidden.slice(alongAxis: 0, stateRange), initial.cell?.slice(alongAxis: 0, stateRange))
            let norms = gradientProbe.map { probe in
                { (direction: Int, values: [Float]) in probe.record(layer: layer, direction: direction, values: values) }
            }
            let weights = directions.map(\.values)
            let result: RecurrentLayerResult
            switch next {
            case .vectors(let x):
                result = try Tensor.recurrentLayer(x, cell: cellType, hiddenSize: hiddenSize, weights: weights, initialHidden: hidden, initialCell: cell,
                                               batchFirst: batchFirst, lengths: lengths, stepGradientNorms: norms)
            case .tokens(let tokens, let embedding, let time):
                result = try Tensor.recurrentLayer(tokens: tokens, embedding: embedding, batch: batch, time: time, cell: cellType,
                                               hiddenSize: hiddenSize, weights: weights, initialHidden: hidden, initialCell: cell,
                                               batchFirst: batchFirst, lengths: lengths, stepGradientNorms: norms)
            }
            var output = result.output
            if isTraining && dropout > 0 && layer < layerCount - 1 {
                output = output.dropout(probability: dropout, using: &self.generator)
            }
            next = .vectors(output)
            finalHidden.append(result.finalHidden)
            if let cell = result.finalCell { finalCell.append(cell) }
        }
        guard case .vectors(let output) = next else { preconditionFailure("a recurrent layer has at least one layer") }
        let hidden = finalHidden.count == 1 ? finalHidden[0] : Tensor.concatenate(finalHidden, alongAxis: 0)
        let cell = finalCell.isEmpty ? nil : (finalCell.count == 1 ? finalCell[0] : Tensor.concatenate(finalCell, alongAxis: 0))
        return (output, RecurrentState(hidden: hidden, cell: cell))
    }
}

/// The Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act = tanh or relu,
/// stacked and optionally bidirectional. Parameters and options as `torch.nn.RNN`.
public final class RNN: RecurrentLayer {
    public init(
        inputSize: Int, hiddenSize: Int, layerCount: Int = 1, nonlinearity: RecurrentNonlinearity = .tanh,
        bias: Bool = true, batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false,
        generator: inout RandomGenerator
    ) throws {
        try super.init(cell: .rnn(nonlinearity), inputSize: inputSize, hiddenSize: hiddenSize, layerCount: layerCount,
                       bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, generator: &generator)
    }
}

/// Long short-term memory, stacked and optionally bidirectional; parameters and options as
/// `torch.nn.LSTM` (gate order i, f, g, o). Per step (sigma = logistic sigmoid):
///
///     i = sigma(W_ii x + b_ii + W_hi h + b_hi)      f = sigma(W_if x + b_if + W_hf h + b_hf)
///     g = tanh(W_ig x + b_ig + W_hg h + b_hg)       o = sigma(W_io x + b_io + W_ho h + b_ho)
///     c' = f * c + i * g                            h' = o * tanh(c')
public final class LSTM: RecurrentLayer {
    public init(
        inputSize: Int, hiddenSize: Int, layerCount: Int = 1, bias: Bool = true, batchFirst: Bool = false,
        dropout: Float = 0, bidirectional: Bool = false, generator: inout RandomGenerator
    ) throws {
        try super.init(cell: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, layerCount: layerCount,
                       bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, generator: &generator)
    }
}

/// The gated recurrent unit, stacked and optionally bidirectional; parameters and options
/// as `torch.nn.GRU` (gate order r, z, n). Per step:
///
///     r = sigma(W_ir x + b_ir + W_hr h + b_hr)      z = sigma(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) h' = (1 - z) * n + z * h
public final class GRU: RecurrentLayer {
    public init(
        inputSize: Int, hiddenSize: Int, layerCount: Int = 1, bias: Bool = true, batchFirst: Bool = false,
        dropout: Float = 0, bidirectional: Bool = false, generator: inout RandomGenerator
    ) throws {
        try super.init(cell: .gru, inputSize: inputSize, hiddenSize: hiddenSize, layerCount: layerCount,
                       bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, generator: &generator)
    }
}
