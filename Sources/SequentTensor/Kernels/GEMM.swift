import CDNNL

// Matrix products: oneDNN's sgemm, with the naive triple loop kept beside it as the
// algorithmic reference the tests compare against.
// Row-major: op(A) is (M,K), op(B) is (K,N), C is (M,N); lda/ldb/ldc are row strides.

/// What the inputs of matrix products are rounded to; products always sum in Float.
public enum MatmulPrecision: String, Sendable, CaseIterable {
    /// Float inputs (`dnnl_sgemm`): the default, exact to Float rounding.
    case float32
    /// Inputs rounded to bfloat16 (8 significant bits, relative error up to 2^-9 each),
    /// products summed in Float: on oneDNN's bfloat16 kernels where the CPU has AVX512-BF16
    /// or AMX (twice the Float rate or more), else the same mathematics on the Float kernels
    /// (`CPUSupport.bfloat16Path`). For inference, like PyTorch's
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

    /// C = alpha * op(A) * op(B) + beta * C through `dnnl_sgemm`, in fixed tiles of C shared
    /// out between the threads (`tiles`), or, at bfloat16 `precision`, on copies of A and B
    /// rounded to bfloat16 (`multiplyBFloat16`). Float products give the same bits on any
    /// thread count; deep A^T B with more rows than columns runs transposed
    /// (`minimumDepthForTransposedProduct`).
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
        let (rowBlocks, columnBlocks) = tiles(m: m, n: n, k: k)
        let operands = UncheckedSendable((a, b, c))
        let tile = { (index: Int) in
            let (a, b, c) = operands.value
            let (rows, columns) = tileRanges(index, m: m, n: n, rowBlocks: rowBlocks, columnBlocks: columnBlocks)
            Parallelism.onCallingThread {
                sgemm(transposeA: transposeA, transposeB: transposeB, m: rows.count, n: columns.count, k: k, alpha: alpha,
                      a: a + rows.lowerBound * (transposeA ? 1 : lda), lda: lda,
                      b: b + columns.lowerBound * (transposeB ? ldb : 1), ldb: ldb,
                      beta: beta, c: c + rows.lowerBound * ldc + columns.lowerBound, ldc: ldc)
            }
        }
        let count = rowBlocks * columnBlocks
        guard count > 1 else { return tile(0) }
        Parallelism.forEachChunk(count: count, costPerItem: 1 << 20) { indices in  // a tile is always worth a thread
            for index in indices { tile(index) }
        }
    }

    /// One `dnnl_sgemm` call on the calling thread's terms (row-major; see `multiply`).
    @inline(__always)
    private static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let status = dnnl_sgemm(
            transposeA ? 84 : 78, transposeB ? 84 : 78,  // "T" : "N"
            Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc))
        // Only malformed arguments fail, and `multiply`'s callers pass shapes they checked.
        precondition(status == dnnl_success, "dnnl_sgemm failed with status \(status.rawValue) for M=\(m) N=\(n) K=\(k) lda=\(lda) ldb=\(ldb) ldc=\(ldc)")
    }

    /// Depth from which a product A^T B with more rows than columns and beta 0 (a weight
    /// gradient, dW = dY^T X) runs as its transpose B^T A, which is the same sums with the
    /// roles of the operands swapped, then transposed back: oneDNN's sgemm runs the form with
    /// fewer rows faster (figures in docs/performance.md).
    static let minimumDepthForTransposedProduct = 1024

    /// Rows of a tile below which `tiles` does not cut the rows.
    static let minimumRowsPerTile = 32
    /// Columns of a tile below which `tiles` does not cut the columns.
    static let minimumColumnsPerTile = 64
    /// Multiply-adds of a tile below which `tiles` does not cut the columns.
    static let minimumWorkPerTile = 1 << 17

    /// How C (M, N) is cut for `multiply`: R blocks of rows and Q of columns, from the shape
    /// and `Parallelism.splitCount` alone, so that every sum runs the same way whatever the
    /// number of threads (oneDNN's kernels sum a row differently by its place in the call,
    /// and oneDNN's own split of one call depends on the thread count). Rows are cut into up
    /// to `splitCount` blocks of at least 32 (each thread's rows then stay in its cache
    /// through the work after the product); a product with too few rows cuts its columns.
    static func tiles(m: Int, n: Int, k: Int) -> (rows: Int, columns: Int) {
        let splits = Parallelism.splitCount
        let rowBlocks = min(splits, m / minimumRowsPerTile)
        if rowBlocks >= 2 { return (rowBlocks, 1) }
        let columnBlocks = min(splits, n / minimumColumnsPerTile, m * n * k / minimumWorkPerTile)
        return (1, max(1, columnBlocks))
    }

    /// The rows and columns of C in tile `index` of `tiles`' grid, row-major:
    /// rows [m r / R, m (r+1) / R) and columns [n q / Q, n (q+1) / Q) for index = r Q + q.
    @inline(__always)
    static func tileRanges(_ index: Int, m: Int, n: Int, rowBlocks: Int, columnBlocks: Int) -> (rows: Range<Int>, columns: Range<Int>) {
        let (r, q) = index.quotientAndRemainder(dividingBy: columnBlocks)
        return ((m * r / rowBlocks)..<(m * (r + 1) / rowBlocks), (n * q / columnBlocks)..<(n * (q + 1) / columnBlocks))
    }

    /// Runs `body(rows)` over `0..<rows` in the row blocks `tiles` gives a product with
    /// `rows` rows and many columns, one block per thread: work on a block's rows after
    /// its product (bias, activation) then runs while they are in cache. Products inside
    /// run single-threaded. Not at bfloat16 `precision` (oneDNN shares those out faster).
    static func forEachRowBlock(rows: Int, _ body: (Range<Int>) -> Void) {
        let blocks = precision == .bfloat16 ? 1 : max(1, min(Parallelism.splitCount, rows / minimumRowsPerTile))
        guard blocks > 1 else { return body(0..<rows) }
        Parallelism.forEachChunk(count: blocks, costPerItem: 1 << 20) { blockRange in  // always worth a thread each
            for block in blockRange { body((rows * block / blocks)..<(rows * (block + 1) / blocks)) }
        }
    }

    /// C = alpha * op(A) * op(B) + beta * C with A and B already in bfloat16 (`BFloat16`),
    /// summed in Float; k > 0. Where the CPU (or SEQUENT_MAX_CPU_ISA, ONEDNN_MAX_CPU_ISA)
    /// gives oneDNN no bfloat16 kernels, on the Float kernels (`CPUSupport.bfloat16Path`). On a oneDNN matmul primitive (AMX where the CPU has it) from
    /// `minimumRowsForMatmulPrimitive` rows when alpha is 1 and beta 0; through
    /// `dnnl_gemm_bf16bf16f32` otherwise.
    static func multiplyBFloat16(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<UInt16>, lda: Int, b: UnsafePointer<UInt16>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if CPUSupport.hasNativeBFloat16 {
            if m >= minimumRowsForMatmulPrimitive, alpha == 1, beta == 0,
               multiplyBFloat16OnMatmulPrimitive(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                                 a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc) {
                return
            }
            // In the same fixed tiles as Float products, each on one thread. The first tile
            // runs alone: where oneDNN declines it (it should not, given its ISA), nothing is
            // written and the Float kernels below take the whole product.
            let (rowBlocks, columnBlocks) = tiles(m: m, n: n, k: k)
            let operands = UncheckedSendable((a, b, c))
            let tile = { (index: Int) -> dnnl_status_t in
                let (a, b, c) = operands.value
                let (rows, columns) = tileRanges(index, m: m, n: n, rowBlocks: rowBlocks, columnBlocks: columnBlocks)
                return Parallelism.onCallingThread {
                    dnnl_gemm_bf16bf16f32(
                        transposeA ? 84 : 78, transposeB ? 84 : 78, Int64(rows.count), Int64(columns.count), Int64(k), alpha,
                        a + rows.lowerBound * (transposeA ? 1 : lda), Int64(lda), b + columns.lowerBound * (transposeB ? ldb : 1),
                        Int64(ldb), beta, c + rows.lowerBound * ldc + columns.lowerBound, Int64(ldc))
                }
            }
            if tile(0) == dnnl_success {
                Parallelism.forEachChunk(count: rowBlocks * columnBlocks - 1, costPerItem: 1 << 20) { indices in
                    for index in indices {
                        let status = tile(index + 1)
                        precondition(status == dnnl_success, "dnnl_gemm_bf16bf16f32 failed with status \(status.rawValue) on a tile of M=\(m) N=\(n) K=\(k) after succeeding on another")
                    }
                }
                return
            }
        }
        // The same mathematics on the Float kernels: bfloat16 values widen to Float exactly,
        // and their products (16 significant bits) are exact in Float.
        let (aRows, aCols) = transposeA ? (k, m) : (m, k), (bRows, bCols) = transposeB ? (n, k) : (k, n)
        let aValues = BFloat16.widened(a, rows: aRows, cols: aCols, ld: lda)
        let bValues = BFloat16.widened(b, rows: bRows, cols: bCols, ld: ldb)
        defer { aValues.deallocate(); bValues.deallocate() }
        $precision.withValue(.float32) {
            multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                     a: aValues, lda: aCols, b: bValues, ldb: bCols, beta: beta, c: c, ldc: ldc)
        }
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

