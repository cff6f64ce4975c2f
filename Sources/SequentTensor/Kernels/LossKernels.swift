// Cross-entropy of class logits against integer targets, log-softmax and negative
// log-likelihood fused in one pass over each row (the hot path of language models).
// N = rows, C = classes. logits, dlogits are (N, C); targets, weights, rowScale, losses,
// logSum are (N). eps = label smoothing. logsumexp(x_i) is split as m_i + s_i (row maximum
// plus the log-sum of the shifted row), so that lse_i - x_ic = s_i + (m_i - x_ic) keeps full
// precision when the logits are large. expShifted is (N, C): e^(x_ic - m_i), written by the
// forward pass when a backward pass will follow, so that the backward pass computes no
// exponential (as llm.c keeps probs).

/// Fused cross-entropy kernels and their naive reference in Double for the tests.
enum LossKernels {
    /// For every row with a nonzero weight:
    ///
    ///     m_i    = max_c x_ic,   s_i = log sum_c e^(x_ic - m_i)   (lse_i = m_i + s_i)
    ///     loss_i = lse_i - (1 - eps) x_i,t_i - eps/C sum_c x_ic
    ///            = s_i + (1 - eps)(m_i - x_i,t_i) + eps (m_i - 1/C sum_c x_ic)
    ///
    /// Rows whose weight is 0 (ignored or masked) get loss 0 (and zeros in expShifted) and
    /// are not read, so logits there may be anything.
    static func crossEntropyForward(
        _ logits: UnsafePointer<Float>, targets: UnsafePointer<Int>, weights: UnsafePointer<Float>,
        losses: UnsafeMutablePointer<Float>, logSum: UnsafeMutablePointer<Float>,
        expShifted: UnsafeMutablePointer<Float>?, rows: Int, classes c: Int, labelSmoothing eps: Float
    ) {
        let logitsBase = UncheckedSendable(logits), targetsBase = UncheckedSendable(targets)
        let weightsBase = UncheckedSendable(weights), lossesBase = UncheckedSendable(losses)
        let logSumBase = UncheckedSendable(logSum), expBase = UncheckedSendable(expShifted)
        Parallelism.forEachChunk(count: rows, costPerItem: c * 8) { range in
            let scratch = expBase.value == nil ? UnsafeMutablePointer<Float>.allocate(capacity: c) : nil
            defer { scratch?.deallocate() }
            for i in range {
                let expRow = expBase.value.map { $0 + i * c }
                guard weightsBase.value[i] != 0 else {
                    lossesBase.value[i] = 0
                    logSumBase.value[i] = 0
                    expRow?.update(repeating: 0, count: c)
                    continue
                }
                let row = logitsBase.value + i * c
                let peak = ReductionKernels.reduceContiguous(row, count: c, .maximum)
                // e^(x - peak) by the C kernel (the CPU's vector width; Swift's code runs at
                // baseline x86-64's), into the kept buffer or a scratch row, then summed.
                let exps = expRow ?? scratch!
                ActivationKernel.shiftedExp(peak).apply(row, exps, count: c)
                let expTotal = ReductionKernels.reduceContiguous(UnsafePointer(exps), count: c, .sum)
                let logitTotal = eps != 0 ? ReductionKernels.reduceContiguous(row, count: c, .sum) : 0
                let shiftedLogSum = _logf(expTotal)
                logSumBase.value[i] = shiftedLogSum
                let targetMargin = peak - row[targetsBase.value[i]]
                lossesBase.value[i] = eps == 0
                    ? shiftedLogSum + targetMargin
                    : shiftedLogSum + (1 - eps) * targetMargin + eps * (peak - logitTotal / Float(c))
            }
        }
    }

