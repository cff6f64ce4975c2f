// Vectorized elementary functions on 16 Float lanes (Cephes single-precision algorithms).
// Every fast function here has a scalar reference in the tests (Foundation's exp, tanh).
// The hot loops run the same algorithms in C (ActivationKernel), compiled for the CPU's
// vector unit; these stay as their readable reference and serve the Swift loops left.

/// Sixteen Float lanes: the unit every elementwise kernel works in.
public typealias FloatVector = SIMD16<Float>

/// Vectorized elementary functions used by the elementwise kernels.
public enum VectorMath {
    /// e^x, relative error below 2 ulp on [-87.3, 88.72]; 0 below (subnormal
    /// results are flushed) and +inf above, where e^x overflows Float.
    @_transparent
    public static func exp(_ input: FloatVector) -> FloatVector {
        let lower: Float = -87.3, upper: Float = 88.72283  // just below log(Float.greatestFiniteMagnitude)
        // Clamp with selects: the standard library's clamped(...) and rounded(...) on SIMD
        // types loop over the lanes one by one.
        var x = input.replacing(with: lower, where: input .< lower)
        x = x.replacing(with: upper, where: x .> upper)
        // x = n ln2 + r, |r| <= ln2/2. Adding 1.5 * 2^23 rounds x/ln2 to the integer n, which
        // then sits in the low mantissa bits of `shifted`.
        let magic = FloatVector(repeating: 12582912.0)
        let shifted = x.times(1.44269504088896341, plus: magic)
        let n = shifted - magic
        // ln2 split in two parts for an exact product n*ln2.
        var r = n.times(-0.693359375, plus: x)
        r = n.times(2.12194440e-4, plus: r)
        let r2 = r * r
        var p = FloatVector(repeating: 1.9875691500e-4)
        p = p.times(r, plus: 1.3981999507e-3)
        p = p.times(r, plus: 8.3334519073e-3)
        p = p.times(r, plus: 4.1665795894e-2)
        p = p.times(r, plus: 1.6666665459e-1)
        p = p.times(r, plus: 5.0000001201e-1)
        let expR = p.times(r2, plus: r + 1)
        // n is in [-126, 128] and 2^128 is not a Float: scale by 2^half * 2^(n - half).
        let nInteger = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let half = nInteger &>> 1
        let result = expR * powerOfTwo(half) * powerOfTwo(nInteger &- half)
        return result.replacing(with: .infinity, where: input .> upper)
            .replacing(with: 0, where: input .< lower)
            .replacing(with: .nan, where: input .!= input)
    }

    /// 2^n for integral n in [-126, 127], built in the exponent bits.
    @_transparent @usableFromInline
    static func powerOfTwo(_ n: SIMD16<Int32>) -> FloatVector {
        unsafeBitCast((n &+ 127) &<< 23, to: FloatVector.self)
    }

    /// tanh(x): an odd polynomial near zero (full relative precision), 1 - 2/(e^2x + 1) elsewhere.
    @_transparent
    public static func tanh(_ x: FloatVector) -> FloatVector {
        let magnitude = abs(x)
        let z = x * x
        var p = FloatVector(repeating: -5.70498872745e-3)
        p = p.times(z, plus: 2.06390887954e-2)
        p = p.times(z, plus: -5.37397155531e-2)
        p = p.times(z, plus: 1.33314422036e-1)
        p = p.times(z, plus: -3.33332819422e-1)
        let small = (p * z).times(x, plus: x)
        let e = exp(-2 * magnitude)
        var large = (1 - e) / (1 + e)
        large = large.replacing(with: -large, where: x .< 0)
        return large.replacing(with: small, where: magnitude .< 0.625)
    }

