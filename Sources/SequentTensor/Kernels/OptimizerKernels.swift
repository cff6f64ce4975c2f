// Fused optimizer updates: one pass over a parameter and its gradient and state per step,
// 16 lanes at a time, no temporary buffers. Every loop has a scalar reference below it,
// which the tests run on odd lengths to check the tails.
// Shapes: the parameter values, the gradient and every state buffer hold `count` scalars.
//
// Arithmetic follows PyTorch's single-tensor CPU path (torch/optim/sgd.py, adam.py) operation
// by operation, so trajectories agree to float rounding: the step-dependent scalars (bias
// corrections, step size) are computed by the caller in Double and passed in as Float.

extension Tensor {
    /// Writes the scalars in place as an array (copying first if the buffer is shared):
    /// `Parameter.update`, which optimizers and initialisers use. Records nothing on the
    /// tape, so never use it inside a differentiable computation; `body` must keep the
    /// count of scalars.
    package mutating func updateScalars<R>(_ body: (inout [Float]) throws -> R) rethrows -> R {
        let count = scalars.count
        defer {
            precondition(scalars.count == count, "Tensor.updateScalars: the count of scalars changed from \(count) to \(scalars.count)")
        }
        return try body(&scalars)
    }
}

/// The per-element updates of SGD and Adam, and the gradient-clipping helpers.
///
/// The public entry points take safe `Tensor`s for gradients and state; the parameter
/// values come as the array that `Parameter.update` hands out (`Tensor.updateScalars`),
/// written in place.
public enum OptimizerKernels {
    // MARK: SGD

    /// Hyperparameters of one SGD step (see `SGD` in SequentTrain for the equations).
    public struct SGDConfiguration: Sendable {
        /// lr: the step size.
        public var learningRate: Float
        /// The factor of the old buffer; 0 turns the buffer off.
        public var momentum: Float
        /// The share of the new gradient held back from the buffer.
        public var dampening: Float
        /// Whether to step along g + momentum * b instead of b.
        public var nesterov: Bool
        /// The L2 coefficient added to the gradient.
        public var weightDecay: Float

        /// Bundles the hyperparameters of one step.
        public init(learningRate: Float, momentum: Float, dampening: Float, nesterov: Bool, weightDecay: Float) {
            self.learningRate = learningRate
            self.momentum = momentum
            self.dampening = dampening
            self.nesterov = nesterov
            self.weightDecay = weightDecay
        }
    }

    /// One SGD step on `values` in place:
    ///
    ///     g = grad + weightDecay * p
    ///     b = g                                   (first step with momentum: torch clone(grad))
    ///     b = momentum * b + (1 - dampening) * g  (later steps)
    ///     d = nesterov ? g + momentum * b : b     (d = g without momentum)
    ///     p = p - lr * d
    ///
    /// - Parameters:
    ///   - values: the parameter's scalars (from `Parameter.update`).
    ///   - gradient: dLoss/dp, `values.count` scalars.
    ///   - momentumBuffer: `b`; nil before the first step with momentum, when it is created
    ///     with the gradient's shape. Left untouched when `momentum == 0`.
    public static func sgdStep(
        values: inout UnsafeMutableBufferPointer<Float>, gradient: Tensor, momentumBuffer: inout Tensor?,
        configuration c: SGDConfiguration
    ) {
        precondition(gradient.count == values.count, "OptimizerKernels.sgdStep: gradient has \(gradient.count) scalars, parameter \(values.count)")
        let count = values.count
        guard count > 0 else { return }
        let p = values.baseAddress!
        gradient.withUnsafeBufferPointer { gradientBuffer in
            let g = gradientBuffer.baseAddress!
            if c.momentum == 0 {
                sgdPlain(p, g, count: count, c)
                return
            }
            let isFirstStep = momentumBuffer == nil
            if isFirstStep { momentumBuffer = Tensor.zeros(gradient.shape) }
            precondition(momentumBuffer!.count == count, "OptimizerKernels.sgdStep: momentum buffer has \(momentumBuffer!.count) scalars, parameter \(count)")
            momentumBuffer!.withUnsafeMutableBufferPointer { bufferPointer in
                sgdMomentum(p, g, bufferPointer.baseAddress!, count: count, isFirstStep: isFirstStep, c)
            }
        }
    }

