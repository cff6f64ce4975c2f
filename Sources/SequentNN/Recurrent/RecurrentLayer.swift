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

/// One direction of one layer: the four parameters PyTorch names `weight_ih_l{k}`,
/// `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}` (with `_reverse` for the reverse direction).
public struct RecurrentDirectionParameters {
    public let inputWeight: Parameter
    public let recurrentWeight: Parameter
    public let inputBias: Parameter?
    public let recurrentBias: Parameter?

    /// The current values as plain tensors (for `RecurrentStepper` and other inference paths).
    public var weightsForInference: RecurrentDirectionWeights { weights.detachedValues }

    var weights: RecurrentDirectionWeights {
        RecurrentDirectionWeights(inputWeight: inputWeight.value, recurrentWeight: recurrentWeight.value,
                                  inputBias: inputBias?.value, recurrentBias: recurrentBias?.value)
    }
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
    /// parameters[layer][direction].
    public let layers: [[RecurrentDirectionParameters]]
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
        let bound = 1 / Float(hiddenSize).squareRoot()
        let gates = cell.gateCount * hiddenSize
        func uniform(_ shape: [Int]) -> Parameter {
            Parameter(Tensor.randomUniform(shape, lower: -bound, upper: bound, using: &generator))
        }
        var layers: [[RecurrentDirectionParameters]] = []
        for layer in 0..<layerCount {
            let layerInput = layer == 0 ? inputSize : hiddenSize * (bidirectional ? 2 : 1)
            layers.append((0..<(bidirectional ? 2 : 1)).map { _ in
                RecurrentDirectionParameters(
                    inputWeight: uniform([gates, layerInput]), recurrentWeight: uniform([gates, hiddenSize]),
                    inputBias: bias ? uniform([gates]) : nil, recurrentBias: bias ? uniform([gates]) : nil)
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
                entries.append(("weight_ih" + suffix, p.inputWeight))
                entries.append(("weight_hh" + suffix, p.recurrentWeight))
                if let bih = p.inputBias, let bhh = p.recurrentBias {
                    entries.append(("bias_ih" + suffix, bih))
                    entries.append(("bias_hh" + suffix, bhh))
                }
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

    /// Checks the state and lengths against a batch of `batch` sequences of `time` steps.
    private func validate(batch: Int, time: Int, state: RecurrentState?, lengths: [Int]?) throws {
        let op = cellType.name
        let stateShape = [layerCount * directionCount, batch, hiddenSize]
        if let state {
            guard state.hidden.shape == stateShape else {
                throw SequentError.shapeMismatch(op, "expected hidden state of shape \(stateShape), got \(state.hidden.shape)")
            }
            if cellType.hasCellState {
                guard let cell = state.cell else { throw SequentError.invalidArgument(op, "the state has no cell state") }
                guard cell.shape == stateShape else {
                    throw SequentError.shapeMismatch(op, "expected cell state of shape \(stateShape), got \(cell.shape)")
                }
            }
        }
        if let lengths {
            guard lengths.count == batch else {
                throw SequentError.invalidArgument(op, "expected \(batch) sequence lengths (one per batch entry), got \(lengths.count)")
            }
            if let bad = lengths.first(where: { $0 < 1 || $0 > time }) {
                throw SequentError.invalidArgument(op, "sequence length \(bad) must be in 1...\(time) (the input has \(time) steps)")
            }
        }
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
        return run(.vectors(input), batch: batchFirst ? input.shape[0] : input.shape[1], state: state, lengths: lengths)
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
        return run(.tokens(tokens, embedding: embedding.weight.value, time: time), batch: batch, state: state, lengths: lengths)
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
    private func run(_ input: StackInput, batch: Int, state: RecurrentState?, lengths: [Int]?) -> (output: Tensor, state: RecurrentState) {
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
            let weights = directions.map(\.weights)
            let result: RecurrentLayerResult
            switch next {
            case .vectors(let x):
                result = Tensor.recurrentLayer(x, cell: cellType, weights: weights, initialHidden: hidden, initialCell: cell,
                                               batchFirst: batchFirst, lengths: lengths, stepGradientNorms: norms)
            case .tokens(let tokens, let embedding, let time):
                result = Tensor.recurrentLayer(tokens: tokens, embedding: embedding, batch: batch, time: time, cell: cellType,
                                               weights: weights, initialHidden: hidden, initialCell: cell,
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
