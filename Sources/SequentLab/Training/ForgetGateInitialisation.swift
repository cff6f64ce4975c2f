import Foundation
import SequentNN
import SequentTensor

/// How the lab initialises an LSTM's forget gate: PyTorch's default, the practitioners'
/// forget-gate bias of 1, or chrono initialisation.
///
/// The LSTM's forget gate is f_t = sigma(W_if x_t + b_if + W_hf h_{t-1} + b_hf); its bias
/// b_f = b_if + b_hf sets how much of the cell state survives a step before training.
/// PyTorch draws every bias from U(-1/sqrt(H), 1/sqrt(H)), so f starts near 0.5 and the
/// cell state halves at each step. Gers, Schmidhuber and Cummins (2000) and Jozefowicz,
/// Zaremba and Sutskever (2015) set b_f = 1 (f near 0.73; Keras's `unit_forget_bias`);
/// chrono initialisation (Tallec and Ollivier, 2018) draws b_f = log(u), u ~ U(1, T_max - 1),
/// and sets the input gate's bias b_i = -b_f, so the cell state's time constants spread up
/// to the longest lag T_max the task has.
///
/// The layer's biases are set through its public parameters after construction (gate order
/// i, f, g, o as PyTorch): the chosen forget (and, for chrono, input) bias goes into b_ih,
/// and the same slice of b_hh is zeroed so that b_f is exactly the chosen value.
public enum ForgetGateInitialisation: Sendable, Equatable, CustomStringConvertible {
    /// PyTorch's default: every bias U(-1/sqrt(H), 1/sqrt(H)).
    case pytorch
    /// b_f = 1, the other biases as PyTorch.
    case unitBias
    /// b_f = log(U(1, maximumLag - 1)), b_i = -b_f.
    case chrono(maximumLag: Int)

    public var description: String {
        switch self {
        case .pytorch: return "PyTorch's default (forget-gate bias ~ U(-1/sqrt(H), 1/sqrt(H)))"
        case .unitBias: return "forget-gate bias 1"
        case .chrono(let lag): return "chrono initialisation (T_max = \(lag))"
        }
    }

    /// The option's short name: `pytorch`, `forget-bias-1`, `chrono`.
    public var name: String {
        switch self {
        case .pytorch: return "pytorch"
        case .unitBias: return "forget-bias-1"
        case .chrono: return "chrono"
        }
    }

    /// Sets the forget-gate (and for chrono the input-gate) biases of every LSTM layer and
    /// direction of `layer`; other cells are left as they are.
    ///
    /// - Throws: `SequentError` if the layer has no biases.
    func apply(to layer: RecurrentLayer, generator: inout RandomGenerator) throws {
        guard case .lstm = layer.cellType, self != .pytorch else { return }
        let H = layer.hiddenSize
        for directions in layer.layers {
            for direction in directions {
                guard let inputBias = direction.inputBias, let recurrentBias = direction.recurrentBias else {
                    throw SequentError.invalidArgument("ForgetGateInitialisation", "the LSTM has no biases to initialise")
                }
                var b = inputBias.value.scalars, r = recurrentBias.value.scalars  // 4H each, gates i, f, g, o
                for j in 0..<H {
                    switch self {
                    case .pytorch: break
                    case .unitBias:
                        b[H + j] = 1
                    case .chrono(let lag):
                        let u = 1 + Double(generator.nextUniform()) * Double(max(lag - 2, 0))
                        let forget = Float(Foundation.log(u))
                        b[H + j] = forget
                        b[j] = -forget
                        r[j] = 0
                    }
                    r[H + j] = 0
                }
                try inputBias.assign(Tensor(shape: [4 * H], scalars: b))
                try recurrentBias.assign(Tensor(shape: [4 * H], scalars: r))
            }
        }
    }
}
