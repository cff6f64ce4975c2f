// Cross-entropy of class logits against integer targets, log-softmax and negative
// log-likelihood fused in one pass over each row (the hot path of language models).
// N = rows, C = classes. logits, dlogits are (N, C); targets, weights, rowScale, losses,
// rowMax, logSum are (N). eps = label smoothing. logsumexp(x_i) is kept as the pair
// rowMax_i + logSum_i, so that differences like lse_i - x_ic keep full precision when the
// logits are large.

/// Fused cross-entropy kernels and their naive reference in Double for the tests.
enum LossKernels {
    /// For every row with a nonzero weight:
    ///
    ///     m_i    = max_c x_ic,   s_i = log sum_c e^(x_ic - m_i)   (lse_i = m_i + s_i)
    ///     loss_i = lse_i - (1 - eps) x_i,t_i - eps/C sum_c x_ic
    ///            = s_i + (1 - eps)(m_i - x_i,t_i) + eps (m_i - 1/C sum_c x_ic)
    ///
    /// Rows whose weight is 0 (ignored or masked) get loss 0 and are not read, so logits
    /// there may be anything.
    static func crossEntropyForward(
        _ logits: UnsafePointer<Float>, targets: UnsafePointer<Int>, weights: UnsafePointer<Float>,
        losses: UnsafeMutablePointer<Float>, rowMax: UnsafeMutablePointer<Float>, logSum: UnsafeMutablePointer<Float>,
        rows: Int, classes c: Int, labelSmoothing eps: Float
    ) {
        let logitsBase = UncheckedSendable(logits), targetsBase = UncheckedSendable(targets)
        let weightsBase = UncheckedSendable(weights), lossesBase = UncheckedSendable(losses)
        let rowMaxBase = UncheckedSendable(rowMax), logSumBase = UncheckedSendable(logSum)
        Parallelism.forEachChunk(count: rows, costPerItem: c * 8) { range in
            for i in range {
                guard weightsBase.value[i] != 0 else {
                    lossesBase.value[i] = 0
                    rowMaxBase.value[i] = 0
                    logSumBase.value[i] = 0
                    continue
                }
                let row = logitsBase.value + i * c
                let peak = ReductionKernels.reduceContiguous(row, count: c, .maximum)
                let shift = FloatVector(repeating: peak)
                // One pass: sum of e^(x - peak) and, for label smoothing, sum of x.
                var expSum = FloatVector(), logitSum = FloatVector()
                var k = 0
                while k < c {
                    let remaining = c - k
                    expSum += VectorMath.exp(ReductionKernels.load(row + k, remaining, fill: -.infinity) - shift)
                    if eps != 0 { logitSum += ReductionKernels.load(row + k, remaining, fill: 0) }
                    k += 16
                }
                let shiftedLogSum = _logf(expSum.sum())
                rowMaxBase.value[i] = peak
                logSumBase.value[i] = shiftedLogSum
                let targetMargin = peak - row[targetsBase.value[i]]
                lossesBase.value[i] = eps == 0
                    ? shiftedLogSum + targetMargin
                    : shiftedLogSum + (1 - eps) * targetMargin + eps * (peak - logitSum.sum() / Float(c))
            }
        }
    }

    /// dlogits_ic = r_i (softmax(x_i)_c - eps/C - (1 - eps) [c == t_i]), with
    /// softmax(x_i)_c = e^((x_ic - m_i) - s_i) and r_i = rowScale[i] (the weight of the row
    /// times the output gradient, divided by the total weight for a mean). Rows with r_i = 0
    /// get 0.
    static func crossEntropyBackward(
        _ logits: UnsafePointer<Float>, targets: UnsafePointer<Int>,
        rowMax: UnsafePointer<Float>, logSum: UnsafePointer<Float>,
        rowScale: UnsafePointer<Float>, dlogits: UnsafeMutablePointer<Float>,
        rows: Int, classes c: Int, labelSmoothing eps: Float
    ) {
        let logitsBase = UncheckedSendable(logits), targetsBase = UncheckedSendable(targets)
        let rowMaxBase = UncheckedSendable(rowMax), logSumBase = UncheckedSendable(logSum)
        let scaleBase = UncheckedSendable(rowScale)
        let dlogitsBase = UncheckedSendable(dlogits)
        Parallelism.forEachChunk(count: rows, costPerItem: c * 6) { range in
            for i in range {
                let scale = scaleBase.value[i]
                let out = dlogitsBase.value + i * c
                guard scale != 0 else {
                    out.update(repeating: 0, count: c)
                    continue
                }
                let m = FloatVector(repeating: rowMaxBase.value[i]), s = FloatVector(repeating: logSumBase.value[i])
                let r = FloatVector(repeating: scale), uniform = FloatVector(repeating: eps / Float(c))
                ElementwiseKernels.map(logitsBase.value + i * c, out, count: c) { x in
                    r * (VectorMath.exp((x - m) - s) - uniform)
                }
                out[targetsBase.value[i]] -= scale * (1 - eps)
            }
        }
    }

    // MARK: Reference

    /// The per-row losses by the textbook formula in Double: the reference for tests.
    static func crossEntropyForwardNaive(
        _ logits: UnsafePointer<Float>, targets: UnsafePointer<Int>, losses: UnsafeMutablePointer<Float>,
        rows: Int, classes c: Int, labelSmoothing eps: Float
    ) {
        for i in 0..<rows {
            let row = logits + i * c
            var peak = -Double.infinity
            for k in 0..<c { peak = max(peak, Double(row[k])) }
            var sum = 0.0
            for k in 0..<c { sum += _exp(Double(row[k]) - peak) }
            let lse = peak + _log(sum)
            // -sum_c q_c log p_c with q = (1 - eps) onehot + eps / C.
            var loss = 0.0
            for k in 0..<c {
                let q = (k == targets[i] ? 1 - Double(eps) : 0) + Double(eps) / Double(c)
                loss -= q * (Double(row[k]) - lse)
            }
            losses[i] = Float(loss)
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _exp(_ x: Double) -> Double { Glibc.exp(x) }
@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
#else
import Foundation
@inline(__always) private func _exp(_ x: Double) -> Double { Foundation.exp(x) }
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
#endif
