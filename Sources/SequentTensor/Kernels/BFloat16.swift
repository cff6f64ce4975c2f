// bfloat16: the top 16 bits of a Float (8 exponent bits, 7 mantissa bits), rounded to
// nearest even. The one rounding rule of Sequent's bfloat16 paths: streaming weights and
// matrix products at `MatmulPrecision.bfloat16`.

import CSequentKernels

/// Rounding Float to bfloat16.
enum BFloat16 {
    /// The bfloat16 nearest to `value` (ties to even), as its 16 bits; NaN stays NaN.
    @inline(__always)
    static func bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x40 }
        return UInt16((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    /// `bits` on 16 lanes.
    @inline(__always)
    static func bits(_ values: FloatVector) -> SIMD16<UInt16> {
        let bits = unsafeBitCast(values, to: SIMD16<UInt32>.self)
        var rounded = (bits &+ 0x7FFF &+ ((bits &>> 16) & 1)) &>> 16
        rounded.replace(with: (bits &>> 16) | 0x40, where: values .!= values)
        return SIMD16<UInt16>(truncatingIfNeeded: rounded)
    }

    /// out (rows, cols) contiguous = bfloat16 of x (rows, cols; row stride ld), on all threads
    /// (`bits` on every value, in C for the CPU's vector unit).
    static func round(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int, into out: UnsafeMutablePointer<UInt16>) {
        let base = UncheckedSendable((x, out))
        Parallelism.forEachChunk(count: rows, costPerItem: cols) { range in
            let (x, out) = base.value
            if ld == cols {
                sequent_bfloat16_round(x + range.lowerBound * cols, out + range.lowerBound * cols, range.count * cols)
            } else {
                for r in range { sequent_bfloat16_round(x + r * ld, out + r * cols, cols) }
            }
        }
    }

    /// A new contiguous bfloat16 copy of x (rows, cols; row stride ld); the caller deallocates it.
    static func rounded(_ x: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int) -> UnsafeMutablePointer<UInt16> {
        let out = UnsafeMutablePointer<UInt16>.allocate(capacity: max(1, rows * cols))
        round(x, rows: rows, cols: cols, ld: ld, into: out)
        return out
    }

    /// out[i] = the Float value of the bfloat16 x[i], for i < count.
    static func widen(_ x: UnsafePointer<UInt16>, count: Int, into out: UnsafeMutablePointer<Float>) {
        for i in 0..<count { out[i] = Float(bitPattern: UInt32(x[i]) << 16) }
    }

    /// A new contiguous Float copy of the bfloat16 values in x (rows, cols; row stride ld),
    /// each exact (bfloat16 is the top half of a Float); the caller deallocates it.
    static func widened(_ x: UnsafePointer<UInt16>, rows: Int, cols: Int, ld: Int) -> UnsafeMutablePointer<Float> {
        let out = UnsafeMutablePointer<Float>.allocate(capacity: max(1, rows * cols))
        let base = UncheckedSendable((x, out))
        Parallelism.forEachChunk(count: rows, costPerItem: cols) { range in
            let (x, out) = base.value
            for r in range {
                let source = x + r * ld, target = out + r * cols
                widen(source, count: cols, into: target)
            }
        }
        return out
    }
}
