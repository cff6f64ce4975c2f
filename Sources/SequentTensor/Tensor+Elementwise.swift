import Foundation

// Elementwise arithmetic with broadcasting, and unary math. Each operation computes its
// result and states its gradient rule right below it.

extension Tensor {
    // MARK: Binary arithmetic

    /// a + b with broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let result = broadcastZip(a, b, op: "add") { $0 + $1 }
        return recorded(result, operation: "add", inputs: [a, b]) { g, _ in
            [g.summed(toShape: a.shape), g.summed(toShape: b.shape)]
        }
    }

    /// a - b with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let result = broadcastZip(a, b, op: "subtract") { $0 - $1 }
        return recorded(result, operation: "subtract", inputs: [a, b]) { g, needs in
            [g.summed(toShape: a.shape), needs[1] ? (-g).summed(toShape: b.shape) : nil]
        }
    }

    /// a * b (elementwise) with broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let result = broadcastZip(a, b, op: "multiply") { $0 * $1 }
        return recorded(result, operation: "multiply", inputs: [a, b]) { g, needs in
            [needs[0] ? (g * b).summed(toShape: a.shape) : nil,
             needs[1] ? (g * a).summed(toShape: b.shape) : nil]
        }
    }

    /// a / b (elementwise) with broadcasting.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let result = broadcastZip(a, b, op: "divide") { $0 / $1 }
        return recorded(result, operation: "divide", inputs: [a, b]) { g, needs in
            // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -result/b
            [needs[0] ? (g / b).summed(toShape: a.shape) : nil,
             needs[1] ? (-(g * result) / b).summed(toShape: b.shape) : nil]
        }
    }

    /// The larger of a and b, elementwise with broadcasting; ties send the gradient to a.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let result = broadcastZip(a, b, op: "maximum") { $0.replacing(with: $1, where: $1 .> $0) }
        return recorded(result, operation: "maximum", inputs: [a, b]) { g, _ in
            let aWins = broadcastZip(a, b, op: "maximum") { FloatVector(repeating: 0).replacing(with: 1, where: $0 .>= $1) }
            return [(g * aWins).summed(toShape: a.shape), (g * (1 - aWins)).summed(toShape: b.shape)]
        }
    }

    /// The smaller of a and b, elementwise with broadcasting; ties send the gradient to a.
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        -maximum(-a, -b)
    }

    public static func + (a: Tensor, b: Float) -> Tensor { a + Tensor(b) }
    public static func + (a: Float, b: Tensor) -> Tensor { Tensor(a) + b }
    public static func - (a: Tensor, b: Float) -> Tensor { a - Tensor(b) }
    public static func - (a: Float, b: Tensor) -> Tensor { Tensor(a) - b }
    public static func * (a: Tensor, b: Float) -> Tensor { a * Tensor(b) }
    public static func * (a: Float, b: Tensor) -> Tensor { Tensor(a) * b }
    public static func / (a: Tensor, b: Float) -> Tensor { a / Tensor(b) }
    public static func / (a: Float, b: Tensor) -> Tensor { Tensor(a) / b }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }

    // MARK: Unary math

    /// -x.
    public static prefix func - (x: Tensor) -> Tensor {
        let result = x.mapped { -$0 }
        return recorded(result, operation: "negate", inputs: [x]) { g, _ in [-g] }
    }

    /// e^x.
    public func exp() -> Tensor {
        let result = mapped(.exp)
        return Tensor.recorded(result, operation: "exp", inputs: [self]) { g, _ in [g * result] }
    }

    /// The natural logarithm.
    public func log() -> Tensor {
        let result = Tensor(shape: shape, scalars: scalars.map { Foundation.log($0) })
        return Tensor.recorded(result, operation: "log", inputs: [self]) { g, _ in [g / self] }
    }

    /// The square root.
    public func sqrt() -> Tensor {
        let result = mapped { $0.squareRoot() }
        return Tensor.recorded(result, operation: "sqrt", inputs: [self]) { g, _ in
            [Tensor.zipped(g, result) { g, y in g * 0.5 / y }]
        }
    }

    /// x raised to a constant power.
    public func pow(_ exponent: Float) -> Tensor {
        let result: Tensor
        switch exponent {
        case 1: result = self.detached()
        case 2: result = mapped { $0 * $0 }
        default: result = Tensor(shape: shape, scalars: scalars.map { Foundation.pow($0, exponent) })
        }
        return Tensor.recorded(result, operation: "pow", inputs: [self]) { g, _ in
            [g * exponent * self.pow(exponent - 1)]
        }
    }

    /// |x|; the gradient at 0 is 0.
    public func abs() -> Tensor {
        let result = mapped(SequentTensor.abs)
        return Tensor.recorded(result, operation: "abs", inputs: [self]) { g, _ in
            [Tensor.zipped(g, self) { g, x in
                FloatVector(repeating: 0).replacing(with: g, where: x .> 0).replacing(with: -g, where: x .< 0)
            }]
        }
    }

    /// The hyperbolic tangent.
    public func tanh() -> Tensor {
        let result = mapped(.tanh)
        return Tensor.recorded(result, operation: "tanh", inputs: [self]) { g, _ in
            [Tensor.zipped(g, result) { g, y in g * (1 - y * y) }]
        }
    }

    /// The logistic sigmoid 1 / (1 + e^-x).
    public func sigmoid() -> Tensor {
        let result = mapped(.sigmoid)
        return Tensor.recorded(result, operation: "sigmoid", inputs: [self]) { g, _ in
            [Tensor.zipped(g, result) { g, y in g * y * (1 - y) }]
        }
    }

    /// max(x, 0); the gradient at 0 is 0.
    public func relu() -> Tensor {
        let result = mapped(.relu)
        return Tensor.recorded(result, operation: "relu", inputs: [self]) { g, _ in
            [Tensor.zipped(g, self) { g, x in g.replacing(with: 0, where: x .<= 0) }]
        }
    }

    /// The Gaussian error linear unit x * Phi(x) with the exact error function, as PyTorch's
    /// default `nn.GELU()`.
    public func gelu() -> Tensor {
        let result = mapped(.gelu)
        return Tensor.recorded(result, operation: "gelu", inputs: [self]) { g, _ in
            [Tensor.geluGradient(g, self)]
        }
    }

    /// x limited to [lower, upper]; the gradient is 0 where x was clipped.
    public func clamped(min lower: Float, max upper: Float) -> Tensor {
        let result = mapped { $0.replacing(with: lower, where: $0 .< lower).replacing(with: upper, where: $0 .> upper) }
        return Tensor.recorded(result, operation: "clamp", inputs: [self]) { g, _ in
            [Tensor.zipped(g, self) { g, x in g.replacing(with: 0, where: (x .< lower) .| (x .> upper)) }]
        }
    }

    // MARK: Comparisons (not differentiable; 1 where true, 0 where false)

    private static func compare(_ a: Tensor, _ b: Tensor, _ op: String,
                                _ predicate: (FloatVector, FloatVector) -> SIMDMask<SIMD16<Int32>>) -> Tensor {
        broadcastZip(a, b, op: op) { FloatVector(repeating: 0).replacing(with: 1, where: predicate($0, $1)) }
    }

    /// 1 where a == b, else 0.
    public static func .== (a: Tensor, b: Tensor) -> Tensor { compare(a, b, "equal") { $0 .== $1 } }
    /// 1 where a != b, else 0.
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { compare(a, b, "notEqual") { $0 .!= $1 } }
    /// 1 where a < b, else 0.
    public static func .< (a: Tensor, b: Tensor) -> Tensor { compare(a, b, "less") { $0 .< $1 } }
    /// 1 where a <= b, else 0.
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { compare(a, b, "lessEqual") { $0 .<= $1 } }
    /// 1 where a > b, else 0.
    public static func .> (a: Tensor, b: Tensor) -> Tensor { compare(a, b, "greater") { $0 .> $1 } }
    /// 1 where a >= b, else 0.
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { compare(a, b, "greaterEqual") { $0 .>= $1 } }

    /// Whether any scalar is NaN or infinite.
    public var hasNonFinite: Bool { scalars.contains { !$0.isFinite } }
}

/// An activation between two linear maps, as a value (the feed-forward networks of
/// Transformers, `Tensor.feedForward`).
public enum Activation: String, Sendable, CaseIterable {
    /// max(0, x), the original Transformer's (and PyTorch's default).
    case relu
    /// x Phi(x) with the exact error function (GPT, BERT; PyTorch's `"gelu"`).
    case gelu

    /// The activation applied elementwise.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: x.relu()
        case .gelu: x.gelu()
        }
    }
}
