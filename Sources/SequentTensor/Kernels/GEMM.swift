import CDNNL

// Matrix products: oneDNN's sgemm, with the naive triple loop kept beside it as the
// algorithmic reference the tests compare against.
// Row-major: op(A) is (M,K), op(B) is (K,N), C is (M,N); lda/ldb/ldc are row strides.

/// What the inputs of matrix products are rounded to; products always sum in Float.
public enum MatmulPrecision: String, Sendable, CaseIterable {
    /// Float inputs (`dnnl_sgemm`): the default, exact to Float rounding.
    case float32
    /// Inputs rounded to bfloat16 (8 significant bits, relative error up to 2^-9 each),
    /// products summed in Float (`dnnl_gemm_bf16bf16f32`, on AVX512-BF16 where the CPU
    /// has it: twice the Float rate). For inference, like PyTorch's
    /// `torch.set_float32_matmul_precision("medium")`; set it with `GEMM.withPrecision`.
    case bfloat16
}

/// Single-precision general matrix multiply.
public enum GEMM {
    /// The precision of the products run by this task (`MatmulPrecision.float32` unless
    /// inside `withPrecision`).
    @TaskLocal public static var precision: MatmulPrecision = .float32

    /// Runs `body` with every matrix product inside it at `precision`.
    public static func withPrecision<R>(_ precision: MatmulPrecision, _ body: () throws -> R) rethrows -> R {
        try $precision.withValue(precision, operation: body)
    }

