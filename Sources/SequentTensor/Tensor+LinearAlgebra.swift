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
            let batch = Array(a.shape.dropLast(2))
            return Tensor(shape: batch + [m, n]) { out in
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        GEMM.multiply(transposeA: false, transposeB: transposeB, m: batch.reduce(1, *) * m, n: n, k: k,
                                      a: ap.baseAddress!, lda: aCols, b: bp.baseAddress!, ldb: bCols,
                                      c: out.baseAddress!, ldc: n)
                    }
                }
            }
        }
        let plan = BroadcastPlan(Array(a.shape.dropLast(2)) + [1], Array(b.shape.dropLast(2)) + [1], op: "matmul")
        let batchShape = Array(plan.outputShape.dropLast())
        return Tensor(shape: batchShape + [m, n]) { out in
            guard out.count > 0 else { return }
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    for index in 0..<plan.rowCount {
                        GEMM.multiply(
                            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                            a: ap.baseAddress! + plan.aRowStarts[index] * aRows * aCols, lda: aCols,
                            b: bp.baseAddress! + plan.bRowStarts[index] * bRows * bCols, ldb: bCols,
                            c: out.baseAddress! + index * m * n, ldc: n)
                    }
                }
            }
        }
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
        let result = Tensor(shape: outShape) { out in
            guard out.count > 0 else { return }
            x.withUnsafeBufferPointer { xp in
                weight.withUnsafeBufferPointer { wp in
                    withOptionalPointer(bias) { bp in
                        let operands = UncheckedSendable((xp.baseAddress!, wp.baseAddress!, bp, out.baseAddress!))
                        GEMM.forEachRowBlock(rows: rows) { rowRange in
                            let (x, w, b, y) = operands.value
                            let first = rowRange.lowerBound
                            GEMM.multiply(transposeA: false, transposeB: true, m: rowRange.count, n: outFeatures, k: inFeatures,
                                          a: x + first * inFeatures, lda: inFeatures, b: w, ldb: inFeatures,
                                          c: y + first * outFeatures, ldc: outFeatures)
                            if let b { ElementwiseKernels.addToRows(y + first * outFeatures, rows: rowRange.count, width: outFeatures, b) }
                        }
                    }
                }
            }
        }
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
        let (inputWidth, hiddenWidth, outputWidth) = (weight1.shape[1], weight1.shape[0], weight2.shape[0])
        let rows = x.shape.dropLast().reduce(1, *)
        return Tensor(shape: Array(x.shape.dropLast()) + [outputWidth]) { out in
            guard out.count > 0 else { return }
            x.withUnsafeBufferPointer { xp in
                weight1.withUnsafeBufferPointer { w1 in
                    weight2.withUnsafeBufferPointer { w2 in
                        withOptionalPointer(bias1) { b1 in
                            withOptionalPointer(bias2) { b2 in
                                FeedForwardKernel.forward(
                                    x: xp.baseAddress!, rows: rows, inputWidth: inputWidth, hiddenWidth: hiddenWidth,
                                    outputWidth: outputWidth, weight1: w1.baseAddress!, bias1: b1, activation: activation,
                                    weight2: w2.baseAddress!, bias2: b2, out: out.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
    }
}
