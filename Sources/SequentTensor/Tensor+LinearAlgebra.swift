// Matrix products with batch broadcasting, and the fused affine map of a linear layer.

extension Tensor {
    /// The product of the last two dimensions, batched over the leading ones with
    /// broadcasting; records nothing. `transposeA` / `transposeB` use a or b transposed in
    /// their last two dimensions without copying.
    static func matrixProduct(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        Tensor.require {
            if a.rank < 2 || b.rank < 2 {
                throw SequentError.shapeMismatch("matmul", "both operands need at least 2 dimensions, got \(a.shape) and \(b.shape)")
            }
        }
        let (aRows, aCols) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (bRows, bCols) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, k) = transposeA ? (aCols, aRows) : (aRows, aCols)
        let (bk, n) = transposeB ? (bCols, bRows) : (bRows, bCols)
        Tensor.require {
            if k != bk {
                throw SequentError.shapeMismatch("matmul", "inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") x \(b.shape)\(transposeB ? "ᵀ" : "") (\(k) vs \(bk))")
            }
        }
        // A batch of a times one shared matrix b: one product over the stacked rows.
        if b.rank == 2 && !transposeA {
            return LinearAlgebraKernels.multiplyStacked(a, b, transposeB: transposeB, m: m, n: n, k: k)
        }
        let plan = BroadcastPlan(Array(a.shape.dropLast(2)) + [1], Array(b.shape.dropLast(2)) + [1], op: "matmul")
        return LinearAlgebraKernels.multiplyBatched(a, b, plan: plan, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k)
    }

    /// The matrix product over the last two dimensions, broadcasting leading (batch) ones:
    /// a is (..., M, K), b is (..., K, N), the result is (..., M, N).
    public static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        let result = matrixProduct(a, b)
        return recorded(result, operation: "matmul", inputs: [a, b]) { g, needs in
            // dA = dC B^T, dB = A^T dC (summed over broadcast batches)
            let da = needs[0] ? matrixProduct(g, b, transposeB: true).summed(toShape: a.shape) : nil
            var db: Tensor? = nil
            if needs[1] {
                if b.rank == 2 {
                    let k = a.shape[a.rank - 1], n = b.shape[1]
                    db = matrixProduct(a.reshaped(to: [-1, k]), g.reshaped(to: [-1, n]), transposeA: true)
                } else {
                    db = matrixProduct(a, g, transposeA: true).summed(toShape: b.shape)
                }
            }
            return [da, db]
        }
    }

    /// The affine map of a linear layer, y = x W^T + bias, with PyTorch's weight layout:
    /// x is (..., In), weight is (Out, In), bias is (Out), y is (..., Out).
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        requireLinearShapes(x.shape, weight: weight, bias: bias, "linear")
        let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
        let rows = x.shape.dropLast().reduce(1, *)
        let outShape = Array(x.shape.dropLast()) + [outFeatures]
        let result = LinearAlgebraKernels.linear(x, weight: weight, bias: bias, rows: rows, outputShape: outShape)
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return recorded(result, operation: "linear", inputs: inputs) { g, needs in
            let g2 = g.reshaped(to: [rows, outFeatures])
            // dx = dy W, dW = dy^T x, dbias = sum over rows of dy
            let dx = needs[0] ? matrixProduct(g2, weight).reshaped(to: x.shape) : nil
            let dw = needs[1] ? matrixProduct(g2, x.reshaped(to: [rows, inFeatures]), transposeA: true) : nil
            let db = needs.count > 2 && needs[2] ? g2.sum(alongAxis: 0) : nil
            return [dx, dw, db]
        }
    }

    /// Stops with a message naming the shapes unless the input is (..., In), weight (Out, In)
    /// and bias (Out) or nil.
    private static func requireLinearShapes(_ inputShape: [Int], weight: Tensor, bias: Tensor?, _ op: String) {
        Tensor.require {
            if weight.rank != 2 || inputShape.isEmpty || inputShape.last != weight.shape[1] {
                throw SequentError.shapeMismatch(op, "input \(inputShape) does not fit weight \(weight.shape) (expected last dimension \(weight.rank == 2 ? weight.shape[1] : -1))")
            }
            if let bias, bias.shape != [weight.shape[0]] {
                throw SequentError.shapeMismatch(op, "bias \(bias.shape) does not fit weight \(weight.shape)")
            }
        }
    }

    /// A two-layer position-wise network, y = activation(x W1^T + b1) W2^T + b2, in PyTorch's
    /// weight layout: x is (..., In), weight1 (F, In), bias1 (F), weight2 (Out, F), bias2
    /// (Out), y is (..., Out). Equal to `linear(activation(linear(x, ...)), ...)`, which it
    /// records when gradients are recorded; otherwise (inference) it runs rows in blocks
    /// whose hidden activations stay in cache (`FeedForwardKernel`).
    public static func feedForward(
        _ x: Tensor, weight1: Tensor, bias1: Tensor?, activation: Activation, weight2: Tensor, bias2: Tensor?
    ) -> Tensor {
        let inputs = [x, weight1, weight2] + [bias1, bias2].compactMap { $0 }
        if GradientMode.isEnabled && inputs.contains(where: \.requiresGrad) {
            return linear(activation(linear(x, weight: weight1, bias: bias1)), weight: weight2, bias: bias2)
        }
        requireLinearShapes(x.shape, weight: weight1, bias: bias1, "feedForward (first layer)")
        requireLinearShapes([weight1.shape[0]], weight: weight2, bias: bias2, "feedForward (second layer)")
        let outputWidth = weight2.shape[0]
        let rows = x.shape.dropLast().reduce(1, *)
        return LinearAlgebraKernels.feedForward(
            x, rows: rows, weight1: weight1, bias1: bias1, activation: activation, weight2: weight2, bias2: bias2,
            outputShape: Array(x.shape.dropLast()) + [outputWidth])
    }
}
