// The per-row arithmetic of one recurrent time step, forward and backward, for the three
// cells. The sequence driver (RecurrentSequenceKernel.swift) does the matrix products;
// these kernels do everything elementwise in one pass over a row.
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
    /// Gate blocks of width H: RNN 1, LSTM 4, GRU 3.
    static var gateCount: Int { get }
    /// Whether the cell carries a cell state c besides h (LSTM).
    static var hasCellState: Bool { get }
    /// Whether the last gate's recurrent gradient differs from its input gradient (GRU).
    static var hasSeparateRecurrentGate: Bool { get }
    /// One forward step of one row.
    static func forward(_ row: RecurrentRow, hidden: Int, nonlinearity: RecurrentNonlinearity)
    /// One backward step of one row.
    static func backward(_ row: RecurrentGradientRow, hidden: Int, nonlinearity: RecurrentNonlinearity)
}

/// The activation of a vanilla RNN.
public enum RecurrentNonlinearity: String, Sendable, Codable {
    case tanh, relu
}

@inline(__always)
private func load(_ p: UnsafePointer<Float>, _ i: Int, _ n: Int) -> FloatVector { ElementwiseKernels.load(p, i, n - i) }
@inline(__always)
private func load(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) -> FloatVector { ElementwiseKernels.load(UnsafePointer(p), i, n - i) }
@inline(__always)
private func store(_ v: FloatVector, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) { ElementwiseKernels.store(v, p, i, n - i) }
@inline(__always)
private func bias(_ p: UnsafePointer<Float>?, _ i: Int, _ n: Int) -> FloatVector { p.map { load($0, i, n) } ?? FloatVector() }

// Lanes i..<i+16 of gate block `gate` (offset in scalars) of a row's pre-activations.
// (Free functions, not nested closures: a nested function capturing the loop index boxes
// it on the heap, once per vector.)
@inline(__always)
private func inputPart(_ row: RecurrentRow, _ gate: Int, _ i: Int, _ hidden: Int) -> FloatVector {
    load(row.gates + gate, i, hidden) + bias(row.biasIH.map { $0 + gate }, i, hidden)
}
@inline(__always)
private func recurrentPart(_ row: RecurrentRow, _ gate: Int, _ i: Int, _ hidden: Int) -> FloatVector {
    load(row.recurrent + gate, i, hidden) + bias(row.biasHH.map { $0 + gate }, i, hidden)
}

/// gates[first..<first+count] = f(input part + recurrent part): the activated gates of a row.
@inline(__always)
private func activateGates<F: LaneFunction>(_ row: RecurrentRow, first: Int, count: Int, _ f: F) {
    var i = 0
    while i < count {
        store(f(inputPart(row, first, i, count) + recurrentPart(row, first, i, count)), row.gates + first, i, count)
        i += 16
    }
}

/// h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act = tanh or relu.
enum RNNCellKernel: RecurrentCellKernel {
    static let gateCount = 1
    static let hasCellState = false
    static let hasSeparateRecurrentGate = false

    @inline(__always)
    static func forward(_ row: RecurrentRow, hidden: Int, nonlinearity: RecurrentNonlinearity) {
        var i = 0
        while i < hidden {
            let preactivation = inputPart(row, 0, i, hidden) + recurrentPart(row, 0, i, hidden)
            let h = nonlinearity == .tanh
                ? VectorMath.tanh(preactivation)
                : preactivation.replacing(with: 0, where: preactivation .< 0)
            store(h, row.gates, i, hidden)
            store(h, row.hNew, i, hidden)
            i += 16
        }
    }

    /// d preactivation = dh * act'(.): 1 - h^2 for tanh, [h > 0] for relu.
    @inline(__always)
    static func backward(_ row: RecurrentGradientRow, hidden: Int, nonlinearity: RecurrentNonlinearity) {
        var i = 0
        while i < hidden {
            let h = load(row.gates, i, hidden), dh = load(row.dh, i, hidden)
            let dPreactivation = nonlinearity == .tanh ? dh * (1 - h * h) : dh.replacing(with: 0, where: h .<= 0)
            store(dPreactivation, row.gates, i, hidden)
            store(FloatVector(), row.dhPrevDirect, i, hidden)
            i += 16
        }
    }
}

/// The LSTM cell (Hochreiter and Schmidhuber, with the forget gate of Gers et al.), gate
/// order i, f, g, o as in PyTorch:
///   i = sigma(.), f = sigma(.), g = tanh(.), o = sigma(.)   (each . = W_i* x + b_i* + W_h* h + b_h*)
///   c_t = f * c_{t-1} + i * g
///   h_t = o * tanh(c_t)
enum LSTMCellKernel: RecurrentCellKernel {
    static let gateCount = 4
    static let hasCellState = true
    static let hasSeparateRecurrentGate = false

    @inline(__always)
    static func forward(_ row: RecurrentRow, hidden: Int, nonlinearity: RecurrentNonlinearity) {
        let (gi, gf, gg, go) = (0, hidden, 2 * hidden, 3 * hidden)
        // The gates first, one activation per loop, then the states from them: one loop for
        // all of it keeps more 16-lane values alive than AVX2's 16 registers hold, and its
        // spills cost more than re-reading the gates from L1.
        activateGates(row, first: gi, count: 2 * hidden, VectorMath.Sigmoid())  // i, f
        activateGates(row, first: gg, count: hidden, VectorMath.Tanh())
        activateGates(row, first: go, count: hidden, VectorMath.Sigmoid())
        var i = 0
        while i < hidden {
            let inputGate = load(row.gates + gi, i, hidden), forgetGate = load(row.gates + gf, i, hidden)
            let candidate = load(row.gates + gg, i, hidden), outputGate = load(row.gates + go, i, hidden)
            let cellState = forgetGate * load(row.cPrev!, i, hidden) + inputGate * candidate
            store(cellState, row.cNew!, i, hidden)
            store(outputGate * VectorMath.tanh(cellState), row.hNew, i, hidden)
            i += 16
        }
    }

