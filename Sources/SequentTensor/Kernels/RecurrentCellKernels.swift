import CSequentKernels

// The per-row arithmetic of one recurrent time step, forward and backward, for the three
// cells. The sequence driver (RecurrentSequenceKernel.swift) does the matrix products;
// these kernels do everything elementwise in one pass over a row. The equations are stated
// here; the loops run in C (CSequentKernels/ActivationKernels.h), compiled for AVX-512,
// AVX2 and baseline x86-64 and picked at run time, since Swift code is compiled for the
// baseline only.
//
// H = hidden size. For one batch row:
//   gates      (G*H)  in: x W_ih^T for this step; out: the activated gates, kept for backward
//   recurrent  (G*H)  h_prev W_hh^T (without bias)
//   biasIH, biasHH (G*H)  b_ih and b_hh (nil when the layer has no biases)
//   hPrev, cPrev (H)  the state before the step;  hNew, cNew (H) the state after it
//   extra      (H)    GRU only: W_hn h_prev + b_hn, kept for backward

/// The pointers of one batch row at one time step.
struct RecurrentRow {
    var gates: UnsafeMutablePointer<Float>
    var recurrent: UnsafePointer<Float>
    var biasIH: UnsafePointer<Float>?
    var biasHH: UnsafePointer<Float>?
    var hPrev: UnsafePointer<Float>
    var cPrev: UnsafePointer<Float>?
    var hNew: UnsafeMutablePointer<Float>
    var cNew: UnsafeMutablePointer<Float>?
    var extra: UnsafeMutablePointer<Float>?
}

/// The pointers of one batch row for the backward step.
///
/// dh is dLoss/dh_t in total (from the output and from the next step); dc (LSTM) is
/// dLoss/dc_t on entry and dLoss/dc_{t-1} on return. `dGates` receives d(x W_ih^T + b_ih),
/// overwriting the saved activations; `dRecurrentExtra` (GRU) receives the last gate's
/// d(h W_hh^T + b_hh), which differs from its input-side gradient; `dhPrevDirect` receives
/// the part of dLoss/dh_{t-1} that does not go through W_hh (GRU: z * dh; others: 0).
struct RecurrentGradientRow {
    var gates: UnsafeMutablePointer<Float>
    var hPrev: UnsafePointer<Float>
    var cPrev: UnsafePointer<Float>?
    var cNew: UnsafePointer<Float>?
    var extra: UnsafeMutablePointer<Float>?
    var dh: UnsafePointer<Float>
    var dc: UnsafeMutablePointer<Float>?
    var dhPrevDirect: UnsafeMutablePointer<Float>
}

/// The elementwise part of a recurrent cell, on raw rows.
protocol RecurrentCellKernel {
    /// `RecurrentCellType.gateCount` of this cell.
    static var gateCount: Int { get }
    /// `RecurrentCellType.hasCellState` of this cell.
    static var hasCellState: Bool { get }
    /// Whether the last gate's recurrent gradient differs from its input gradient (GRU).
    static var hasSeparateRecurrentGate: Bool { get }
    /// One forward step of one row.
    static func forward(_ row: RecurrentRow, hiddenSize: Int, nonlinearity: RecurrentNonlinearity)
    /// One backward step of one row.
    static func backward(_ row: RecurrentGradientRow, hiddenSize: Int, nonlinearity: RecurrentNonlinearity)
}

extension RecurrentRow {
    /// The same pointers for the C kernels.
    @inline(__always)
    var c: SequentRecurrentRow {
        SequentRecurrentRow(gates: gates, recurrent: recurrent, bias_ih: biasIH, bias_hh: biasHH, h_prev: hPrev,
                            c_prev: cPrev, h_new: hNew, c_new: cNew, extra: extra)
    }
}

extension RecurrentGradientRow {
    /// The same pointers for the C kernels.
    @inline(__always)
    var c: SequentRecurrentGradientRow {
        SequentRecurrentGradientRow(gates: gates, h_prev: hPrev, c_prev: cPrev, c_new: cNew, extra: extra, dh: dh,
                                    dc: dc, dh_prev_direct: dhPrevDirect)
    }
}