    /// dlogits_ic = r_i (softmax(x_i)_c - eps/C - (1 - eps) [c == t_i]), with
    /// softmax(x_i)_c = e^(x_ic - m_i) e^(-s_i) from the forward pass's expShifted, and
    /// r_i = rowScale[i] (the weight of the row times the output gradient, divided by the
    /// total weight for a mean). Rows with r_i = 0 get 0.
    static func crossEntropyBackward(
        expShifted: UnsafePointer<Float>, targets: UnsafePointer<Int>, logSum: UnsafePointer<Float>,
        rowScale: UnsafePointer<Float>, dlogits: UnsafeMutablePointer<Float>,
        rows: Int, classes c: Int, labelSmoothing eps: Float
    ) {
        let expBase = UncheckedSendable(expShifted), targetsBase = UncheckedSendable(targets)
        let logSumBase = UncheckedSendable(logSum), scaleBase = UncheckedSendable(rowScale)
        let dlogitsBase = UncheckedSendable(dlogits)
        Parallelism.forEachChunk(count: rows, costPerItem: c * 6) { range in
            for i in range {
                let scale = scaleBase.value[i]
                let out = dlogitsBase.value + i * c
                guard scale != 0 else {
                    out.update(repeating: 0, count: c)
                    continue
                }
                let inverseSum = FloatVector(repeating: Float(_exp(-Double(logSumBase.value[i]))))
                let r = FloatVector(repeating: scale), uniform = FloatVector(repeating: eps / Float(c))
                ElementwiseKernels.map(expBase.value + i * c, out, count: c) { e in
                    r * (e * inverseSum - uniform)
                }
                out[targetsBase.value[i]] -= scale * (1 - eps)
            }
        }
    }

    // MARK: Safe entry points (for Tensor+Loss.swift)

    /// The forward pass over logits (N, C): each row's loss and log-sum s_i (N), and, when
    /// `keepingExpShifted`, e^(x_ic - m_i) (N, C) for the backward pass (else empty).
    /// targets and weights hold N values each.
    static func crossEntropyForward(
        logits: Tensor, targets: [Int], weights: [Float], classes c: Int, labelSmoothing eps: Float,
        keepingExpShifted: Bool
    ) -> (losses: [Float], logSum: [Float], expShifted: [Float]) {
        let rows = targets.count
        var losses = [Float](repeating: 0, count: rows)
        var logSum = [Float](repeating: 0, count: rows)
        // Every row of expShifted is written (zeros for weight-0 rows), so no zero fill first.
        let expCount = keepingExpShifted && rows > 0 ? logits.count : 0
        var expShifted = [Float](unsafeUninitializedCapacity: expCount) { _, initialized in initialized = expCount }
        if rows > 0 {
            logits.withUnsafeBufferPointer { xp in
                targets.withUnsafeBufferPointer { tp in
                    weights.withUnsafeBufferPointer { wp in
                        losses.withUnsafeMutableBufferPointer { lp in
                            logSum.withUnsafeMutableBufferPointer { sp in
                                expShifted.withUnsafeMutableBufferPointer { ep in
                                    crossEntropyForward(
                                        xp.baseAddress!, targets: tp.baseAddress!, weights: wp.baseAddress!,
                                        losses: lp.baseAddress!, logSum: sp.baseAddress!,
                                        expShifted: keepingExpShifted ? ep.baseAddress : nil,
                                        rows: rows, classes: c, labelSmoothing: eps)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (losses, logSum, expShifted)
    }

    /// dlogits of `shape` (N rows of C) from the forward pass's expShifted and logSum and
    /// each row's scale r_i (see the pointer version above).
    static func crossEntropyBackward(
        expShifted: [Float], targets: [Int], logSum: [Float], rowScale: [Float], shape: [Int],
        classes c: Int, labelSmoothing eps: Float
    ) -> Tensor {
        let rows = targets.count
        return Tensor(shape: shape) { out in
            guard rows > 0 else { return }
            expShifted.withUnsafeBufferPointer { ep in
                targets.withUnsafeBufferPointer { tp in
                    logSum.withUnsafeBufferPointer { sp in
                        rowScale.withUnsafeBufferPointer { rp in
                            crossEntropyBackward(
                                expShifted: ep.baseAddress!, targets: tp.baseAddress!, logSum: sp.baseAddress!,
                                rowScale: rp.baseAddress!, dlogits: out.baseAddress!,
                                rows: rows, classes: c, labelSmoothing: eps)
                        }
                    }
                }
            }
        }
    }

    /// The per-row losses of logits (N, C) by the naive reference.
    static func crossEntropyForwardNaive(logits: Tensor, targets: [Int], classes c: Int, labelSmoothing eps: Float) -> [Float] {
        let rows = targets.count
        var losses = [Float](repeating: 0, count: rows)
        logits.withUnsafeBufferPointer { xp in
            targets.withUnsafeBufferPointer { tp in
                losses.withUnsafeMutableBufferPointer { lp in
                    guard rows > 0 else { return }
                    crossEntropyForwardNaive(
                        xp.baseAddress!, targets: tp.baseAddress!, losses: lp.baseAddress!,
                        rows: rows, classes: c, labelSmoothing: eps)
                }
            }
        }
        return losses
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
