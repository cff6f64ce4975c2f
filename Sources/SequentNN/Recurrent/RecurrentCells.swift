import SequentTensor

// The one-step cells hold one direction's `RecurrentWeights<Parameter>` (PyTorch's keys
// `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`; initialised as the layers are).

extension RecurrentWeights where Value == Parameter {
    /// (x W_ih^T + b_ih, h W_hh^T + b_hh), each (B, G).
    func projections(_ x: Tensor, _ h: Tensor) -> (input: Tensor, recurrent: Tensor) {
        (Tensor.linear(x, weight: inputWeight.value, bias: inputBias?.value),
         Tensor.linear(h, weight: recurrentWeight.value, bias: recurrentBias?.value))
    }

    /// Checks x (B, In) or (In) and the states (B, H) or (H), returning them as 2-D.
    func validated(_ name: String, _ x: Tensor, _ states: [Tensor?]) throws -> (Tensor, [Tensor?]) {
        let inputSize = inputWeight.shape[1], hiddenSize = recurrentWeight.shape[1]
        guard x.rank == 1 || x.rank == 2 else {
            throw SequentError.shapeMismatch(name, "expected input to be 1-D or 2-D, got \(x.rank)-D (shape \(x.shape))")
        }
        guard x.shape.last == inputSize else {
            throw SequentError.shapeMismatch(name, "expected input width \(inputSize), got shape \(x.shape)")
        }
        let batch = x.rank == 2 ? x.shape[0] : 1
        let x2 = x.rank == 2 ? x : x.unsqueezed(at: 0)
        let states2 = try states.map { state -> Tensor? in
            guard let state else { return nil }
            let expected = x.rank == 2 ? [batch, hiddenSize] : [hiddenSize]
            guard state.shape == expected else {
                throw SequentError.shapeMismatch(name, "expected state of shape \(expected), got \(state.shape)")
            }
            return x.rank == 2 ? state : state.unsqueezed(at: 0)
        }
        return (x2, states2)
    }
}

/// What the three one-step cells share: one direction's weights and H.
public class RecurrentCellModule: Module {
    public let weights: RecurrentWeights<Parameter>
    public var isTraining = true
    public let hiddenSize: Int
    public var localParameters: [(key: String, parameter: Parameter)] { weights.entries.map { ($0.key, $0.value) } }

    /// Checks the sizes, naming the cell, then draws the weights as the layers do.
    init(_ name: String, cell: RecurrentCellType, inputSize: Int, hiddenSize: Int, bias: Bool,
         generator: inout RandomGenerator) throws {
        guard inputSize > 0, hiddenSize > 0 else {
            throw SequentError.invalidArgument(name, "input size and hidden size must be positive, got \(inputSize) and \(hiddenSize)")
        }
        self.hiddenSize = hiddenSize
        weights = .uniform(cell: cell, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, generator: &generator)
    }
}

/// One step of the Elman RNN through ordinary autograd, for loops users write themselves:
/// h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu.
public final class RNNCell: RecurrentCellModule {
    public let nonlinearity: RecurrentNonlinearity

    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, nonlinearity: RecurrentNonlinearity = .tanh,
                generator: inout RandomGenerator) throws {
        self.nonlinearity = nonlinearity
        try super.init("RNNCell", cell: .rnn(nonlinearity), inputSize: inputSize, hiddenSize: hiddenSize, bias: bias,
                       generator: &generator)
    }

    /// x is (B, In) or (In); h (same batch, H) defaults to zeros. Returns h'.
    public func callAsFunction(_ x: Tensor, _ h: Tensor? = nil) throws -> Tensor {
        let (x2, states) = try weights.validated("RNNCell", x, [h])
        let h2 = states[0] ?? Tensor.zeros([x2.shape[0], hiddenSize])
        let (gi, gh) = weights.projections(x2, h2)
        let preactivation = gi + gh
        let next = nonlinearity == .tanh ? preactivation.tanh() : preactivation.relu()
        return x.rank == 1 ? next.squeezed(at: 0) : next
    }
}

/// One LSTM step through ordinary autograd (gate order i, f, g, o as PyTorch):
///
///     i, f, o = sigma(.), g = tanh(.)   where . = W_i* x + b_i* + W_h* h + b_h*
///     c' = f * c + i * g,   h' = o * tanh(c')
public final class LSTMCell: RecurrentCellModule {
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, generator: inout RandomGenerator) throws {
        try super.init("LSTMCell", cell: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, generator: &generator)
    }

    /// x is (B, In) or (In); the state (h, c) defaults to zeros. Returns (h', c').
    public func callAsFunction(_ x: Tensor, _ state: (h: Tensor, c: Tensor)? = nil) throws -> (h: Tensor, c: Tensor) {
        let (x2, states) = try weights.validated("LSTMCell", x, [state?.h, state?.c])
        let zeros = Tensor.zeros([x2.shape[0], hiddenSize])
        let (h, c) = (states[0] ?? zeros, states[1] ?? zeros)
        let (gi, gh) = weights.projections(x2, h)
        let gates = gi + gh
        let H = hiddenSize
        let inputGate = gates.slice(alongAxis: 1, 0..<H).sigmoid()
        let forgetGate = gates.slice(alongAxis: 1, H..<(2 * H)).sigmoid()
        let candidate = gates.slice(alongAxis: 1, (2 * H)..<(3 * H)).tanh()
        let outputGate = gates.slice(alongAxis: 1, (3 * H)..<(4 * H)).sigmoid()
        let cellState = forgetGate * c + inputGate * candidate
        let hidden = outputGate * cellState.tanh()
        return x.rank == 1 ? (hidden.squeezed(at: 0), cellState.squeezed(at: 0)) : (hidden, cellState)
    }
}

/// One GRU step through ordinary autograd (gate order r, z, n as PyTorch):
///
///     r = sigma(W_ir x + b_ir + W_hr h + b_hr),  z = sigma(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h
public final class GRUCell: RecurrentCellModule {
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, generator: inout RandomGenerator) throws {
        try super.init("GRUCell", cell: .gru, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, generator: &generator)
    }

    /// x is (B, In) or (In); h defaults to zeros. Returns h'.
    public func callAsFunction(_ x: Tensor, _ h: Tensor? = nil) throws -> Tensor {
        let (x2, states) = try weights.validated("GRUCell", x, [h])
        let h2 = states[0] ?? Tensor.zeros([x2.shape[0], hiddenSize])
        let (gi, gh) = weights.projections(x2, h2)
        let H = hiddenSize
        func gate(_ t: Tensor, _ k: Int) -> Tensor { t.slice(alongAxis: 1, (k * H)..<((k + 1) * H)) }
        let resetGate = (gate(gi, 0) + gate(gh, 0)).sigmoid()
        let updateGate = (gate(gi, 1) + gate(gh, 1)).sigmoid()
        let candidate = (gate(gi, 2) + resetGate * gate(gh, 2)).tanh()
        let next = (1 - updateGate) * candidate + updateGate * h2
        return x.rank == 1 ? next.squeezed(at: 0) : next
    }
}