    /// One SGD step on the parameter's scalars in place (see the buffer version above).
    public static func sgdStep(
        values: inout [Float], gradient: Tensor, momentumBuffer: inout Tensor?, configuration c: SGDConfiguration
    ) {
        values.withUnsafeMutableBufferPointer { buffer in
            sgdStep(values: &buffer, gradient: gradient, momentumBuffer: &momentumBuffer, configuration: c)
        }
    }

    static func sgdPlain(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, count: Int, _ c: SGDConfiguration) {
        let decay = FloatVector(repeating: c.weightDecay), negativeRate = FloatVector(repeating: -c.learningRate)
        let pointers = UncheckedSendable((p, g))
        Parallelism.forEachChunk(count: count, costPerItem: 4) { range in
            let (p, g) = pointers.value
            var i = range.lowerBound
            while i < range.upperBound {
                let r = range.upperBound - i
                let pv = ElementwiseKernels.load(p, i, r)
                var gv = ElementwiseKernels.load(g, i, r)
                if c.weightDecay != 0 { gv = gv + decay * pv }
                ElementwiseKernels.store(pv + negativeRate * gv, p, i, r)
                i += 16
            }
        }
    }

    static func sgdMomentum(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ b: UnsafeMutablePointer<Float>,
        count: Int, isFirstStep: Bool, _ c: SGDConfiguration
    ) {
        let decay = FloatVector(repeating: c.weightDecay), negativeRate = FloatVector(repeating: -c.learningRate)
        let momentum = FloatVector(repeating: c.momentum), keep = FloatVector(repeating: 1 - c.dampening)
        let pointers = UncheckedSendable((p, g, b))
        Parallelism.forEachChunk(count: count, costPerItem: 8) { range in
            let (p, g, b) = pointers.value
            var i = range.lowerBound
            while i < range.upperBound {
                let r = range.upperBound - i
                let pv = ElementwiseKernels.load(p, i, r)
                var gv = ElementwiseKernels.load(g, i, r)
                if c.weightDecay != 0 { gv = gv + decay * pv }
                let bv = isFirstStep ? gv : momentum * ElementwiseKernels.load(b, i, r) + keep * gv
                ElementwiseKernels.store(bv, b, i, r)
                let direction = c.nesterov ? gv + momentum * bv : bv
                ElementwiseKernels.store(pv + negativeRate * direction, p, i, r)
                i += 16
            }
        }
    }

    /// The scalar reference of `sgdStep`, one element at a time.
    static func sgdStepReference(
        values: inout [Float], gradient: [Float], momentumBuffer: inout [Float], isFirstStep: Bool,
        configuration c: SGDConfiguration
    ) {
        for i in values.indices {
            var g = gradient[i]
            if c.weightDecay != 0 { g = g + c.weightDecay * values[i] }
            if c.momentum != 0 {
                momentumBuffer[i] = isFirstStep ? g : c.momentum * momentumBuffer[i] + (1 - c.dampening) * g
                g = c.nesterov ? g + c.momentum * momentumBuffer[i] : momentumBuffer[i]
            }
            values[i] = values[i] + -c.learningRate * g
        }
    }

    // MARK: Adam / AdamW

