// Layer normalization over contiguous rows, after llm.c's layernorm_forward/_backward.
// N = rows (every leading dimension flattened), C = normalized features.
// x, y, dy, dx are (N, C); weight, bias, dweight, dbias are (C); mean, rstd are (N).
// A nil weight means 1, a nil bias means 0.

/// Layer normalization kernels: the vectorized forward and backward, and their naive
/// reference in Double for the tests.
enum NormalizationKernels {
    /// The weight and bias gradients are sums over rows: the rows are cut into
    /// ceil(N / `rowsPerBlock`) blocks, at most `maximumBlocks` (a function of N only); each
    /// block sums into its own partial row, and the partials are added in block order, so
    /// the result does not depend on the thread count.
    static let rowsPerBlock = 64
    static let maximumBlocks = 64

    /// The mean and the reciprocal standard deviation 1 / sqrt(var + epsilon) of one row,
    /// with the biased variance (divided by C) computed in a second pass for accuracy.
    @inline(__always)
    static func rowStatistics(_ x: UnsafePointer<Float>, c: Int, epsilon: Float) -> (mean: Float, rstd: Float) {
        let mean = ReductionKernels.reduceContiguous(x, count: c, .sum) / Float(c)
        let meanVector = FloatVector(repeating: mean)
        var acc0 = FloatVector(), acc1 = FloatVector()
        var i = 0
        while i + 32 <= c {
            let d0 = ReductionKernels.load(x + i, 16, fill: 0) - meanVector
            let d1 = ReductionKernels.load(x + i + 16, 16, fill: 0) - meanVector
            acc0 = acc0 + d0 * d0
            acc1 = acc1 + d1 * d1
            i += 32
        }
        while i < c {
            // The tail is padded with the mean, so the padding adds nothing.
            let d = ReductionKernels.load(x + i, c - i, fill: mean) - meanVector
            acc0 = acc0 + d * d
            i += 16
        }
        let variance = (acc0 + acc1).horizontalSum() / Float(c)
        return (mean, 1 / (variance + epsilon).squareRoot())
    }

    /// y = (x - mean) * rstd * weight + bias for every row; writes mean and rstd, which the
    /// backward pass needs.
    static func layerNormForward(
        _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        rows: Int, c: Int, epsilon: Float
    ) {
        let xBase = UncheckedSendable(x), yBase = UncheckedSendable(y)
        let weightBase = UncheckedSendable(weight), biasBase = UncheckedSendable(bias)
        let meanBase = UncheckedSendable(mean), rstdBase = UncheckedSendable(rstd)
        Parallelism.forEachChunk(count: rows, costPerItem: c * 3) { range in
            for row in range {
                let xRow = xBase.value + row * c, yRow = yBase.value + row * c
                let (rowMean, rowRstd) = rowStatistics(xRow, c: c, epsilon: epsilon)
                meanBase.value[row] = rowMean
                rstdBase.value[row] = rowRstd
                let m = FloatVector(repeating: rowMean), s = FloatVector(repeating: rowRstd)
                switch (weightBase.value, biasBase.value) {
                case let (w?, b?):
                    ElementwiseKernels.zip3(xRow, w, b, yRow, count: c) { x, w, b in b + (x - m) * s * w }
                case let (w?, nil):
                    ElementwiseKernels.zip(xRow, w, yRow, count: c) { x, w in (x - m) * s * w }
                case let (nil, b?):
                    ElementwiseKernels.zip(xRow, b, yRow, count: c) { x, b in (x - m) * s + b }
                case (nil, nil):
                    ElementwiseKernels.map(xRow, yRow, count: c) { x in (x - m) * s }
                }
            }
        }
    }