    /// erfc(z) for z >= 0 with relative error below 1.2e-7 (the Chebyshev fit of Numerical
    /// Recipes' erfcc), so that tails keep their precision:
    ///     t = 1 / (1 + z/2),  erfc(z) = t exp(-z^2 - 1.26551223 + t (1.00002368 + t (... )))
    @_transparent @usableFromInline
    static func erfcOfMagnitude(_ z: FloatVector) -> FloatVector {
        let t = 1 / (1 + 0.5 * z)
        var p = FloatVector(repeating: 0.17087277)
        p = p.times(t, plus: -0.82215223)
        p = p.times(t, plus: 1.48851587)
        p = p.times(t, plus: -1.13520398)
        p = p.times(t, plus: 0.27886807)
        p = p.times(t, plus: -0.18628806)
        p = p.times(t, plus: 0.09678418)
        p = p.times(t, plus: 0.37409196)
        p = p.times(t, plus: 1.00002368)
        p = p.times(t, plus: -1.26551223)
        return t * exp(p - z * z)
    }

    /// The standard normal distribution function Phi(x) = erfc(-x / sqrt 2) / 2, with full
    /// relative precision in the lower tail.
    @_transparent
    public static func normalCDF(_ x: FloatVector) -> FloatVector {
        let tail = 0.5 * erfcOfMagnitude(abs(x) * 0.70710678118654752)
        return tail.replacing(with: 1 - tail, where: x .> 0)
    }

    /// The Gaussian error linear unit x Phi(x).
    @_transparent
    public static func gelu(_ x: FloatVector) -> FloatVector {
        x * normalCDF(x)
    }

    /// d/dx [x Phi(x)] = Phi(x) + x phi(x), phi the standard normal density.
    @_transparent
    public static func geluDerivative(_ x: FloatVector) -> FloatVector {
        normalCDF(x) + x * 0.3989422804014327 * exp(-0.5 * x * x)
    }

    /// The logistic sigmoid 1 / (1 + e^-x).
    @_transparent
    public static func sigmoid(_ x: FloatVector) -> FloatVector {
        1 / (1 + exp(-x))
    }
}

extension SIMD16 where Scalar == Float {
    /// self * x + c, the step of every polynomial here: a multiply and an add, not a fused
    /// multiply-add, since Swift code is compiled for baseline x86-64, which has no FMA
    /// instruction (`addingProduct` there calls libm's fmaf once per lane). The C kernels
    /// fuse them on CPUs with FMA.
    @_transparent @usableFromInline
    func times(_ x: Self, plus c: Self) -> Self { self * x + c }

    @_transparent @usableFromInline
    func times(_ x: Self, plus c: Float) -> Self { self * x + c }

    @_transparent @usableFromInline
    func times(_ x: Float, plus c: Self) -> Self { self * x + c }

    /// The sum of the 16 lanes, by halving: 4 vector adds (the standard library's `sum()`
    /// adds the lanes one after another).
    @_transparent @usableFromInline
    func horizontalSum() -> Float {
        let eight = lowHalf + highHalf, four = eight.lowHalf + eight.highHalf, two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    /// The largest of the 16 lanes, by halving (see `horizontalSum`).
    @_transparent @usableFromInline
    func horizontalMaximum() -> Float {
        let (low, high) = (lowHalf, highHalf)
        let eight = low.replacing(with: high, where: high .> low)
        let (low4, high4) = (eight.lowHalf, eight.highHalf)
        let four = low4.replacing(with: high4, where: high4 .> low4)
        return Swift.max(Swift.max(four[0], four[1]), Swift.max(four[2], four[3]))
    }

    @_transparent @usableFromInline
    static func abs(_ v: Self) -> Self {
        unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: Self.self)
    }
}

@_transparent @usableFromInline
func abs(_ v: FloatVector) -> FloatVector { FloatVector.abs(v) }

extension SIMD8 where Scalar == Float {
    /// The sum of the 8 lanes, by halving (see `SIMD16.horizontalSum`).
    @_transparent @usableFromInline
    func horizontalSum() -> Float {
        let four = lowHalf + highHalf, two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }
}
