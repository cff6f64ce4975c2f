// The two-layer position-wise network of a Transformer, y = act(x W1^T + b1) W2^T + b2, for
// inference, as one pass per thread: each thread takes its block of rows (`GEMM.forEachRowBlock`)
// through the first product, the bias and activation, the second product and its bias, with
// single-threaded products, so that no pass over the (rows, F) hidden activations waits for
// the whole tensor or runs on its own.
//
// x is (rows, In), W1 (F, In), b1 (F), W2 (Out, F), b2 (Out), y (rows, Out); all row-major.

enum FeedForwardKernel {
    /// y = act(x W1^T + b1) W2^T + b2 over `rows` rows (biases optional).
    static func forward(
        x: UnsafePointer<Float>, rows: Int, inputWidth: Int, hiddenWidth: Int, outputWidth: Int,
        weight1: UnsafePointer<Float>, bias1: UnsafePointer<Float>?, activation: Activation,
        weight2: UnsafePointer<Float>, bias2: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>
    ) {
        let operands = UncheckedSendable((x, weight1, bias1, weight2, bias2, out))
        GEMM.forEachRowBlock(rows: rows) { rowRange in
            let (x, weight1, bias1, weight2, bias2, out) = operands.value
            let count = rowRange.count
            let hidden = UnsafeMutablePointer<Float>.allocate(capacity: count * hiddenWidth)
            defer { hidden.deallocate() }
            GEMM.multiply(transposeA: false, transposeB: true, m: count, n: hiddenWidth, k: inputWidth,
                          a: x + rowRange.lowerBound * inputWidth, lda: inputWidth, b: weight1, ldb: inputWidth,
                          c: hidden, ldc: hiddenWidth)
            switch activation {
            case .relu: activate(hidden, rows: count, width: hiddenWidth, bias: bias1, .relu)
            case .gelu: activate(hidden, rows: count, width: hiddenWidth, bias: bias1, .gelu)
            }
            let y = out + rowRange.lowerBound * outputWidth
            GEMM.multiply(transposeA: false, transposeB: true, m: count, n: outputWidth, k: hiddenWidth,
                          a: hidden, lda: hiddenWidth, b: weight2, ldb: hiddenWidth, c: y, ldc: outputWidth)
            if let bias2 { ElementwiseKernels.addToRows(y, rows: count, width: outputWidth, bias2) }
        }
    }

    /// h[r, :] = f(h[r, :] + bias) for every row of a (rows, width) matrix (no bias: f(h)).
    private static func activate(
        _ h: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>?, _ f: ActivationKernel
    ) {
        let operands = UncheckedSendable((h, bias))
        Parallelism.forEachChunk(count: rows, costPerItem: width * 8) { rowRange in
            let (h, bias) = operands.value
            for row in rowRange {
                let hRow = h + row * width
                if let bias {
                    f.applyBiased(hRow, bias: bias, count: width)
                } else {
                    f.apply(hRow, hRow, count: width)
                }
            }
        }
    }
}