    /// The gradients of layer normalization, with norm = (x - mean) * rstd and
    /// dnorm = dy * weight:
    ///
    ///     dx      = rstd * (dnorm - mean_c(dnorm) - norm * mean_c(dnorm * norm))
    ///     dweight = sum over rows of dy * norm
    ///     dbias   = sum over rows of dy
    ///
    /// Each output is written (not accumulated) when its pointer is non-nil.
    static func layerNormBackward(
        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
        rows: Int, c: Int
    ) {
        let blocks = max(1, min(maximumBlocks, (rows + rowsPerBlock - 1) / rowsPerBlock))
        let needsParameterGradients = dweight != nil || dbias != nil
        // Per block: C partial sums of dy * norm, then C partial sums of dy.
        var partials = [Float](repeating: 0, count: needsParameterGradients ? blocks * 2 * c : 0)
        partials.withUnsafeMutableBufferPointer { partialBuffer in
            // An empty array may still have a base address (the shared empty storage): only
            // hand out partial rows for the gradients that were asked for.
            let partialBase = UncheckedSendable(needsParameterGradients ? partialBuffer.baseAddress : nil)
            let (hasDweight, hasDbias) = (dweight != nil, dbias != nil)
            let dyBase = UncheckedSendable(dy), xBase = UncheckedSendable(x), weightBase = UncheckedSendable(weight)
            let meanBase = UncheckedSendable(mean), rstdBase = UncheckedSendable(rstd), dxBase = UncheckedSendable(dx)
            Parallelism.forEachChunk(count: blocks, costPerItem: rows / blocks * c * 4) { blockRange in
                for block in blockRange {
                    let dweightPartial = hasDweight ? partialBase.value.map { $0 + block * 2 * c } : nil
                    let dbiasPartial = hasDbias ? partialBase.value.map { $0 + block * 2 * c + c } : nil
                    for row in (rows * block / blocks)..<(rows * (block + 1) / blocks) {
                        backwardRow(
                            dyBase.value + row * c, xBase.value + row * c, weight: weightBase.value,
                            mean: meanBase.value[row], rstd: rstdBase.value[row],
                            dx: dxBase.value.map { $0 + row * c },
                            dweightPartial: dweightPartial, dbiasPartial: dbiasPartial, c: c)
                    }
                }
            }
            guard needsParameterGradients, let partialStart = partialBuffer.baseAddress else { return }
            if let dweight { dweight.update(repeating: 0, count: c) }
            if let dbias { dbias.update(repeating: 0, count: c) }
            for block in 0..<blocks {
                let partial = UnsafePointer(partialStart + block * 2 * c)
                if let dweight { ElementwiseKernels.zip(UnsafePointer(dweight), partial, dweight, count: c) { $0 + $1 } }
                if let dbias { ElementwiseKernels.zip(UnsafePointer(dbias), partial + c, dbias, count: c) { $0 + $1 } }
            }
        }
    }

    /// One row of the backward pass; adds into the partial sums of dweight and dbias.
    @inline(__always)
    static func backwardRow(
        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?,
        mean: Float, rstd: Float, dx: UnsafeMutablePointer<Float>?,
        dweightPartial: UnsafeMutablePointer<Float>?, dbiasPartial: UnsafeMutablePointer<Float>?, c: Int
    ) {
        let m = FloatVector(repeating: mean), s = FloatVector(repeating: rstd)
        // Pass 1 (for dx only): sum(dnorm) and sum(dnorm * norm); dy's tail is padded with 0.
        var dnormMean = FloatVector(), dnormNormMean = FloatVector()
        if dx != nil {
            var dnormSum = FloatVector(), dnormNormSum = FloatVector()
            var i = 0
            while i < c {
                let remaining = c - i
                let norm = (ReductionKernels.load(x + i, remaining, fill: mean) - m) * s
                var dnorm = ReductionKernels.load(dy + i, remaining, fill: 0)
                if let weight { dnorm *= ReductionKernels.load(weight + i, remaining, fill: 0) }
                dnormSum += dnorm
                dnormNormSum = dnormNormSum + dnorm * norm
                i += 16
            }
            dnormMean = FloatVector(repeating: dnormSum.horizontalSum() / Float(c))
            dnormNormMean = FloatVector(repeating: dnormNormSum.horizontalSum() / Float(c))
        }
        // Pass 2: dx = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm)),
        // dweight += dy * norm, dbias += dy.
        var i = 0
        while i < c {
            let remaining = c - i
            let norm = (ElementwiseKernels.load(x, i, remaining) - m) * s
            let dyVector = ElementwiseKernels.load(dy, i, remaining)
            if let dx {
                var dnorm = dyVector
                if let weight { dnorm *= ElementwiseKernels.load(weight, i, remaining) }
                ElementwiseKernels.store((dnorm - dnormMean - norm * dnormNormMean) * s, dx, i, remaining)
            }
            if let dweightPartial {
                let partial = ElementwiseKernels.load(dweightPartial, i, remaining)
                ElementwiseKernels.store(partial + dyVector * norm, dweightPartial, i, remaining)
            }
            if let dbiasPartial {
                ElementwiseKernels.store(ElementwiseKernels.load(dbiasPartial, i, remaining) + dyVector, dbiasPartial, i, remaining)
            }
            i += 16
        }
    }

