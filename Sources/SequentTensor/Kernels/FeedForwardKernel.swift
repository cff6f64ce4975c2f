// The two-layer position-wise network of a Transformer, y = act(x W1^T + b1) W2^T + b2, for
// inference: rows go through both products in blocks, so that the (rows, F) hidden
// activations never exist whole. Each thread takes a contiguous run of row blocks and keeps
// one block's hidden activations, which stay in its core's cache between the activation pass
// and the second product (a GPT layer's hidden tensor is 16 MB; one block is 256 KB).
//
// x is (rows, In), W1 (F, In), b1 (F), W2 (Out, F), b2 (Out), y (rows, Out); all row-major.

/// The activation between the two products of a feed-forward network.
public enum Activation: String, Sendable, CaseIterable {
    /// max(0, x), the original Transformer's (and PyTorch's default).
    case relu
    /// x Phi(x) with the exact error function (GPT, BERT; PyTorch's `"gelu"`).
    case gelu

    /// The activation applied elementwise.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: x.relu()
        case .gelu: x.gelu()
        }
    }
}

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
            for row in 0..<count {
                let h = hidden + row * hiddenWidth
                switch (activation, bias1) {
                case (.gelu, let b?): ElementwiseKernels.zip(h, b, h, count: hiddenWidth, BiasedGELU())
                case (.gelu, nil): ElementwiseKernels.map(h, h, count: hiddenWidth, VectorMath.GELU())
                case (.relu, let b?): ElementwiseKernels.zip(h, b, h, count: hiddenWidth) { relu($0 + $1) }
                case (.relu, nil): ElementwiseKernels.map(h, h, count: hiddenWidth) { relu($0) }
                }
            }
            let y = out + rowRange.lowerBound * outputWidth
            GEMM.multiply(transposeA: false, transposeB: true, m: count, n: outputWidth, k: hiddenWidth,
                          a: hidden, lda: hiddenWidth, b: weight2, ldb: hiddenWidth, c: y, ldc: outputWidth)
            if let bias2 {
                for row in 0..<count {
                    let yRow = y + row * outputWidth
                    ElementwiseKernels.zip(yRow, bias2, yRow, count: outputWidth) { $0 + $1 }
                }
            }
        }
    }

    @inline(__always)
    private static func relu(_ x: FloatVector) -> FloatVector { x.replacing(with: 0, where: x .< 0) }

    /// (x, b) -> GELU(x + b).
    private struct BiasedGELU: BinaryLaneFunction {
        @_transparent func callAsFunction(_ x: FloatVector, _ b: FloatVector) -> FloatVector { VectorMath.gelu(x + b) }
    }
}
