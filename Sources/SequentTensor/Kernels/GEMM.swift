import CDNNL

// Matrix products: oneDNN's sgemm, with the naive triple loop kept beside it as the
// algorithmic reference the tests compare against.
// Row-major: op(A) is (M,K), op(B) is (K,N), C is (M,N); lda/ldb/ldc are row strides.

/// Single-precision general matrix multiply.
public enum GEMM {
    /// C = alpha * op(A) * op(B) + beta * C through `dnnl_sgemm` (threads: see `Parallelism`).
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
        let status = dnnl_sgemm(
            transposeA ? 84 : 78, transposeB ? 84 : 78,  // "T" : "N"
            Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc))
        precondition(status == dnnl_success, "dnnl_sgemm failed with status \(status.rawValue) for M=\(m) N=\(n) K=\(k)")
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
