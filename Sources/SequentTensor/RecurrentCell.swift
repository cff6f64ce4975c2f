// What a recurrent cell is, and the one type for a direction's weights. The facts about a
// cell (how many gate blocks, whether it carries a cell state) are stated here once; the
// kernels (Kernels/RecurrentCellKernels.swift) and the layers read them from here.

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

    /// The cell of a lower-case name: "rnn" (tanh), "rnn-relu", "lstm" or "gru"; the names
    /// every command-line flag and config file uses.
    public init?(name: String) {
        switch name {
        case "rnn", "rnn-tanh": self = .rnn(.tanh)
        case "rnn-relu": self = .rnn(.relu)
        case "lstm": self = .lstm
        case "gru": self = .gru
        default: return nil
        }
    }

    /// The names `init(name:)` accepts, one per cell.
    public static let names = ["lstm", "gru", "rnn", "rnn-relu"]

    /// The name PyTorch uses for the layer ("RNN", "LSTM", "GRU").
    public var name: String {
        switch self {
        case .rnn: return "RNN"
        case .lstm: return "LSTM"
        case .gru: return "GRU"
        }
    }
}

/// The activation of a vanilla RNN.
public enum RecurrentNonlinearity: String, Sendable, Codable {
    case tanh, relu
}

/// One direction's weights in PyTorch's layout, G = gateCount * H:
/// `weight_ih` (G, In), `weight_hh` (G, H), `bias_ih` (G), `bias_hh` (G).
///
/// `Value` is `Tensor` where the weights are values (the recurrent op, inference) and
/// SequentNN's `Parameter` where a layer owns them; `map` goes from one to the other.
public struct RecurrentWeights<Value> {
    /// W_ih (G, In).
    public var inputWeight: Value
    /// W_hh (G, H).
    public var recurrentWeight: Value
    /// b_ih (G), nil for a layer without biases.
    public var inputBias: Value?
    /// b_hh (G), nil for a layer without biases.
    public var recurrentBias: Value?

    public init(inputWeight: Value, recurrentWeight: Value, inputBias: Value?, recurrentBias: Value?) {
        self.inputWeight = inputWeight
        self.recurrentWeight = recurrentWeight
        self.inputBias = inputBias
        self.recurrentBias = recurrentBias
    }

    /// The same four entries transformed by `transform`.
    public func map<Other>(_ transform: (Value) throws -> Other) rethrows -> RecurrentWeights<Other> {
        RecurrentWeights<Other>(inputWeight: try transform(inputWeight), recurrentWeight: try transform(recurrentWeight),
                                inputBias: try inputBias.map(transform), recurrentBias: try recurrentBias.map(transform))
    }

    /// The entries present, in PyTorch's order, with PyTorch's key for each (before the
    /// `_l{k}` suffix): weight_ih, weight_hh, bias_ih, bias_hh.
    public var entries: [(key: String, value: Value)] {
        [("weight_ih", inputWeight), ("weight_hh", recurrentWeight)]
            + (inputBias.map { [("bias_ih", $0)] } ?? []) + (recurrentBias.map { [("bias_hh", $0)] } ?? [])
    }
}

extension RecurrentWeights where Value == Tensor {
    /// The same values cut off from the tape.
    public var detachedValues: RecurrentWeights<Tensor> { map { $0.detached() } }

    /// Checks the shapes against a cell of `cell` with `inputSize` inputs and `hiddenSize`
    /// units: the one wording of these errors, for every entry point that takes weights.
    public func validate(cell: RecurrentCellType, inputSize: Int, hiddenSize: Int, op: String) throws(SequentError) {
        let gates = cell.gateCount * hiddenSize
        if inputWeight.shape != [gates, inputSize] {
            throw SequentError.shapeMismatch(op, "weight_ih has shape \(inputWeight.shape), expected [\(gates), \(inputSize)] (\(cell.gateCount) gates x hidden size \(hiddenSize), input size \(inputSize))")
        }
        if recurrentWeight.shape != [gates, hiddenSize] {
            throw SequentError.shapeMismatch(op, "weight_hh has shape \(recurrentWeight.shape), expected [\(gates), \(hiddenSize)] (\(cell.gateCount) gates x hidden size \(hiddenSize))")
        }
        if (inputBias == nil) != (recurrentBias == nil) {
            throw SequentError.invalidArgument(op, "bias_ih and bias_hh must be given together")
        }
        for bias in [inputBias, recurrentBias].compactMap({ $0 }) where bias.shape != [gates] {
            throw SequentError.shapeMismatch(op, "a bias has shape \(bias.shape), expected [\(gates)]")
        }
    }
}
