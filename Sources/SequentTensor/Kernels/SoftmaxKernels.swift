// Softmax over contiguous rows: x and out are (rows, n).

/// Row-wise softmax and log-softmax, numerically stable (the row maximum is subtracted).
enum SoftmaxKernels {
    /// out[r] = softmax(x[r]) or log-softmax(x[r]); rows that are all -inf give zeros
    /// (softmax) so that fully masked attention rows never produce NaN.
    static func softmaxRows(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, n: Int, logarithm: Bool) {
        let xBase = UncheckedSendable(x), outBase = UncheckedSendable(out)
        Parallelism.forEachChunk(count: rows, costPerItem: n * 8) { range in
            for r in range {
                let row = xBase.value + r * n, result = outBase.value + r * n
                let peak = ReductionKernels.reduceContiguous(row, count: n, .maximum)
                if peak == -.infinity {
                    result.update(repeating: logarithm ? -.infinity : 0, count: n)
                    continue
                }
                ActivationKernel.shiftedExp(peak).apply(row, result, count: n)
                let total = ReductionKernels.reduceContiguous(UnsafePointer(result), count: n, .sum)
                if logarithm {
                    let logTotal = FloatVector(repeating: peak + _logf(total))
                    ElementwiseKernels.map(row, result, count: n) { $0 - logTotal }
                } else {
                    let scale = FloatVector(repeating: 1 / total)
                    ElementwiseKernels.map(UnsafePointer(result), result, count: n) { $0 * scale }
                }
            }
        }
    }

    /// softmax or log-softmax of every row of x (..., n) along its last axis, x's shape.
    static func softmaxRows(_ x: Tensor, logarithm: Bool) -> Tensor {
        let n = x.shape.last ?? 1
        return Tensor(shape: x.shape) { out in
            guard out.count > 0 else { return }
            x.withUnsafeBufferPointer { xp in
                softmaxRows(xp.baseAddress!, out.baseAddress!, rows: x.count / n, n: n, logarithm: logarithm)
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _logf(_ x: Float) -> Float { Glibc.logf(x) }
#else
import Foundation
@inline(__always) func _logf(_ x: Float) -> Float { Foundation.log(x) }
#endif