    // MARK: Safe entry points (for Tensor+Normalization.swift)

    /// y (x's shape) for x (N, C), weight and bias (C) or nil, with each row's mean and rstd (N).
    static func layerNormForward(
        _ x: Tensor, weight: Tensor?, bias: Tensor?, rows: Int, c: Int, epsilon: Float
    ) -> (y: Tensor, mean: [Float], rstd: [Float]) {
        var mean = [Float](repeating: 0, count: rows), rstd = [Float](repeating: 0, count: rows)
        let y = Tensor(shape: x.shape) { out in
            guard rows > 0 else { return }
            x.withUnsafeBufferPointer { xp in
                withOptionalPointer(weight) { wp in
                    withOptionalPointer(bias) { bp in
                        mean.withUnsafeMutableBufferPointer { meanp in
                            rstd.withUnsafeMutableBufferPointer { rstdp in
                                layerNormForward(
                                    xp.baseAddress!, weight: wp, bias: bp, out.baseAddress!,
                                    mean: meanp.baseAddress!, rstd: rstdp.baseAddress!,
                                    rows: rows, c: c, epsilon: epsilon)
                            }
                        }
                    }
                }
            }
        }
        return (y, mean, rstd)
    }

    /// dx (x's shape), dweight and dbias (`normalizedShape`), each only where `needs` says so,
    /// from dy (N, C) and the forward pass's mean and rstd.
    static func layerNormBackward(
        _ dy: Tensor, _ x: Tensor, weight: Tensor?, mean: [Float], rstd: [Float], normalizedShape: [Int],
        needs: (x: Bool, weight: Bool, bias: Bool), rows: Int, c: Int
    ) -> (dx: Tensor?, dweight: Tensor?, dbias: Tensor?) {
        var dx = needs.x ? Tensor.zeros(x.shape) : nil
        var dweight = needs.weight ? Tensor.zeros(normalizedShape) : nil
        var dbias = needs.bias ? Tensor.zeros(normalizedShape) : nil
        if rows > 0 {
            dy.withUnsafeBufferPointer { dyp in
            x.withUnsafeBufferPointer { xp in
            withOptionalPointer(weight) { wp in
            mean.withUnsafeBufferPointer { meanp in
            rstd.withUnsafeBufferPointer { rstdp in
            withOptionalMutablePointer(&dx) { dxp in
            withOptionalMutablePointer(&dweight) { dwp in
            withOptionalMutablePointer(&dbias) { dbp in
                layerNormBackward(
                    dyp.baseAddress!, xp.baseAddress!, weight: wp, mean: meanp.baseAddress!, rstd: rstdp.baseAddress!,
                    dx: dxp, dweight: dwp, dbias: dbp, rows: rows, c: c)
            }}}}}}}}
        }
        return (dx, dweight, dbias)
    }

    /// The naive reference's y (x's shape) for x (N, C).
    static func layerNormForwardNaive(_ x: Tensor, weight: Tensor?, bias: Tensor?, rows: Int, c: Int, epsilon: Float) -> Tensor {
        Tensor(shape: x.shape) { out in
            guard out.count > 0 else { return }
            x.withUnsafeBufferPointer { xp in
                withOptionalPointer(weight) { wp in
                    withOptionalPointer(bias) { bp in
                        layerNormForwardNaive(xp.baseAddress!, weight: wp, bias: bp, out.baseAddress!, rows: rows, c: c, epsilon: epsilon)
                    }
                }
            }
        }
    }

    // MARK: Reference

    /// The forward pass by the textbook formula in Double: the reference for tests.
    static func layerNormForwardNaive(
        _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>, rows: Int, c: Int, epsilon: Float
    ) {
        for row in 0..<rows {
            let xRow = x + row * c
            var mean = 0.0
            for k in 0..<c { mean += Double(xRow[k]) }
            mean /= Double(c)
            var variance = 0.0
            for k in 0..<c { variance += (Double(xRow[k]) - mean) * (Double(xRow[k]) - mean) }
            variance /= Double(c)
            let rstd = 1 / (variance + Double(epsilon)).squareRoot()
            for k in 0..<c {
                let norm = (Double(xRow[k]) - mean) * rstd
                y[row * c + k] = Float(norm * Double(weight?[k] ?? 1) + Double(bias?[k] ?? 0))
            }
        }
    }
}
