import CSequentKernels

/// The activations with transcendental functions, on whole buffers, in C
/// (CSequentKernels/ActivationKernels.h): compiled for AVX-512, AVX2 and baseline x86-64 and
/// picked at run time, where Swift's 16-lane code runs on the baseline alone. Each is the
/// `VectorMath` function of the same name, which the tests check against Foundation.
struct ActivationKernel: Sendable {
    let kind: Int32
    let shift: Float

    /// e^x.
    static let exp = ActivationKernel(kind: Int32(SEQUENT_ACTIVATION_EXP), shift: 0)
    /// tanh(x).
    static let tanh = ActivationKernel(kind: Int32(SEQUENT_ACTIVATION_TANH), shift: 0)
    /// 1 / (1 + e^-x).
    static let sigmoid = ActivationKernel(kind: Int32(SEQUENT_ACTIVATION_SIGMOID), shift: 0)
    /// x Phi(x), the exact GELU.
    static let gelu = ActivationKernel(kind: Int32(SEQUENT_ACTIVATION_GELU), shift: 0)
    /// max(x, 0).
    static let relu = ActivationKernel(kind: Int32(SEQUENT_ACTIVATION_RELU), shift: 0)
    /// e^(x - shift): the numerators of a softmax whose row maximum is `shift`.
    static func shiftedExp(_ shift: Float) -> ActivationKernel {
        ActivationKernel(kind: Int32(SEQUENT_ACTIVATION_EXP), shift: shift)
    }

    /// out[i] = f(x[i]) for i < count; x and out may be the same buffer.
    @inline(__always)
    func apply(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        sequent_activation(x, out, count, shift, kind)
    }

    /// x[i] = f(x[i] + bias[i]) for i < count, in place (shift ignored).
    @inline(__always)
    func applyBiased(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, count: Int) {
        sequent_biased_activation(x, bias, count, kind)
    }

    /// out[i] = g[i] * GELU'(x[i]) for i < count.
    @inline(__always)
    static func geluBackward(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        sequent_gelu_backward(g, x, out, count)
    }
}