    /// With tc = tanh(c_t):
    ///   do = dh * tc;            dc += dh * o * (1 - tc^2)
    ///   di = dc * g;  df = dc * c_{t-1};  dg = dc * i;   dc_{t-1} = dc * f
    /// and through the activations: d(pre) = di*i(1-i), df*f(1-f), dg*(1-g^2), do*o(1-o).
    @inline(__always)
    static func backward(_ row: RecurrentGradientRow, hidden: Int, nonlinearity: RecurrentNonlinearity) {
        let (gi, gf, gg, go) = (0, hidden, 2 * hidden, 3 * hidden)
        // Two loops, as in forward: first the output gate and dc, then the other gates.
        var i = 0
        while i < hidden {
            let outputGate = load(row.gates + go, i, hidden)
            let tanhCell = VectorMath.tanh(load(row.cNew!, i, hidden))
            let dh = load(row.dh, i, hidden)
            let dOutputGate = dh * tanhCell
            store(dOutputGate * outputGate * (1 - outputGate), row.gates + go, i, hidden)
            store(load(row.dc!, i, hidden) + dh * outputGate * (1 - tanhCell * tanhCell), row.dc!, i, hidden)  // dc_t
            i += 16
        }
        i = 0
        while i < hidden {
            let inputGate = load(row.gates + gi, i, hidden), forgetGate = load(row.gates + gf, i, hidden)
            let candidate = load(row.gates + gg, i, hidden)
            let dCell = load(row.dc!, i, hidden)
            let dInputGate = dCell * candidate
            let dForgetGate = dCell * load(row.cPrev!, i, hidden)
            let dCandidate = dCell * inputGate
            store(dInputGate * inputGate * (1 - inputGate), row.gates + gi, i, hidden)
            store(dForgetGate * forgetGate * (1 - forgetGate), row.gates + gf, i, hidden)
            store(dCandidate * (1 - candidate * candidate), row.gates + gg, i, hidden)
            store(dCell * forgetGate, row.dc!, i, hidden)
            store(FloatVector(), row.dhPrevDirect, i, hidden)
            i += 16
        }
    }
}

/// The GRU cell (Cho et al.), gate order r, z, n as in PyTorch:
///   r = sigma(W_ir x + b_ir + W_hr h + b_hr)
///   z = sigma(W_iz x + b_iz + W_hz h + b_hz)
///   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
///   h_t = (1 - z) * n + z * h_{t-1}
enum GRUCellKernel: RecurrentCellKernel {
    static let gateCount = 3
    static let hasCellState = false
    static let hasSeparateRecurrentGate = true

    @inline(__always)
    static func forward(_ row: RecurrentRow, hidden: Int, nonlinearity: RecurrentNonlinearity) {
        let (gr, gz, gn) = (0, hidden, 2 * hidden)
        activateGates(row, first: gr, count: 2 * hidden, VectorMath.Sigmoid())  // r, z (see LSTMCellKernel)
        var i = 0
        while i < hidden {
            let resetGate = load(row.gates + gr, i, hidden), updateGate = load(row.gates + gz, i, hidden)
            let hn = recurrentPart(row, gn, i, hidden)
            let candidate = VectorMath.tanh(inputPart(row, gn, i, hidden) + resetGate * hn)
            let hPrev = load(row.hPrev, i, hidden)
            let h = (1 - updateGate) * candidate + updateGate * hPrev
            store(candidate, row.gates + gn, i, hidden)
            store(hn, row.extra!, i, hidden)
            store(h, row.hNew, i, hidden)
            i += 16
        }
    }

    /// dn = dh (1 - z);  dz = dh (h_{t-1} - n);  dh_{t-1} (direct) = dh z
    /// dn_pre = dn (1 - n^2);  dr = dn_pre * hn;  d(hn) = dn_pre * r
    /// input-side gradients: (dr r(1-r), dz z(1-z), dn_pre); recurrent side: the same but
    /// d(hn) for the last gate, written to `extra`.
    @inline(__always)
    static func backward(_ row: RecurrentGradientRow, hidden: Int, nonlinearity: RecurrentNonlinearity) {
        let (gr, gz, gn) = (0, hidden, 2 * hidden)
        var i = 0
        while i < hidden {
            let resetGate = load(row.gates + gr, i, hidden), updateGate = load(row.gates + gz, i, hidden)
            let candidate = load(row.gates + gn, i, hidden)
            let hn = load(row.extra!, i, hidden), hPrev = load(row.hPrev, i, hidden), dh = load(row.dh, i, hidden)
            let dCandidatePre = dh * (1 - updateGate) * (1 - candidate * candidate)
            let dUpdateGate = dh * (hPrev - candidate)
            let dResetGate = dCandidatePre * hn
            store(dResetGate * resetGate * (1 - resetGate), row.gates + gr, i, hidden)
            store(dUpdateGate * updateGate * (1 - updateGate), row.gates + gz, i, hidden)
            store(dCandidatePre, row.gates + gn, i, hidden)
            store(dCandidatePre * resetGate, row.extra!, i, hidden)
            store(dh * updateGate, row.dhPrevDirect, i, hidden)
            i += 16
        }
    }
}
