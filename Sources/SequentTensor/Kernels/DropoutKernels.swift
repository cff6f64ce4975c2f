// Dropout masks from a counter-based hash: x, out are (count).
// The keep/drop decision of scalar i is a pure function of (key, i), so the mask needs no
// storage (the backward pass recomputes it), is vectorized 16 lanes at a time, and does
// not depend on the thread count or on how the work is split.

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

    /// out[i] = x[i] * m_i / (1 - p), with m_i = 0 when u_i < p and 1 otherwise, where
    /// u_i = (top 24 bits of mix(mix(i * 0x9E3779B9 ^ key.low) ^ key.high)) / 2^24.
    ///
    /// The index is taken modulo 2^32: tensors beyond 4 billion scalars repeat the mask.
    /// Scalar i of x takes the mask's scalar `indexOffset + i` (a shard of a larger tensor),
    /// or with a `segment`, `indexOffset + (i / length) * stride + i % length` (a shard whose
    /// rows are blocks `stride` apart in the larger tensor: a time-major batch's rows).
    static func apply(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int,
        probability p: Float, key: UInt64, indexOffset: Int = 0, segment: (length: Int, stride: Int)? = nil
    ) {
        let threshold = SIMD16<UInt32>(repeating: UInt32((Double(p) * 16_777_216).rounded()))
        let scale = FloatVector(repeating: 1 / (1 - p))
        let keyLow = SIMD16<UInt32>(repeating: UInt32(truncatingIfNeeded: key))
        let keyHigh = SIMD16<UInt32>(repeating: UInt32(truncatingIfNeeded: key >> 32))
        let lanes = SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        let xBase = UncheckedSendable(x), outBase = UncheckedSendable(out)
        Parallelism.forEachChunk(count: count, costPerItem: 2) { range in
            // Scalars lower..<upper, whose mask index is i + offset.
            @inline(__always)
            func run(_ lower: Int, _ upper: Int, offset: Int) {
                var i = lower
                while i < upper {
                    let remaining = upper - i
                    let index = SIMD16<UInt32>(repeating: UInt32(truncatingIfNeeded: offset &+ i)) &+ lanes
                    let bits = mix(mix(index &* 0x9E37_79B9 ^ keyLow) ^ keyHigh) &>> 8
                    let kept = scale.replacing(with: 0, where: bits .< threshold)
                    ElementwiseKernels.store(ElementwiseKernels.load(xBase.value, i, remaining) * kept, outBase.value, i, remaining)
                    i += 16
                }
            }
            guard let segment, segment.length > 0, segment.length != segment.stride else { return run(range.lowerBound, range.upperBound, offset: indexOffset) }
            // Block by block: within block k the index is i + indexOffset + k * (stride - length).
            var i = range.lowerBound
            while i < range.upperBound {
                let block = i / segment.length
                let end = min(range.upperBound, (block + 1) * segment.length)
                run(i, end, offset: indexOffset &+ block &* (segment.stride &- segment.length))
                i = end
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
}