    /// C = alpha * op(A) * op(B) + beta * C through `dnnl_sgemm`, with the rows of C split
    /// between the threads (`forEachRowBlock`; deep A^T B with more rows than columns runs
    /// transposed, `minimumDepthForTransposedProduct`), or, at bfloat16 `precision`, on copies of A
    /// and B rounded to bfloat16, threaded by oneDNN (threads: see `Parallelism`).
    @inline(__always)
    public static func multiply(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // oneDNN rejects K = 0; the product is empty, so only beta * C remains.
            for row in 0..<m {
                for col in 0..<n { c[row * ldc + col] = beta == 0 ? 0 : beta * c[row * ldc + col] }
            }
            return
        }
        if precision == .bfloat16 {
            let (aRows, aCols) = transposeA ? (k, m) : (m, k), (bRows, bCols) = transposeB ? (n, k) : (k, n)
            let aBits = BFloat16.rounded(a, rows: aRows, cols: aCols, ld: lda)
            let bBits = BFloat16.rounded(b, rows: bRows, cols: bCols, ld: ldb)
            defer { aBits.deallocate(); bBits.deallocate() }
            multiplyBFloat16(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                             a: aBits, lda: aCols, b: bBits, ldb: bCols, beta: beta, c: c, ldc: ldc)
            return
        }
        if transposeA && !transposeB && m > n && k >= minimumDepthForTransposedProduct && beta == 0 {
            // C^T (n, m) = B^T A, then transposed back, C's rows shared out between the
            // threads: see minimumDepthForTransposedProduct.
            let transposed = UnsafeMutablePointer<Float>.allocate(capacity: n * m)
            defer { transposed.deallocate() }
            multiply(transposeA: true, transposeB: false, m: n, n: m, k: k, alpha: alpha, a: b, lda: ldb, b: a, ldb: lda,
                     c: transposed, ldc: m)
            StridedCopy.transposeOnThreads(transposed, rows: n, cols: m, into: c, ld: ldc)
            return
        }
        let operands = UncheckedSendable((a, b, c))
        forEachRowBlock(rows: m) { rows in
            let (a, b, c) = operands.value
            let status = dnnl_sgemm(
                transposeA ? 84 : 78, transposeB ? 84 : 78,  // "T" : "N"
                Int64(rows.count), Int64(n), Int64(k), alpha, a + rows.lowerBound * (transposeA ? 1 : lda), Int64(lda),
                b, Int64(ldb), beta, c + rows.lowerBound * ldc, Int64(ldc))
            precondition(status == dnnl_success, "dnnl_sgemm failed with status \(status.rawValue) for M=\(rows.count) N=\(n) K=\(k)")
        }
    }

    /// Depth from which a product A^T B with more rows than columns and beta 0 (a weight
    /// gradient, dW = dY^T X) runs as its transpose B^T A, which is the same sums with the roles of
    /// the operands swapped, then transposed back. oneDNN's sgemm runs the form with fewer
    /// rows faster; measured on 2 cores, GFLOP/s, as is -> swapped: M 2048 N 512 K 6400
    /// (lstm-2x512's W_hh gradient) 177 -> 259; M 1024 N 256 K 3200 196 -> 250; M 1536 N 512
    /// K 6400 192 -> 217; M 768 N 256 K 4096 222 -> 276. Transposing 2048 x 512 back takes
    /// 1 ms of the product's 52.
    static let minimumDepthForTransposedProduct = 1024

    /// Rows of a product per thread below which `forEachRowBlock` leaves the threads to
    /// oneDNN. Measured on 2 cores (`linear`, GFLOP/s, oneDNN's split -> row blocks):
    /// M = 64: K 256 N 1024 141 -> 164, K 1024 N 256 72 -> 103; M = 4096: 206 -> 209,
    /// 161 -> 201.
    static let minimumRowsPerThread = 32

    /// Runs `body(rows)` over `0..<rows` in contiguous blocks, one per thread, when there are
    /// at least `minimumRowsPerThread` rows per thread, no parallel region is running and the
    /// products are in Float; otherwise `body(0..<rows)` once on the calling thread.
    ///
    /// The products inside run single-threaded (oneDNN does not nest parallel regions), each
    /// on its own rows: on two cores this beats oneDNN's own split of one product by up to
    /// a third, and lets work on the rows after their product (bias, activation) run while
    /// they are in cache. oneDNN's bfloat16 product is the other way round: split by rows,
    /// gpt-4x256 inference dropped from 34,000 to 23,000 tokens/s.
    static func forEachRowBlock(rows: Int, _ body: (Range<Int>) -> Void) {
        let blocks = precision == .bfloat16 ? 1 : min(Parallelism.threadCount, rows / minimumRowsPerThread)
        guard blocks > 1 else { return body(0..<rows) }
        // (Inside a parallel region forEachChunk runs both blocks on this thread: one call.)
        Parallelism.forEachChunk(count: blocks, costPerItem: 1 << 20) { blockRange in  // always worth a thread each
            body((rows * blockRange.lowerBound / blocks)..<(rows * blockRange.upperBound / blocks))
        }
    }

    /// C = alpha * op(A) * op(B) + beta * C with A and B already in bfloat16 (`BFloat16`),
    /// summed in Float; k > 0. On a oneDNN matmul primitive (AMX where the CPU has it) from
    /// `minimumRowsForMatmulPrimitive` rows when alpha is 1 and beta 0; through
    /// `dnnl_gemm_bf16bf16f32` otherwise.
    static func multiplyBFloat16(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<UInt16>, lda: Int, b: UnsafePointer<UInt16>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m >= minimumRowsForMatmulPrimitive, alpha == 1, beta == 0,
           multiplyBFloat16OnMatmulPrimitive(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                             a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc) {
            return
        }
        let status = dnnl_gemm_bf16bf16f32(
            transposeA ? 84 : 78, transposeB ? 84 : 78,
            Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc))
        precondition(status == dnnl_success, "dnnl_gemm_bf16bf16f32 failed with status \(status.rawValue) for M=\(m) N=\(n) K=\(k)")
    }

    /// The same product by the textbook triple loop, in Double: the reference for tests.
    public static func multiplyNaive(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for row in 0..<m {
            for col in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let aValue = transposeA ? a[p * lda + row] : a[row * lda + p]
                    let bValue = transposeB ? b[col * ldb + p] : b[p * ldb + col]
                    sum += Double(aValue) * Double(bValue)
                }
                let previous = beta == 0 ? 0 : Double(beta) * Double(c[row * ldc + col])
                c[row * ldc + col] = Float(Double(alpha) * sum + previous)
            }
        }
    }
}
