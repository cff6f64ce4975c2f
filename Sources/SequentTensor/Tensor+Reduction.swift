// Reductions along axes: sum, mean, max, min, argmax, log-sum-exp.

extension Tensor {
    /// The sizes (outer, n, inner) that view this tensor around `axis`.
    func split(around axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// The shape after reducing `axis`, kept as 1 or dropped.
    func shape(reducing axis: Int, keepingDimensions: Bool) -> [Int] {
        var reduced = shape
        if keepingDimensions { reduced[axis] = 1 } else { reduced.remove(at: axis) }
        return reduced
    }

    /// Reduces one axis with a kernel; records nothing.
    func reducedAlong(_ axis: Int, _ combine: ReductionKernels.Combine, keepingDimensions: Bool) -> Tensor {
        let (outer, n, inner) = split(around: axis)
        return ReductionKernels.reduce(
            self, outer: outer, n: n, inner: inner, combine, shape: shape(reducing: axis, keepingDimensions: keepingDimensions))
    }

    /// Normalized, sorted, distinct axes; stops with a message if one is out of range.
    func normalizedAxes(_ axes: [Int], op: String) -> [Int] {
        let normalized = Set(axes.map { Tensor.normalize(axis: $0, rank: rank, op: op) })
        return normalized.sorted()
    }

    /// The sum of all scalars, as a rank-0 tensor.
    public func sum() -> Tensor {
        sum(alongAxes: Array(0..<rank))
    }

    /// Sums along `axes`, dropping them unless `keepingDimensions` (then they become 1).
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let axes = normalizedAxes(axes, op: "sum")
        var result = self.detached()
        for axis in axes.reversed() {
            result = result.reducedAlong(axis, .sum, keepingDimensions: keepingDimensions)
        }
        return Tensor.recorded(result, operation: "sum", inputs: [self]) { g, _ in
            let kept = keepingDimensions ? g : g.reshaped(to: self.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element })
            return [kept.expanded(to: self.shape)]
        }
    }

    /// Sums along one axis.
    public func sum(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        sum(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// The mean of all scalars, as a rank-0 tensor.
    public func mean() -> Tensor {
        sum() / Float(Swift.max(count, 1))
    }

    /// Means along `axes`.
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let axes = normalizedAxes(axes, op: "mean")
        let n = axes.reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: axes, keepingDimensions: keepingDimensions) / Float(Swift.max(n, 1))
    }

    /// Means along one axis.
    public func mean(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        mean(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// The maximum along `axis`; the gradient goes to the first maximal element.
    public func max(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let axis = Tensor.normalize(axis: axis, rank: rank, op: "max")
        let result = reducedAlong(axis, .maximum, keepingDimensions: keepingDimensions)
        return Tensor.recorded(result, operation: "max", inputs: [self]) { g, _ in
            let winners = self.argmax(alongAxis: axis, keepingDimensions: true)
            let kept = g.reshaped(to: self.shape(reducing: axis, keepingDimensions: true))
            return [kept.scattered(atIndices: winners, alongAxis: axis, size: self.shape[axis])]
        }
    }

    /// The minimum along `axis`; the gradient goes to the first minimal element.
    public func min(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        -((-self).max(alongAxis: axis, keepingDimensions: keepingDimensions))
    }

    /// The largest scalar.
    public func max() -> Tensor { reshaped(to: [count]).max(alongAxis: 0) }
    /// The smallest scalar.
    public func min() -> Tensor { reshaped(to: [count]).min(alongAxis: 0) }

    /// The index of the first maximum along `axis`, as Float values (exact below 2^24).
    public func argmax(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let axis = Tensor.normalize(axis: axis, rank: rank, op: "argmax")
        precondition(shape[axis] > 0, "argmax: axis \(axis) of shape \(shape) is empty")
        let (outer, n, inner) = split(around: axis)
        let indices = ReductionKernels.argmax(self, outer: outer, n: n, inner: inner)
        return Tensor(shape: shape(reducing: axis, keepingDimensions: keepingDimensions), scalars: indices)
    }

    /// The index of the first minimum along `axis`, as Float values.
    public func argmin(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        (-self).detached().argmax(alongAxis: axis, keepingDimensions: keepingDimensions)
    }

    /// log(sum(exp(x))) along `axis`, computed stably by subtracting the maximum first.
    public func logSumExp(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let axis = Tensor.normalize(axis: axis, rank: rank, op: "logSumExp")
        let result = withoutGradients { () -> Tensor in
            let peak = self.reducedAlong(axis, .maximum, keepingDimensions: true)
            let finitePeak = peak.mapped { $0.replacing(with: 0, where: .!($0 .== $0) .| ($0 .== -.infinity) .| ($0 .== .infinity)) }
            let shifted = (self - finitePeak).exp().reducedAlong(axis, .sum, keepingDimensions: true).log() + finitePeak
            return keepingDimensions ? shifted : shifted.reshaped(to: self.shape(reducing: axis, keepingDimensions: false))
        }
        return Tensor.recorded(result, operation: "logSumExp", inputs: [self]) { g, _ in
            let keptResult = result.reshaped(to: self.shape(reducing: axis, keepingDimensions: true))
            let keptGradient = g.reshaped(to: keptResult.shape)
            return [keptGradient * (self - keptResult).exp()]
        }
    }

    /// The gradient of a gathered reduction: a tensor of `shape` with `self` (reduced shape,
    /// axis kept as 1) placed at `indices` along `axis` and zeros elsewhere.
    func scattered(atIndices indices: Tensor, alongAxis axis: Int, size: Int) -> Tensor {
        var fullShape = shape
        fullShape[axis] = size
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        var out = [Float](repeating: 0, count: outer * size * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                let k = Int(indices.scalars[o * inner + i])
                out[(o * size + k) * inner + i] = scalars[o * inner + i]
            }
        }
        return Tensor(shape: fullShape, scalars: out)
    }
}
