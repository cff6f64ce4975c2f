// Cross-entropy as one fused differentiable operation: log-softmax and the negative
// log-likelihood in one pass over the logits, and a backward pass softmax - onehot.
// The user-facing losses (with masks and the MSE/MAE family) are in SequentNN's Losses.swift.

/// How a loss combines the losses of its elements, as PyTorch's `reduction`.
public enum LossReduction: String, Sendable, CaseIterable {
    /// No reduction: one loss per element (per row for cross-entropy).
    case none
    /// The (weighted) mean over the elements that count.
    case mean
    /// The sum over the elements.
    case sum
}

extension Tensor {
    /// Cross-entropy between class logits and integer targets, with optional label
    /// smoothing eps and per-row weights:
    ///
    ///     q_ic   = (1 - eps) [c == t_i] + eps / C
    ///     l_i    = -sum_c q_ic log softmax(x_i)_c
    ///            = logsumexp(x_i) - (1 - eps) x_i,t_i - eps/C sum_c x_ic
    ///     mean:  sum_i w_i l_i / sum_i w_i      (0 when sum_i w_i = 0)
    ///     sum:   sum_i w_i l_i
    ///     none:  w_i l_i, shape (...)
    ///
    /// w_i is `weights[i]` (1 without weights) and 0 where t_i == ignoreIndex, so the mean
    /// runs over the targets not ignored, as PyTorch's `F.cross_entropy(..., ignore_index=)`.
    /// When every target is ignored the mean is defined as 0 with a zero gradient (PyTorch
    /// returns NaN). Gradient: dl_i/dx_ic = softmax(x_i)_c - q_ic.
    ///
    /// The classes are the last axis: logits (N, C) or (B, T, C), i.e. (..., C) with one
    /// target per row (PyTorch's 3-d form puts the classes second; use its (N, C) form on
    /// flattened logits to compare).
    ///
    /// - Parameters:
    ///   - logits: unnormalized scores (..., C); C >= 1.
    ///   - targets: one class index per row, row-major over the leading dimensions.
    ///   - ignoreIndex: a target value that marks a row to skip (PyTorch uses -100).
    ///   - weights: one non-negative weight per row (a 0/1 mask or soft weights); not
    ///     differentiated.
    ///   - labelSmoothing: eps in [0, 1].
    ///   - reduction: mean, sum or none.
    /// - Throws: `SequentError` when a target is outside 0..<C, or counts and shapes do not fit.
    public static func crossEntropy(
        logits: Tensor, targets: [Int], ignoreIndex: Int? = nil, weights: [Float]? = nil,
        labelSmoothing: Float = 0, reduction: LossReduction = .mean
    ) throws(SequentError) -> Tensor {
        let op = "crossEntropy"
        guard logits.rank >= 1, let c = logits.shape.last, c >= 1 else {
            throw .shapeMismatch(op, "logits must be (..., C) with at least one class, got \(logits.shape)")
        }
        let rowShape = Array(logits.shape.dropLast())
        let rows = logits.count / c
        guard targets.count == rows else {
            throw .shapeMismatch(op, "logits \(logits.shape) need \(rows) targets (one per row), got \(targets.count)")
        }
        if let weights, weights.count != rows {
            throw .shapeMismatch(op, "logits \(logits.shape) need \(rows) weights (one per row), got \(weights.count)")
        }
        if let bad = weights?.first(where: { !($0 >= 0) || !$0.isFinite }) {
            throw .invalidArgument(op, "weights must be finite and non-negative, got \(bad)")
        }
        guard labelSmoothing >= 0 && labelSmoothing <= 1 else {
            throw .invalidArgument(op, "label smoothing must be in [0, 1], got \(labelSmoothing)")
        }
        // The effective weight of each row; ignored rows point at class 0, never read.
        var rowWeights = weights ?? [Float](repeating: 1, count: rows)
        var classes = targets
        for i in 0..<rows where targets[i] == ignoreIndex {
            rowWeights[i] = 0
            classes[i] = 0
        }
        if let row = classes.firstIndex(where: { $0 < 0 || $0 >= c }) {
            throw .invalidArgument(op, "target \(targets[row]) at row \(row) is out of range 0..<\(c)\(ignoreIndex.map { " (ignore index \($0))" } ?? "")")
        }

        // e^(x - max) for the backward pass, only when one will follow.
        let willRecord = GradientMode.isRecording && logits.requiresGrad
        let (losses, logSum, expShifted) = LossKernels.crossEntropyForward(
            logits: logits, targets: classes, weights: rowWeights, classes: c, labelSmoothing: labelSmoothing,
            keepingExpShifted: willRecord)
        // The total weight, summed in Double; the mean divides by it.
        let totalWeight = rowWeights.reduce(0.0) { $0 + Double($1) }
        let result: Tensor
        switch reduction {
        case .none:
            result = Tensor(shape: rowShape, scalars: zip(losses, rowWeights).map { $0 * $1 })
        case .sum, .mean:
            var total = 0.0
            for i in 0..<rows where rowWeights[i] != 0 { total += Double(rowWeights[i]) * Double(losses[i]) }
            if reduction == .mean { total = totalWeight > 0 ? total / totalWeight : 0 }
            result = Tensor(Float(total))
        }

        // Saved for the backward pass: e^(x - max), the log-sum of every row, the targets and
        // the row weights.
        let savedExpShifted = expShifted, savedLogSum = logSum, savedTargets = classes, savedWeights = rowWeights
        let logitsShape = logits.shape
        return recorded(result, operation: op, inputs: [logits]) { g, _ in
            // dx_ic = r_i (softmax(x_i)_c - q_ic), r_i = dL/dl_i (in LossKernels).
            let rowScale: [Float]
            switch reduction {
            case .none:
                rowScale = zip(g.scalars, savedWeights).map { $0 * $1 }
            case .sum:
                rowScale = savedWeights.map { $0 * g.item }
            case .mean:
                let scale = totalWeight > 0 ? g.item / Float(totalWeight) : 0
                rowScale = savedWeights.map { $0 * scale }
            }
            let dlogits = LossKernels.crossEntropyBackward(
                expShifted: savedExpShifted, targets: savedTargets, logSum: savedLogSum, rowScale: rowScale,
                shape: logitsShape, classes: c, labelSmoothing: labelSmoothing)
            return [dlogits]
        }
    }

    /// The per-row cross-entropy losses -sum_c q_ic log softmax(x_i)_c by the textbook
    /// formula in Double, recording nothing: the algorithmic reference the tests compare the
    /// fused kernel against. Every target must be in 0..<C.
    public static func crossEntropyNaive(logits: Tensor, targets: [Int], labelSmoothing: Float) -> [Float] {
        let c = logits.shape.last ?? 1
        let rows = logits.count / c
        precondition(targets.count == rows && targets.allSatisfy { $0 >= 0 && $0 < c },
                     "crossEntropyNaive: need \(rows) targets in 0..<\(c)")
        return LossKernels.crossEntropyForwardNaive(logits: logits, targets: targets, classes: c, labelSmoothing: labelSmoothing)
    }
}
