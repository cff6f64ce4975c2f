// Connectionist temporal classification (Graves et al., 2006) for one sequence: the
// forward (alpha) and backward (beta) recursions over the target with blanks between and
// around its labels, in log space, and the gradient of the negative log-likelihood.
//
// T = input length, C = classes, L = target length, S = 2L + 1 extended labels
// l'(s) = blank for even s, target[(s - 1) / 2] for odd s; y_t(c) = exp(lp[t][c]).
//
//   alpha_0(0) = lp[0][blank], alpha_0(1) = lp[0][l'(1)], alpha_0(s > 1) = -inf
//   alpha_t(s) = lp[t][l'(s)] + logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1),
//                                         alpha_{t-1}(s-2) if l'(s) != blank and l'(s) != l'(s-2))
//   nll        = -logsumexp(alpha_{T-1}(S-1), alpha_{T-1}(S-2))
//   beta_{T-1}(S-1) = lp[T-1][l'(S-1)], beta_{T-1}(S-2) = lp[T-1][l'(S-2)], others -inf
//   beta_t(s)  = lp[t][l'(s)] + logsumexp(beta_{t+1}(s), beta_{t+1}(s+1),
//                                         beta_{t+1}(s+2) if l'(s) != blank and l'(s) != l'(s+2))
//
// alpha_t(s) + beta_t(s) - lp[t][l'(s)] is the log-probability of all alignments through
// extended label s at time t, so
//
//   d nll / d lp[t][c] = -exp(logsumexp_{s: l'(s) = c}(alpha_t(s) + beta_t(s)) + nll - lp[t][c])
//
// for every t < T (zero for the steps past the input length). This is the gradient with
// respect to the log-probabilities as free inputs; PyTorch's ctc_loss returns that plus
// exp(lp), which is what the gradient becomes after a log-softmax's backward pass, so the
// two agree on the logits of a log-softmax (what the tests compare).
//
// The recursions run in Double: a sum over thousands of steps in Float log space drifts.
// The caller handles a target no alignment reaches (nll = +infinity, every alpha + beta
// -infinity, so the gradient computed here is zero).

import Foundation

enum CTCKernels {
    /// log(e^a + e^b), exact for -inf operands.
    @inline(__always)
    static func logAdd(_ a: Double, _ b: Double) -> Double {
        let (high, low) = a > b ? (a, b) : (b, a)
        guard low > -.infinity else { return high }
        return high + log1p(exp(low - high))
    }

    /// The negative log-likelihood of one sequence's target, and, when `gradient` is given,
    /// its gradient with respect to the log-probabilities of the first `inputLength` steps.
    ///
    /// - Parameters:
    ///   - logProbabilities: the sequence's row at t = 0; step t is `t * timeStride` further on.
    ///   - target: the L labels.
    ///   - gradient: laid out as `logProbabilities`; its rows for t < inputLength are
    ///     overwritten.
    ///   - alpha, beta: scratch of inputLength * (2L + 1) Doubles each.
    static func negativeLogLikelihood(
        logProbabilities lp: UnsafePointer<Float>, timeStride: Int, classes: Int, inputLength: Int,
        target: UnsafeBufferPointer<Int>, blank: Int,
        alpha: UnsafeMutablePointer<Double>, beta: UnsafeMutablePointer<Double>,
        gradient: UnsafeMutablePointer<Float>?
    ) -> Double {
        let (T, S) = (inputLength, 2 * target.count + 1)
        guard T > 0 else { return target.isEmpty ? 0 : .infinity }
        @inline(__always) func label(_ s: Int) -> Int { s % 2 == 0 ? blank : target[s / 2] }
        @inline(__always) func emission(_ t: Int, _ s: Int) -> Double { Double(lp[t * timeStride + label(s)]) }
        // Whether a path may skip the blank before s (from s - 2): not between equal labels.
        @inline(__always) func canSkip(to s: Int) -> Bool { s >= 2 && s % 2 == 1 && label(s) != label(s - 2) }

        alpha.update(repeating: -.infinity, count: T * S)
        alpha[0] = emission(0, 0)
        if S > 1 { alpha[1] = emission(0, 1) }
        for t in 1..<T {
            let previous = alpha + (t - 1) * S, current = alpha + t * S
            for s in 0..<S {
                var sum = previous[s]
                if s >= 1 { sum = logAdd(sum, previous[s - 1]) }
                if canSkip(to: s) { sum = logAdd(sum, previous[s - 2]) }
                current[s] = sum == -.infinity ? sum : sum + emission(t, s)
            }
        }
        let last = alpha + (T - 1) * S
        let nll = -(S > 1 ? logAdd(last[S - 1], last[S - 2]) : last[S - 1])
        guard let gradient else { return nll }

        beta.update(repeating: -.infinity, count: T * S)
        beta[(T - 1) * S + S - 1] = emission(T - 1, S - 1)
        if S > 1 { beta[(T - 1) * S + S - 2] = emission(T - 1, S - 2) }
        for t in stride(from: T - 2, through: 0, by: -1) {
            let next = beta + (t + 1) * S, current = beta + t * S
            for s in 0..<S {
                var sum = next[s]
                if s + 1 < S { sum = logAdd(sum, next[s + 1]) }
                if s + 2 < S && canSkip(to: s + 2) { sum = logAdd(sum, next[s + 2]) }
                current[s] = sum == -.infinity ? sum : sum + emission(t, s)
            }
        }
        // Per step, the log-sum of alpha + beta over the extended labels of each class.
        let classSums = UnsafeMutablePointer<Double>.allocate(capacity: classes)
        defer { classSums.deallocate() }
        for t in 0..<T {
            classSums.update(repeating: -.infinity, count: classes)
            for s in 0..<S {
                let c = label(s)
                classSums[c] = logAdd(classSums[c], alpha[t * S + s] + beta[t * S + s])
            }
            let row = gradient + t * timeStride, lpRow = lp + t * timeStride
            for c in 0..<classes {
                let g = classSums[c] == -.infinity ? 0 : -exp(classSums[c] + nll - Double(lpRow[c]))
                row[c] = Float(g)
            }
        }
        return nll
    }