    /// The scalars of one Adam step, the step-dependent ones already computed (in Double).
    public struct AdamConfiguration: Sendable {
        /// 1 - beta1: the weight of the new gradient in the first moment.
        public var firstMomentWeight: Float
        /// beta2: the decay of the second moment.
        public var beta2: Float
        /// lr / (1 - beta1^t).
        public var stepSize: Float
        /// sqrt(1 - beta2^t).
        public var biasCorrection2SquareRoot: Float
        /// Added to the bias-corrected sqrt(v).
        public var epsilon: Float
        /// L2 penalty added to the gradient (Adam); 0 for AdamW.
        public var coupledWeightDecay: Float
        /// Factor 1 - lr * weightDecay applied to the parameter first (AdamW); 1 for Adam.
        public var decoupledDecayFactor: Float

        /// Bundles the scalars of one step.
        public init(
            firstMomentWeight: Float, beta2: Float, stepSize: Float, biasCorrection2SquareRoot: Float,
            epsilon: Float, coupledWeightDecay: Float, decoupledDecayFactor: Float
        ) {
            self.firstMomentWeight = firstMomentWeight
            self.beta2 = beta2
            self.stepSize = stepSize
            self.biasCorrection2SquareRoot = biasCorrection2SquareRoot
            self.epsilon = epsilon
            self.coupledWeightDecay = coupledWeightDecay
            self.decoupledDecayFactor = decoupledDecayFactor
        }
    }

    /// One Adam (or AdamW) step on `values` in place, as PyTorch computes it:
    ///
    ///     p = p * decoupledDecayFactor                       (AdamW)
    ///     g = grad + coupledWeightDecay * p                  (Adam with L2)
    ///     m = m + (1 - beta1) * (g - m)                      (torch lerp_)
    ///     v = beta2 * v + (1 - beta2) * g * g
    ///     p = p + (-stepSize * m) / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)   (torch addcdiv_)
    ///
    /// - Parameters:
    ///   - values: the parameter's scalars (from `Parameter.update`).
    ///   - gradient: dLoss/dp, `values.count` scalars.
    ///   - firstMoment: `m`, `values.count` scalars.
    ///   - secondMoment: `v`, `values.count` scalars.
    public static func adamStep(
        values: inout UnsafeMutableBufferPointer<Float>, gradient: Tensor,
        firstMoment: inout Tensor, secondMoment: inout Tensor, configuration c: AdamConfiguration
    ) {
        let count = values.count
        precondition(gradient.count == count && firstMoment.count == count && secondMoment.count == count,
                     "OptimizerKernels.adamStep: parameter \(count), gradient \(gradient.count), moments \(firstMoment.count) and \(secondMoment.count) scalars")
        guard count > 0 else { return }
        let p = values.baseAddress!
        gradient.withUnsafeBufferPointer { gradientBuffer in
            firstMoment.withUnsafeMutableBufferPointer { firstBuffer in
                secondMoment.withUnsafeMutableBufferPointer { secondBuffer in
                    adam(p, gradientBuffer.baseAddress!, firstBuffer.baseAddress!, secondBuffer.baseAddress!, count: count, c)
                }
            }
        }
    }

    /// One Adam (or AdamW) step on the parameter's scalars in place (see the buffer version
    /// above).
    public static func adamStep(
        values: inout [Float], gradient: Tensor, firstMoment: inout Tensor, secondMoment: inout Tensor,
        configuration c: AdamConfiguration
    ) {
        values.withUnsafeMutableBufferPointer { buffer in
            adamStep(values: &buffer, gradient: gradient, firstMoment: &firstMoment, secondMoment: &secondMoment,
                     configuration: c)
        }
    }

