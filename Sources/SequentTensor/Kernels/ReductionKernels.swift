// Reductions along one axis of a tensor viewed as (outer, n, inner):
// x is (outer, n, inner) row-major, out is (outer, inner).

/// Sum and maximum along one axis, vectorized along the contiguous dimension.
enum ReductionKernels {
    /// How a reduction combines lanes: sum or maximum.
    enum Combine {
        case sum, maximum

        var identity: Float { self == .sum ? 0 : -.infinity }

        @inline(__always)
        func callAsFunction(_ a: FloatVector, _ b: FloatVector) -> FloatVector {
            self == .sum ? a + b : a.replacing(with: b, where: b .> a)
        }

        @inline(__always)
        func horizontal(_ v: FloatVector) -> Float {
            self == .sum ? v.horizontalSum() : v.horizontalMaximum()
        }
    }

    /// `ElementwiseKernels.load` at p: a tail's missing lanes are `fill`.
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ remaining: Int, fill: Float) -> FloatVector {
        ElementwiseKernels.load(p, 0, remaining, fill: fill)
    }

    /// The sum or maximum of `count` contiguous scalars.
    @inline(__always)
    static func reduceContiguous(_ x: UnsafePointer<Float>, count: Int, _ combine: Combine) -> Float {
        // Four accumulators hide the latency of the vector adds.
        var acc0 = FloatVector(repeating: combine.identity), acc1 = acc0, acc2 = acc0, acc3 = acc0
        var i = 0
        while i + 64 <= count {
            acc0 = combine(acc0, load(x + i, 16, fill: 0))
            acc1 = combine(acc1, load(x + i + 16, 16, fill: 0))
            acc2 = combine(acc2, load(x + i + 32, 16, fill: 0))
            acc3 = combine(acc3, load(x + i + 48, 16, fill: 0))
            i += 64
        }
        while i < count {
            acc0 = combine(acc0, load(x + i, count - i, fill: combine.identity))
            i += 16
        }
        return combine.horizontal(combine(combine(acc0, acc1), combine(acc2, acc3)))
    }

    /// The sum of squares of `count` contiguous scalars.
    @inline(__always)
    static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var accumulator = FloatVector()
        var i = 0
        while i < count {
            let v = load(x + i, count - i, fill: 0)
            accumulator += v * v
            i += 16
        }
        return accumulator.horizontalSum()
    }

    /// out[o, i] = combine over k of x[o, k, i].
    static func reduce(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        outer: Int, n: Int, inner: Int, _ combine: Combine
    ) {
        let xBase = UncheckedSendable(x), outBase = UncheckedSendable(out)
        if inner == 1 {
            Parallelism.forEachChunk(count: outer, costPerItem: n) { rows in
                for o in rows {
                    outBase.value[o] = reduceContiguous(xBase.value + o * n, count: n, combine)
                }
            }
            return
        }
        Parallelism.forEachChunk(count: outer, costPerItem: n * inner) { rows in
            for o in rows {
                let row = outBase.value + o * inner
                row.update(repeating: combine.identity, count: inner)
                for k in 0..<n {
                    let source = UnsafePointer(xBase.value + (o * n + k) * inner)
                    ElementwiseKernels.zip(UnsafePointer(row), source, row, count: inner) { combine($0, $1) }
                }
            }
        }
    }

    // MARK: Safe entry points (for Tensor+Reduction.swift)

    /// out (shape, outer * inner scalars) = x (outer, n, inner) combined along n; the
    /// combination's identity where n = 0.
    static func reduce(_ x: Tensor, outer: Int, n: Int, inner: Int, _ combine: Combine, shape: [Int]) -> Tensor {
        Tensor(shape: shape) { out in
            guard out.count > 0 else { return }
            x.withUnsafeBufferPointer { xp in
                if n == 0 {
                    out.update(repeating: combine.identity)
                } else {
                    reduce(xp.baseAddress!, out.baseAddress!, outer: outer, n: n, inner: inner, combine)
                }
            }
        }
    }

    /// The index of the first maximum of x (outer, n, inner) along n, as Float values,
    /// (outer, inner); NaN counts as the maximum, as in PyTorch. n >= 1.
    static func argmax(_ x: Tensor, outer: Int, n: Int, inner: Int) -> [Float] {
        var indices = [Float](repeating: 0, count: outer * inner)
        x.withUnsafeBufferPointer { x in
            for o in 0..<outer {
                for i in 0..<inner {
                    var best = x[o * n * inner + i]
                    var bestIndex = 0
                    for k in 1..<n where !best.isNaN {
                        let value = x[(o * n + k) * inner + i]
                        if value > best || value.isNaN {
                            best = value
                            bestIndex = k
                        }
                    }
                    indices[o * inner + i] = Float(bestIndex)
                }
            }
        }
        return indices
    }
}
