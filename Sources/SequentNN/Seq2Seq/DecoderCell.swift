import SequentTensor

extension Seq2Seq {
    /// The state of the decoder cell: h (B, Hd) and, for an LSTM, c (B, Hd).
    struct DecoderState {
        var hidden: Tensor
        var cell: Tensor?

        /// The states of the batch entries `rows`, in that order (beam search reorders its
        /// hypotheses with this).
        func selecting(rows: [Int]) -> DecoderState {
            DecoderState(hidden: hidden.indexSelect(alongAxis: 0, indices: rows),
                         cell: cell?.indexSelect(alongAxis: 0, indices: rows))
        }
    }
}

extension Seq2Seq {
    /// One of the three one-step cells behind a single step function, so the decoder loop is
    /// written once for RNN, LSTM and GRU.
    enum DecoderCell {
        case rnn(RNNCell)
        case lstm(LSTMCell)
        case gru(GRUCell)

        init(_ type: RecurrentCellType, inputSize: Int, hiddenSize: Int, generator: inout RandomGenerator) throws {
            switch type {
            case .rnn(let nonlinearity):
                self = .rnn(try RNNCell(inputSize: inputSize, hiddenSize: hiddenSize, nonlinearity: nonlinearity, generator: &generator))
            case .lstm:
                self = .lstm(try LSTMCell(inputSize: inputSize, hiddenSize: hiddenSize, generator: &generator))
            case .gru:
                self = .gru(try GRUCell(inputSize: inputSize, hiddenSize: hiddenSize, generator: &generator))
            }
        }

        var module: any Module {
            switch self {
            case .rnn(let cell): return cell
            case .lstm(let cell): return cell
            case .gru(let cell): return cell
            }
        }

        /// s' = cell(x, s): x (B, In), states (B, H).
        func callAsFunction(_ x: Tensor, _ state: DecoderState) throws -> DecoderState {
            switch self {
            case .rnn(let cell):
                return DecoderState(hidden: try cell(x, state.hidden))
            case .lstm(let cell):
                let c = state.cell ?? Tensor.zeros(state.hidden.shape)
                let next = try cell(x, (state.hidden, c))
                return DecoderState(hidden: next.h, cell: next.c)
            case .gru(let cell):
                return DecoderState(hidden: try cell(x, state.hidden))
            }
        }
    }
}