    static func adam(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
        _ v: UnsafeMutablePointer<Float>, count: Int, _ c: AdamConfiguration
    ) {
        let decayFactor = FloatVector(repeating: c.decoupledDecayFactor), decay = FloatVector(repeating: c.coupledWeightDecay)
        let firstWeight = FloatVector(repeating: c.firstMomentWeight)
        let beta2 = FloatVector(repeating: c.beta2), secondWeight = FloatVector(repeating: 1 - c.beta2)
        let correction2 = FloatVector(repeating: c.biasCorrection2SquareRoot), epsilon = FloatVector(repeating: c.epsilon)
        let negativeStep = FloatVector(repeating: -c.stepSize)
        let pointers = UncheckedSendable((p, g, m, v))
        Parallelism.forEachChunk(count: count, costPerItem: 16) { range in
            let (p, g, m, v) = pointers.value
            var i = range.lowerBound
            while i < range.upperBound {
                let r = range.upperBound - i
                var pv = ElementwiseKernels.load(p, i, r)
                if c.decoupledDecayFactor != 1 { pv = pv * decayFactor }
                var gv = ElementwiseKernels.load(g, i, r)
                if c.coupledWeightDecay != 0 { gv = gv + decay * pv }
                var mv = ElementwiseKernels.load(m, i, r)
                mv = mv + firstWeight * (gv - mv)
                let vv = beta2 * ElementwiseKernels.load(v, i, r) + secondWeight * gv * gv
                let denominator = vv.squareRoot() / correction2 + epsilon
                ElementwiseKernels.store(mv, m, i, r)
                ElementwiseKernels.store(vv, v, i, r)
                ElementwiseKernels.store(pv + negativeStep * mv / denominator, p, i, r)
                i += 16
            }
        }
    }

    /// The scalar reference of `adamStep`, one element at a time.
    static func adamStepReference(
        values: inout [Float], gradient: [Float], firstMoment: inout [Float], secondMoment: inout [Float],
        configuration c: AdamConfiguration
    ) {
        for i in values.indices {
            var p = values[i]
            if c.decoupledDecayFactor != 1 { p = p * c.decoupledDecayFactor }
            var g = gradient[i]
            if c.coupledWeightDecay != 0 { g = g + c.coupledWeightDecay * p }
            firstMoment[i] = firstMoment[i] + c.firstMomentWeight * (g - firstMoment[i])
            secondMoment[i] = c.beta2 * secondMoment[i] + (1 - c.beta2) * g * g
            let denominator = secondMoment[i].squareRoot() / c.biasCorrection2SquareRoot + c.epsilon
            values[i] = p + -c.stepSize * firstMoment[i] / denominator
        }
    }

    // MARK: Gradient clipping

    /// The sum of squares of the scalars of `tensor`, accumulated in Double.
    public static func sumOfSquares(_ tensor: Tensor) -> Double {
        tensor.withUnsafeBufferPointer { buffer in
            guard let x = buffer.baseAddress else { return 0 }
            var accumulator = SIMD16<Double>()
            var i = 0
            while i < buffer.count {
                let lanes = SIMD16<Double>(ElementwiseKernels.load(x, i, buffer.count - i))
                accumulator += lanes * lanes
                i += 16
            }
            return accumulator.sum()
        }
    }

    /// The scalar reference of `sumOfSquares`.
    static func sumOfSquaresReference(_ values: [Float]) -> Double {
        values.reduce(0) { $0 + Double($1) * Double($1) }
    }

    /// Multiplies every scalar of `tensor` by `factor` in place.
    public static func scale(_ tensor: inout Tensor, by factor: Float) {
        tensor.withUnsafeMutableBufferPointer { buffer in
            guard let x = buffer.baseAddress else { return }
            let f = FloatVector(repeating: factor)
            ElementwiseKernels.map(x, x, count: buffer.count) { $0 * f }
        }
    }

    /// Clamps every scalar of `tensor` into [-limit, limit] in place; NaN stays NaN (torch.clamp).
    public static func clamp(_ tensor: inout Tensor, limit: Float) {
        tensor.withUnsafeMutableBufferPointer { buffer in
            guard let x = buffer.baseAddress else { return }
            let upper = FloatVector(repeating: limit), lower = FloatVector(repeating: -limit)
            ElementwiseKernels.map(x, x, count: buffer.count) {
                $0.replacing(with: upper, where: $0 .> upper).replacing(with: lower, where: $0 .< lower)
            }
        }
    }
}