/// h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act = tanh or relu.
/// Backward: d preactivation = dh * act'(.): 1 - h^2 for tanh, [h > 0] for relu.
enum RNNCellKernel: RecurrentCellKernel {
    static var gateCount: Int { RecurrentCellType.rnn(.tanh).gateCount }
    static var hasCellState: Bool { RecurrentCellType.rnn(.tanh).hasCellState }
    static let hasSeparateRecurrentGate = false

    @inline(__always)
    static func forward(_ row: RecurrentRow, hiddenSize: Int, nonlinearity: RecurrentNonlinearity) {
        var row = row.c
        sequent_rnn_forward(&row, hiddenSize, nonlinearity == .relu ? 1 : 0)
    }

    @inline(__always)
    static func backward(_ row: RecurrentGradientRow, hiddenSize: Int, nonlinearity: RecurrentNonlinearity) {
        var row = row.c
        sequent_rnn_backward(&row, hiddenSize, nonlinearity == .relu ? 1 : 0)
    }
}

/// The LSTM cell (Hochreiter and Schmidhuber, with the forget gate of Gers et al.), gate
/// order i, f, g, o as in PyTorch:
///   i = sigma(.), f = sigma(.), g = tanh(.), o = sigma(.)   (each . = W_i* x + b_i* + W_h* h + b_h*)
///   c_t = f * c_{t-1} + i * g
///   h_t = o * tanh(c_t)
/// Backward, with tc = tanh(c_t):
///   do = dh * tc;            dc += dh * o * (1 - tc^2)
///   di = dc * g;  df = dc * c_{t-1};  dg = dc * i;   dc_{t-1} = dc * f
/// and through the activations: d(pre) = di*i(1-i), df*f(1-f), dg*(1-g^2), do*o(1-o).
/// The gates are activated in one pass per activation, then the states in another: one
/// loop for all of it keeps more 16-lane values alive than AVX2's 16 registers hold.
enum LSTMCellKernel: RecurrentCellKernel {
    static var gateCount: Int { RecurrentCellType.lstm.gateCount }
    static var hasCellState: Bool { RecurrentCellType.lstm.hasCellState }
    static let hasSeparateRecurrentGate = false

    @inline(__always)
    static func forward(_ row: RecurrentRow, hiddenSize: Int, nonlinearity: RecurrentNonlinearity) {
        var row = row.c
        sequent_lstm_forward(&row, hiddenSize)
    }

    @inline(__always)
    static func backward(_ row: RecurrentGradientRow, hiddenSize: Int, nonlinearity: RecurrentNonlinearity) {
        var row = row.c
        sequent_lstm_backward(&row, hiddenSize)
    }
}

/// The GRU cell (Cho et al.), gate order r, z, n as in PyTorch:
///   r = sigma(W_ir x + b_ir + W_hr h + b_hr)
///   z = sigma(W_iz x + b_iz + W_hz h + b_hz)
///   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
///   h_t = (1 - z) * n + z * h_{t-1}
/// Backward:
///   dn = dh (1 - z);  dz = dh (h_{t-1} - n);  dh_{t-1} (direct) = dh z
///   dn_pre = dn (1 - n^2);  dr = dn_pre * hn;  d(hn) = dn_pre * r
/// input-side gradients: (dr r(1-r), dz z(1-z), dn_pre); recurrent side: the same but
/// d(hn) for the last gate, written to `extra`.
enum GRUCellKernel: RecurrentCellKernel {
    static var gateCount: Int { RecurrentCellType.gru.gateCount }
    static var hasCellState: Bool { RecurrentCellType.gru.hasCellState }
    static let hasSeparateRecurrentGate = true

    @inline(__always)
    static func forward(_ row: RecurrentRow, hiddenSize: Int, nonlinearity: RecurrentNonlinearity) {
        var row = row.c
        sequent_gru_forward(&row, hiddenSize)
    }

    @inline(__always)
    static func backward(_ row: RecurrentGradientRow, hiddenSize: Int, nonlinearity: RecurrentNonlinearity) {
        var row = row.c
        sequent_gru_backward(&row, hiddenSize)
    }
}
