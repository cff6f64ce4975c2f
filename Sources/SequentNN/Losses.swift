import SequentTensor

/// Loss functions with PyTorch's semantics (`F.cross_entropy`, `F.mse_loss`, `F.l1_loss`,
/// `F.ctc_loss`).
///
/// Every loss throws a `SequentError` for inputs that do not fit (targets out of range,
/// shapes that differ): targets and masks come from data, not from the program.
public enum Loss {
    /// How a loss combines the losses of its elements: `.mean` (default), `.sum`, `.none`.
    public typealias Reduction = LossReduction

    /// Cross-entropy between class logits and integer targets; log-softmax and negative
    /// log-likelihood are one fused operation (`Tensor.crossEntropy`):
    ///
    ///     q_ic = (1 - eps) [c == t_i] + eps / C
    ///     l_i  = -sum_c q_ic log softmax(x_i)_c
    ///     mean: sum_i w_i l_i / sum_i w_i,   sum: sum_i w_i l_i,   none: w_i l_i
    ///
    /// with w_i = mask_i (1 without a mask) and w_i = 0 where t_i == ignoreIndex. The mean
    /// is over the positions that count, as PyTorch's `ignore_index`; when none counts the
    /// loss is 0 with a zero gradient (PyTorch gives NaN).
    ///
    /// - Parameters:
    ///   - logits: (N, C) or (B, T, C): the classes are the last axis.
    ///   - targets: one class index per row of logits, row-major ((N) or (B, T) flattened).
    ///   - ignoreIndex: a target value marking positions to skip (PyTorch's default is -100).
    ///   - mask: shape of logits without its last axis, 1 where a position counts and 0
    ///     where it does not (padding); other non-negative values weight the positions.
    ///     Not differentiated.
    ///   - labelSmoothing: eps in [0, 1].
    ///   - reduction: `.mean`, `.sum`, or `.none` (then the result has the mask's shape).
    /// - Throws: `SequentError` for a target outside 0..<C, or counts and shapes that do not fit.
    public static func crossEntropy(
        logits: Tensor, targets: [Int], ignoreIndex: Int? = nil, mask: Tensor? = nil,
        labelSmoothing: Float = 0, reduction: Reduction = .mean
    ) throws(SequentError) -> Tensor {
        if let mask, mask.shape != Array(logits.shape.dropLast()) {
            throw .shapeMismatch("crossEntropy", "mask \(mask.shape) does not match logits \(logits.shape) without the class axis")
        }
        return try Tensor.crossEntropy(
            logits: logits, targets: targets, ignoreIndex: ignoreIndex, weights: mask?.scalars,
            labelSmoothing: labelSmoothing, reduction: reduction)
    }

    /// The connectionist temporal classification loss of unsegmented label sequences, as
    /// PyTorch's `F.ctc_loss`: `Tensor.ctcLoss`, where the definition, shapes ((T, B, C)
    /// log-probabilities, one label sequence per batch entry) and errors are given.
    public static func ctc(
        logProbabilities: Tensor, targets: [[Int]], inputLengths: [Int]? = nil, blank: Int = 0,
        reduction: Reduction = .mean, zeroInfinity: Bool = false
    ) throws(SequentError) -> Tensor {
        try Tensor.ctcLoss(logProbabilities: logProbabilities, targets: targets, inputLengths: inputLengths,
                           blank: blank, reduction: reduction, zeroInfinity: zeroInfinity)
    }

    /// The mean squared error, l_i = (prediction_i - target_i)^2, reduced by `reduction`
    /// (the mean is over all elements).
    ///
    /// - Throws: `SequentError` when the shapes differ.
    public static func meanSquaredError(
        _ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean
    ) throws(SequentError) -> Tensor {
        try reduced((prediction - checkedTarget(target, for: prediction, op: "meanSquaredError")).pow(2), reduction)
    }

    /// The mean absolute error, l_i = |prediction_i - target_i| (gradient 0 where they are
    /// equal, as PyTorch), reduced by `reduction`.
    ///
    /// - Throws: `SequentError` when the shapes differ.
    public static func meanAbsoluteError(
        _ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean
    ) throws(SequentError) -> Tensor {
        try reduced((prediction - checkedTarget(target, for: prediction, op: "meanAbsoluteError")).abs(), reduction)
    }

    private static func checkedTarget(_ target: Tensor, for prediction: Tensor, op: String) throws(SequentError) -> Tensor {
        guard target.shape == prediction.shape else {
            throw .shapeMismatch(op, "prediction \(prediction.shape) and target \(target.shape) differ")
        }
        return target
    }

    private static func reduced(_ losses: Tensor, _ reduction: Reduction) -> Tensor {
        switch reduction {
        case .none: return losses
        case .sum: return losses.sum()
        case .mean: return losses.mean()
        }
    }
}
