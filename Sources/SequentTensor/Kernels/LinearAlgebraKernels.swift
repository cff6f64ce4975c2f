// The matrix products behind `Tensor+LinearAlgebra.swift` on oneDNN's sgemm (`GEMM`): a
// batch of matrices times one shared matrix as one product over the stacked rows, batched
// products with broadcast batch dimensions, the affine map of a linear layer with its bias
// added per row block, and the two-layer feed-forward network of inference.
// Shapes are given beside each entry point; every operand is contiguous row-major, and a
// transposed operand is read in place (never copied).

enum LinearAlgebraKernels {
    /// a (..., M, K) times one b (K, N), or b^T with b (N, K) when `transposeB`: one product
    /// over the stacked rows; the result is (..., M, N).
    static func multiplyStacked(_ a: Tensor, _ b: Tensor, transposeB: Bool, m: Int, n: Int, k: Int) -> Tensor {
        let batch = Array(a.shape.dropLast(2))
        let (aCols, bCols) = (a.shape[a.rank - 1], b.shape[b.rank - 1])
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

    /// One product op(a) (M, K) op(b) (K, N) per batch index of `plan` (whose rows are the
    /// broadcast batch dimensions of a and b, with a trailing 1); the result is
    /// (batch..., M, N).
    static func multiplyBatched(
        _ a: Tensor, _ b: Tensor, plan: BroadcastPlan, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int
    ) -> Tensor {
        let (aRows, aCols) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (bRows, bCols) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
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

    /// y = x W^T + bias: x is (rows, In), weight (Out, In), bias (Out) or nil; y has
    /// `outputShape` (rows * Out scalars). Row blocks run on all threads.
    static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, rows: Int, outputShape: [Int]) -> Tensor {
        let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
        return Tensor(shape: outputShape) { out in
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
    }

    /// y = activation(x W1^T + b1) W2^T + b2 by `FeedForwardKernel`: x is (rows, In),
    /// weight1 (F, In), bias1 (F), weight2 (Out, F), bias2 (Out); y has `outputShape`.
    static func feedForward(
        _ x: Tensor, rows: Int, weight1: Tensor, bias1: Tensor?, activation: Activation, weight2: Tensor, bias2: Tensor?,
        outputShape: [Int]
    ) -> Tensor {
        let (inputWidth, hiddenWidth, outputWidth) = (weight1.shape[1], weight1.shape[0], weight2.shape[0])
        return Tensor(shape: outputShape) { out in
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