// MARK: - The bare baseline (sequent-bench)

/// A 64-byte-aligned Float buffer, every page written once, freed with the object: an
/// operand of `GEMM.bareSGEMM`, the baseline that sequent-bench's matmul workload times
/// Sequent's matrix products against.
package final class AlignedMatrixBuffer {
    fileprivate let pointer: UnsafeMutablePointer<Float>
    /// The number of scalars.
    package let count: Int

    /// `count` zeros.
    package init(count: Int) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: count)
    }

    /// A copy of the tensor's scalars.
    package convenience init(copying tensor: Tensor) {
        self.init(count: tensor.count)
        tensor.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: $0.count) }
    }

    deinit { pointer.deallocate() }
}

extension GEMM {
    /// c (M, N) = a (M, K) b, b (K, N), or a b^T with b (N, K) when `transposeB`: one bare
    /// `dnnl_sgemm` call on the calling thread's oneDNN, with none of `multiply`'s tiling.
    package static func bareSGEMM(
        m: Int, n: Int, k: Int, a: AlignedMatrixBuffer, b: AlignedMatrixBuffer, transposeB: Bool, c: AlignedMatrixBuffer
    ) {
        precondition(a.count >= m * k && b.count >= k * n && c.count >= m * n, "GEMM.bareSGEMM: buffers too small for M=\(m) N=\(n) K=\(k)")
        let status = dnnl_sgemm(
            78, transposeB ? 84 : 78,  // "N", "T"
            Int64(m), Int64(n), Int64(k), 1, a.pointer, Int64(k),
            b.pointer, transposeB ? Int64(k) : Int64(n),
            0, c.pointer, Int64(n))
        precondition(status == dnnl_success, "dnnl_sgemm failed with status \(status.rawValue)")
    }
}
