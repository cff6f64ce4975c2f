// Softmax and log-softmax along an axis.

extension Tensor {
    /// Applies a row kernel along `axis`, moving the axis last and back if needed.
    private func alongLastAxis(_ axis: Int, _ body: (Tensor) -> Tensor) -> Tensor {
        if axis == rank - 1 { return body(self) }
        return withoutGradients { body(transposed(axis, -1)).transposed(axis, -1) }
    }

    private func softmaxFamily(alongAxis axis: Int, logarithm: Bool) -> Tensor {
        let axis = Tensor.normalize(axis: axis, rank: rank, op: logarithm ? "logSoftmax" : "softmax")
        let result = alongLastAxis(axis) { x in
            SoftmaxKernels.softmaxRows(x, logarithm: logarithm)
        }
        return Tensor.recorded(result, operation: logarithm ? "logSoftmax" : "softmax", inputs: [self]) { g, _ in
            if logarithm {
                // d logsoftmax: g - softmax * sum(g)
                return [g - result.exp() * g.sum(alongAxis: axis, keepingDimensions: true)]
            }
            // d softmax: y * (g - sum(g * y))
            return [result * (g - (g * result).sum(alongAxis: axis, keepingDimensions: true))]
        }
    }

    /// e^x / sum(e^x) along `axis` (default: the last). A row that is entirely -inf (fully
    /// masked) gives zeros, never NaN.
    public func softmax(alongAxis axis: Int = -1) -> Tensor {
        softmaxFamily(alongAxis: axis, logarithm: false)
    }

    /// log(softmax(x)) along `axis`, computed without forming the softmax.
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        softmaxFamily(alongAxis: axis, logarithm: true)
    }
}
