// Layer normalization (Ba, Kiros & Hinton, 2016) as one fused differentiable operation,
// PyTorch's F.layer_norm. The forward pass keeps exactly what the backward pass needs,
// the mean and reciprocal standard deviation of every row, as llm.c's layernorm_forward.

extension Tensor {
    /// Layer normalization over the trailing dimensions `normalizedShape` of `x`:
    ///
    ///     mean   = 1/C sum_c x_c
    ///     var    = 1/C sum_c (x_c - mean)^2          (biased, as PyTorch)
    ///     y_c    = (x_c - mean) / sqrt(var + epsilon) * weight_c + bias_c
    ///
    /// x is (..., *normalizedShape), C is the product of `normalizedShape`, weight and bias
    /// have shape `normalizedShape`, y has the shape of x.
    ///
    /// - Parameters:
    ///   - x: the input; its last dimensions must equal `normalizedShape`.
    ///   - normalizedShape: the dimensions normalized together (often just `[C]`).
    ///   - weight: the gain; nil for 1 (no elementwise affine map).
    ///   - bias: the shift; nil for 0.
    ///   - epsilon: added to the variance before the square root.
    public static func layerNorm(
        _ x: Tensor, normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil, epsilon: Float = 1e-5
    ) -> Tensor {
        Tensor.require {
            try checkLayerNorm(inputShape: x.shape, normalizedShape: normalizedShape,
                               weightShape: weight?.shape, biasShape: bias?.shape, epsilon: epsilon)
        }
        // N = rows, C = normalized features.
        let c = normalizedShape.reduce(1, *)
        let rows = x.count / c
        let (y, mean, rstd) = NormalizationKernels.layerNormForward(
            x, weight: weight, bias: bias, rows: rows, c: c, epsilon: epsilon)
        // Saved for the backward pass: x (by reference), and the mean and rstd of every row.

        // inputs: x, then weight and bias where given.
        var inputs = [x]
        let weightIndex = weight.map { inputs.append($0); return inputs.count - 1 }
        let biasIndex = bias.map { inputs.append($0); return inputs.count - 1 }
        return recorded(y, operation: "layerNorm", inputs: inputs) { dy, needs in
            // norm = (x - mean) * rstd, dnorm = dy * weight;
            // dx = rstd * (dnorm - mean_c(dnorm) - norm * mean_c(dnorm * norm)),
            // dweight = sum_rows dy * norm, dbias = sum_rows dy (in NormalizationKernels).
            let needsWeight = weightIndex.map { needs[$0] } ?? false
            let needsBias = biasIndex.map { needs[$0] } ?? false
            let (dx, dweight, dbias) = NormalizationKernels.layerNormBackward(
                dy, x, weight: weight, mean: mean, rstd: rstd, normalizedShape: normalizedShape,
                needs: (needs[0], needsWeight, needsBias), rows: rows, c: c)
            var gradients: [Tensor?] = [dx]
            if weightIndex != nil { gradients.append(dweight) }
            if biasIndex != nil { gradients.append(dbias) }
            return gradients
        }
    }

    /// Checks that the shapes and epsilon of a layer normalization fit together.
    static func checkLayerNorm(
        inputShape: [Int], normalizedShape: [Int], weightShape: [Int]?, biasShape: [Int]?, epsilon: Float
    ) throws(SequentError) {
        if normalizedShape.isEmpty || normalizedShape.contains(where: { $0 <= 0 }) {
            throw .invalidArgument("layerNorm", "normalized shape must be non-empty and positive, got \(normalizedShape)")
        }
        if inputShape.count < normalizedShape.count || Array(inputShape.suffix(normalizedShape.count)) != normalizedShape {
            throw .shapeMismatch("layerNorm", "input \(inputShape) does not end with the normalized shape \(normalizedShape)")
        }
        for (name, shape) in [("weight", weightShape), ("bias", biasShape)] {
            if let shape, shape != normalizedShape {
                throw .shapeMismatch("layerNorm", "\(name) \(shape) does not match the normalized shape \(normalizedShape)")
            }
        }
        if !(epsilon >= 0) {
            throw .invalidArgument("layerNorm", "epsilon must be non-negative, got \(epsilon)")
        }
    }

    /// Layer normalization by the textbook formula in Double, recording nothing: the
    /// algorithmic reference the tests compare the fused kernel against.
    public static func layerNormNaive(
        _ x: Tensor, normalizedShape: [Int], weight: Tensor?, bias: Tensor?, epsilon: Float
    ) -> Tensor {
        let c = normalizedShape.reduce(1, *)
        return NormalizationKernels.layerNormForwardNaive(x, weight: weight, bias: bias, rows: x.count / c, c: c, epsilon: epsilon)
    }
}