    // MARK: Safe entry points (for Tensor+CTC.swift)

    /// Every sequence's negative log-likelihood for log-probabilities (T, B, C), and, when
    /// `keepingGradient`, its unscaled gradient (T, B, C) (else empty). With no steps (or no
    /// sequences) only an empty target has an alignment. A sequence with no alignment gets
    /// an infinite loss and NaN gradient rows, or zero rows when `zeroInfinity` (its loss is
    /// left infinite here: the caller zeroes it).
    static func negativeLogLikelihoods(
        logProbabilities: Tensor, targets: [[Int]], inputLengths lengths: [Int], blank: Int, zeroInfinity: Bool,
        keepingGradient willRecord: Bool
    ) -> (losses: [Double], gradient: [Float]) {
        let (T, B, C) = (logProbabilities.shape[0], logProbabilities.shape[1], logProbabilities.shape[2])
        var losses = targets.map { $0.isEmpty ? 0.0 : .infinity }
        var gradient = [Float](repeating: 0, count: willRecord ? logProbabilities.count : 0)
        if logProbabilities.count > 0 {
            logProbabilities.withUnsafeBufferPointer { lp in
            gradient.withUnsafeMutableBufferPointer { dlp in
            losses.withUnsafeMutableBufferPointer { nll in
                let shared = UncheckedSendable((lp.baseAddress!, willRecord ? dlp.baseAddress : nil, nll.baseAddress!))
                let scratch = T * (2 * (targets.map(\.count).max() ?? 0) + 1)
                Parallelism.forEachChunk(count: B, costPerItem: scratch * 16) { sequences in
                    let (lp, dlp, nll) = shared.value
                    let alpha = UnsafeMutablePointer<Double>.allocate(capacity: scratch)
                    let beta = UnsafeMutablePointer<Double>.allocate(capacity: scratch)
                    defer { alpha.deallocate(); beta.deallocate() }
                    for b in sequences {
                        nll[b] = targets[b].withUnsafeBufferPointer { target in
                            negativeLogLikelihood(
                                logProbabilities: lp + b * C, timeStride: B * C, classes: C, inputLength: lengths[b],
                                target: target, blank: blank, alpha: alpha, beta: beta, gradient: dlp.map { $0 + b * C })
                        }
                        if let dlp, !nll[b].isFinite {
                            // No alignment: the gradient of an infinite loss is undefined (NaN,
                            // as in PyTorch), or zero with the loss when zeroInfinity.
                            for t in 0..<lengths[b] {
                                (dlp + t * B * C + b * C).update(repeating: zeroInfinity ? 0 : .nan, count: C)
                            }
                        }
                    }
                }
            }}}
        }
        return (losses, gradient)
    }

    /// gradient (T, B, C) with every row of sequence b multiplied by sequenceScale[b].
    static func scaledGradient(_ gradient: [Float], sequenceScale: [Float], T: Int, B: Int, C: Int) -> [Float] {
        var scaled = gradient
        scaled.withUnsafeMutableBufferPointer { d in
            for t in 0..<T {
                for b in 0..<B {
                    let row = d.baseAddress! + (t * B + b) * C
                    for c in 0..<C { row[c] *= sequenceScale[b] }
                }
            }
        }
        return scaled
    }
}
