import SequentNN
import SequentTensor

/// Scales all gradients together so that their global L2 norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_`, and returns the norm they had before.
///
///     norm = sqrt(sum over parameters of sum(grad^2))
///     grad = grad * min(1, maxNorm / (norm + 1e-6))      for every gradient
///
/// Parameters without a gradient are ignored; with none at all the norm is 0. The sum of
/// squares is accumulated in Double.
///
/// A NaN or infinite norm throws instead of spreading NaN into every gradient (PyTorch's
/// `error_if_nonfinite=True`); the gradients are then left unchanged, so the caller can skip
/// the step (as a gradient scaler does) or stop.
///
/// - Parameters:
///   - parameters: the parameters whose `grad` is clipped in place.
///   - maxNorm: the largest norm allowed, finite and >= 0.
/// - Returns: the total norm before clipping.
/// - Throws: `SequentError` for an invalid `maxNorm` or a non-finite norm (naming the first
///   parameter, by position, whose gradient is not finite).
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) throws -> Float {
    guard maxNorm.isFinite, maxNorm >= 0 else {
        throw SequentError.invalidArgument("clipGradientNorm", "maxNorm must be finite and >= 0, got \(maxNorm)")
    }
    var sumOfSquares = 0.0
    for parameter in parameters {
        if let gradient = parameter.grad { sumOfSquares += OptimizerKernels.sumOfSquares(gradient) }
    }
    let norm = Float(sumOfSquares.squareRoot())
    guard norm.isFinite else {
        let culprit = parameters.firstIndex { $0.grad?.hasNonFinite ?? false }
        let detail = culprit.map { "the gradient of parameter #\($0) has NaN or infinite values" } ?? "the norm overflows Float"
        throw SequentError(.invalidValue, "clipGradientNorm: total gradient norm is \(norm): \(detail); gradients left unchanged")
    }
    let clipCoefficient = maxNorm / (norm + 1e-6)
    if clipCoefficient < 1 {
        for parameter in parameters {
            guard var gradient = parameter.grad else { continue }
            parameter.grad = nil  // drop the tape's reference so the scaling happens in place
            OptimizerKernels.scale(&gradient, by: clipCoefficient)
            parameter.grad = gradient
        }
    }
    return norm
}

/// Clamps every gradient element into [-maxValue, maxValue], as
/// `torch.nn.utils.clip_grad_value_`; NaN elements stay NaN.
///
///     grad = min(max(grad, -maxValue), maxValue)
///
/// - Parameters:
///   - parameters: the parameters whose `grad` is clamped in place; nil gradients are skipped.
///   - maxValue: the largest magnitude allowed, finite and >= 0.
/// - Throws: `SequentError` for an invalid `maxValue`.
public func clipGradientValue(_ parameters: [Parameter], maxValue: Float) throws {
    guard maxValue.isFinite, maxValue >= 0 else {
        throw SequentError.invalidArgument("clipGradientValue", "maxValue must be finite and >= 0, got \(maxValue)")
    }
    for parameter in parameters {
        guard var gradient = parameter.grad else { continue }
        parameter.grad = nil  // drop the tape's reference so the clamping happens in place
        OptimizerKernels.clamp(&gradient, limit: maxValue)
        parameter.grad = gradient
    }
}
