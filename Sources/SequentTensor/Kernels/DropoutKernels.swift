import CSequentKernels

// Dropout masks from a counter-based hash: x, out are (count).
// The keep/drop decision of scalar i is a pure function of (key, i), so the mask needs no
// storage (the backward pass recomputes it), is vectorized 16 lanes at a time, and does
// not depend on the thread count or on how the work is split. The kernel is C
// (CSequentKernels' Dropout.c), compiled for each instruction set and picked by CPUID: the
// hash multiplies 32-bit lanes, which baseline x86-64 (what Swift compiles for) lacks. The
// Swift loop below it is the reference the tests hold every level to, bit for bit.

/// Applies inverted-dropout masks generated from a 64-bit key.
enum DropoutKernels {
    /// The murmur3 32-bit finalizer, lane-wise: a bijection that spreads every input bit
    /// over every output bit.
    @inline(__always)
    static func mix(_ value: SIMD16<UInt32>) -> SIMD16<UInt32> {
        var h = value
        h ^= h &>> 16
        h &*= 0x85EB_CA6B
        h ^= h &>> 13
        h &*= 0xC2B2_AE35
        h ^= h &>> 16
        return h
    }

    /// The threshold of the top 24 bits below which a scalar is dropped: p * 2^24, rounded.
    static func threshold(_ p: Float) -> UInt32 { UInt32((Double(p) * 16_777_216).rounded()) }

    /// out[i] = x[i] * m_i / (1 - p), with m_i = 0 when u_i < p and 1 otherwise, where
    /// u_i = (top 24 bits of mix(mix(i * 0x9E3779B9 ^ key.low) ^ key.high)) / 2^24.
    ///
    /// The index is taken modulo 2^32: tensors beyond 4 billion scalars repeat the mask.
    /// Scalar i of x takes the mask's scalar `indexOffset + i` (a shard of a larger tensor),
    /// or with a `segment`, `indexOffset + (i / length) * stride + i % length` (a shard whose
    /// rows are blocks `stride` apart in the larger tensor: a time-major batch's rows).
    /// `level` picks the C kernel's instruction set (tests); nil: the CPU's.
    static func apply(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int,
        probability p: Float, key: UInt64, indexOffset: Int = 0, segment: (length: Int, stride: Int)? = nil,
        level: CPUSupport.Level? = nil
    ) {
        let threshold = Self.threshold(p), scale = 1 / (1 - p)
        forEachRun(count: count, indexOffset: indexOffset, segment: segment, xBase: x, outBase: out) { x, out, n, offset in
            if let level {
                sequent_dropout_at_level(Int32(level.rawValue), x, out, n, threshold, scale, key, offset)
            } else {
                sequent_dropout(x, out, n, threshold, scale, key, offset)
            }
        }
    }

    /// Splits the scalars into chunks for the threads and, with a `segment`, into its blocks;
    /// calls `body` with each run's pointers, its length and the mask index of its first scalar.
    @inline(__always)
    private static func forEachRun(
        count: Int, indexOffset: Int, segment: (length: Int, stride: Int)?,
        xBase: UnsafePointer<Float>, outBase: UnsafeMutablePointer<Float>,
        _ body: @escaping @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, UInt32) -> Void
    ) {
        let pointers = UncheckedSendable((xBase, outBase))
        Parallelism.forEachChunk(count: count, costPerItem: 2) { range in
            let (x, out) = pointers.value
            guard let segment, segment.length > 0, segment.length != segment.stride else {
                return body(x + range.lowerBound, out + range.lowerBound, range.count,
                            UInt32(truncatingIfNeeded: indexOffset &+ range.lowerBound))
            }
            // Block by block: within block k the index is i + indexOffset + k * (stride - length).
            var i = range.lowerBound
            while i < range.upperBound {
                let block = i / segment.length
                let end = min(range.upperBound, (block + 1) * segment.length)
                body(x + i, out + i, end - i,
                     UInt32(truncatingIfNeeded: indexOffset &+ block &* (segment.stride &- segment.length) &+ i))
                i = end
            }
        }
    }

    /// The Swift reference of `apply`, 16 lanes at a time: the same bits.
    static func applyReference(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int,
        probability p: Float, key: UInt64, indexOffset: Int = 0, segment: (length: Int, stride: Int)? = nil
    ) {
        let threshold = SIMD16<UInt32>(repeating: Self.threshold(p))
        let scale = FloatVector(repeating: 1 / (1 - p))
        let keyLow = SIMD16<UInt32>(repeating: UInt32(truncatingIfNeeded: key))
        let keyHigh = SIMD16<UInt32>(repeating: UInt32(truncatingIfNeeded: key >> 32))
        let lanes = SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        forEachRun(count: count, indexOffset: indexOffset, segment: segment, xBase: x, outBase: out) { x, out, n, offset in
            var i = 0
            while i < n {
                let index = SIMD16<UInt32>(repeating: offset &+ UInt32(truncatingIfNeeded: i)) &+ lanes
                let bits = mix(mix(index &* 0x9E37_79B9 ^ keyLow) ^ keyHigh) &>> 8
                let kept = scale.replacing(with: 0, where: bits .< threshold)
                ElementwiseKernels.store(ElementwiseKernels.load(x, i, n - i) * kept, out, i, n - i)
                i += 16
            }
        }
    }

    /// x with the dropout mask of `key` applied (x's shape), from the mask's scalar `indexOffset`
    /// on (in blocks of a `segment`, as above).
    static func apply(_ x: Tensor, probability p: Float, key: UInt64, indexOffset: Int = 0,
                      segment: (length: Int, stride: Int)? = nil) -> Tensor {
        Tensor(shape: x.shape) { out in
            guard out.count > 0 else { return }
            x.withUnsafeBufferPointer { xp in
                apply(xp.baseAddress!, out.baseAddress!, count: out.count, probability: p, key: key, indexOffset: indexOffset, segment: segment)
            }
        }
    }

    /// `apply` at a given level of the C kernel, or (`level` nil) the Swift reference: what
    /// the tests compare.
    static func applyForTests(_ x: Tensor, probability p: Float, key: UInt64, indexOffset: Int = 0,
                              segment: (length: Int, stride: Int)? = nil, level: CPUSupport.Level?) -> Tensor {
        Tensor(shape: x.shape) { out in
            guard out.count > 0 else { return }
            x.withUnsafeBufferPointer { xp in
                if let level {
                    apply(xp.baseAddress!, out.baseAddress!, count: out.count, probability: p, key: key, indexOffset: indexOffset,
                          segment: segment, level: level)
                } else {
                    applyReference(xp.baseAddress!, out.baseAddress!, count: out.count, probability: p, key: key,
                                   indexOffset: indexOffset, segment: segment)
                }
            }
        }
    }
}
