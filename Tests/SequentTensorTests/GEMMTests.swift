@testable import SequentTensor
import TestSupport
import XCTest

/// Tests of `Kernels/GEMM.swift`: oneDNN's product against the naive reference loop.
final class GEMMTests: XCTestCase {
    /// Runs `GEMM.multiply` and `GEMM.multiplyNaive` on the same seeded operands and
    /// starting C, and compares the results.
    private func compare(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, padding: Int = 0,
        alpha: Float = 1, beta: Float = 0, initialC: Float? = nil, seed: UInt64 = 1,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        // Stored A is (M,K) or (K,M), B is (K,N) or (N,K); rows padded to lda = width + padding.
        let (aRows, aWidth) = transposeA ? (k, m) : (m, k)
        let (bRows, bWidth) = transposeB ? (n, k) : (k, n)
        let (lda, ldb, ldc) = (aWidth + padding, bWidth + padding, n + padding)
        let a = randomTensor([max(aRows * lda, 1)], seed: seed).scalars
        let b = randomTensor([max(bRows * ldb, 1)], seed: seed + 1).scalars
        let start = initialC.map { [Float](repeating: $0, count: max(m * ldc, 1)) } ?? randomTensor([max(m * ldc, 1)], seed: seed + 2).scalars
        var fast = start, naive = start
        fast.withUnsafeMutableBufferPointer { c in
            GEMM.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                          a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c.baseAddress!, ldc: ldc)
        }
        naive.withUnsafeMutableBufferPointer { c in
            GEMM.multiplyNaive(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                               a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c.baseAddress!, ldc: ldc)
        }
        let label = "transposeA \(transposeA) transposeB \(transposeB) M \(m) N \(n) K \(k) pad \(padding) beta \(beta)"
        for row in 0..<m {
            for col in 0..<n {
                let (x, y) = (fast[row * ldc + col], naive[row * ldc + col])
                if x.isNaN || Swift.abs(x - y) > 1e-5 + 1e-5 * Swift.abs(y) * Float(max(k, 1)).squareRoot() {
                    XCTFail("\(label): C[\(row), \(col)] = \(x), reference \(y)", file: file, line: line)
                    return
                }
            }
            // Padding columns beyond N are never written.
            for col in n..<ldc where fast[row * ldc + col] != start[row * ldc + col] && !start[row * ldc + col].isNaN {
                XCTFail("\(label): padding C[\(row), \(col)] was overwritten", file: file, line: line)
                return
            }
        }
    }

    func testAllTransposeCombinationsWithOddSizes() {
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                for (m, n, k) in [(1, 1, 1), (7, 5, 3), (17, 33, 9), (31, 1, 65), (1, 40, 13)] {
                    compare(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k)
                }
            }
        }
    }

    func testLeadingDimensionsLargerThanWidth() {
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                compare(transposeA: transposeA, transposeB: transposeB, m: 9, n: 6, k: 11, padding: 3)
            }
        }
    }

    func testBetaZeroIgnoresNaNInC() {
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                compare(transposeA: transposeA, transposeB: transposeB, m: 5, n: 7, k: 4, beta: 0, initialC: .nan)
            }
        }
        compare(transposeA: false, transposeB: false, m: 5, n: 7, k: 0, beta: 0, initialC: .nan)
    }

    /// Deep A^T B products with more rows than columns and beta 0 (weight gradients) run
    /// transposed and are transposed back: the same values, with strides and alpha; with
    /// beta they run as they are.
    func testDeepTransposedProductsRunSwapped() {
        let depth = GEMM.minimumDepthForTransposedProduct
        compare(transposeA: true, transposeB: false, m: 70, n: 33, k: depth + 5)
        compare(transposeA: true, transposeB: false, m: 70, n: 33, k: depth, padding: 3, alpha: 0.5, beta: 2)
        compare(transposeA: true, transposeB: false, m: 40, n: 17, k: depth, beta: 0, initialC: .nan)
    }

    func testBetaOneAccumulatesAndAlphaScales() {
        compare(transposeA: false, transposeB: true, m: 6, n: 10, k: 7, beta: 1)
        compare(transposeA: true, transposeB: false, m: 6, n: 10, k: 7, alpha: 0.5, beta: 2)
        compare(transposeA: false, transposeB: false, m: 3, n: 3, k: 3, padding: 2, beta: 1)
    }

    func testEmptyInnerDimensionKeepsBetaTimesC() {
        compare(transposeA: false, transposeB: false, m: 3, n: 4, k: 0, beta: 0)
        compare(transposeA: true, transposeB: true, m: 3, n: 4, k: 0, beta: 1)
        compare(transposeA: false, transposeB: false, m: 3, n: 4, k: 0, padding: 1, beta: 0.5)
    }

    func testEmptyOutputTouchesNothing() {
        var c: [Float] = [42]
        let a: [Float] = [1], b: [Float] = [1]
        c.withUnsafeMutableBufferPointer { cp in
            GEMM.multiply(transposeA: false, transposeB: false, m: 0, n: 1, k: 1, a: a, lda: 1, b: b, ldb: 1, c: cp.baseAddress!, ldc: 1)
            GEMM.multiply(transposeA: false, transposeB: false, m: 1, n: 0, k: 1, a: a, lda: 1, b: b, ldb: 1, c: cp.baseAddress!, ldc: 1)
        }
        XCTAssertEqual(c, [42])
    }

    func testRowsSplitBetweenThreadsMatchReference() {
        // 131 rows on 2 threads: two blocks of rows (65 and 66), each its own product.
        Parallelism.withThreads(2) {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    compare(transposeA: transposeA, transposeB: transposeB, m: 131, n: 37, k: 29, padding: 3, alpha: 0.5, beta: 1)
                }
            }
        }
    }

    func testLargerProductMatchesReference() {
        compare(transposeA: false, transposeB: true, m: 64, n: 96, k: 80)
    }

    func testNaiveReferenceOnHandComputedValues() {
        let a: [Float] = [1, 2, 3, 4, 5, 6]  // (2,3)
        let b: [Float] = [7, 8, 9, 10, 11, 12]  // (3,2)
        var c = [Float](repeating: 1, count: 4)
        c.withUnsafeMutableBufferPointer { cp in
            GEMM.multiplyNaive(transposeA: false, transposeB: false, m: 2, n: 2, k: 3, a: a, lda: 3, b: b, ldb: 2,
                               beta: 1, c: cp.baseAddress!, ldc: 2)
        }
        XCTAssertEqual(c, [59, 65, 140, 155])
    }
}

/// `MatmulPrecision.bfloat16`: the product of the operands rounded to bfloat16, summed in Float.
extension GEMMTests {
    func testBFloat16PrecisionIsTheProductOfRoundedOperands() {
        func rounded(_ x: Float) -> Float { Float(bitPattern: UInt32(BFloat16.bits(x)) << 16) }
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                for (m, n, k, padding) in [(19, 37, 70, 3), (131, 21, 40, 2)] {
                    let (aRows, aWidth) = transposeA ? (k, m) : (m, k), (bRows, bWidth) = transposeB ? (n, k) : (k, n)
                    let (lda, ldb) = (aWidth + padding, bWidth + padding)
                    let a = randomTensor([aRows * lda], seed: 5).scalars, b = randomTensor([bRows * ldb], seed: 6).scalars
                    var fast = [Float](repeating: .nan, count: m * n), naive = fast
                    fast.withUnsafeMutableBufferPointer { c in
                        GEMM.withPrecision(.bfloat16) {
                            GEMM.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                          a: a, lda: lda, b: b, ldb: ldb, c: c.baseAddress!, ldc: n)
                        }
                    }
                    naive.withUnsafeMutableBufferPointer { c in
                        GEMM.multiplyNaive(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                           a: a.map(rounded), lda: lda, b: b.map(rounded), ldb: ldb, c: c.baseAddress!, ldc: n)
                    }
                    assertClose(fast, naive, relative: 1e-5, absolute: 1e-5, "transposeA \(transposeA) transposeB \(transposeB) M \(m)")
                }
            }
        }
        XCTAssertEqual(GEMM.precision, .float32, "the precision is scoped to withPrecision")
    }

    /// The recurrent step's product with B reordered once: the product of the rounded
    /// operands, for B given plainly or transposed, at padded strides, over repeated calls.
    func testPackedBFloat16ProductIsTheProductOfRoundedOperands() throws {
        try XCTSkipUnless(CPUSupport.hasNativeBFloat16, "no bfloat16 kernels here (\(CPUSupport.bfloat16Path.rawValue)): the recurrent step takes the emulated path, checked by RecurrentLayerTests")
        func rounded(_ x: Float) -> Float { Float(bitPattern: UInt32(BFloat16.bits(x)) << 16) }
        for transposeWeights in [false, true] {
            for (m, n, k) in [(16, 1024, 256), (5, 37, 70)] {
                let (lda, ldc) = (k + 3, n + 5)
                let (bRows, bWidth) = transposeWeights ? (n, k) : (k, n)
                let ldb = bWidth + 2
                let b = randomTensor([bRows * ldb], seed: 11).scalars
                let bBits = b.map(BFloat16.bits)
                let product = try XCTUnwrap(bBits.withUnsafeBufferPointer {
                    PackedBFloat16Product(m: m, k: k, n: n, weights: $0.baseAddress!, transposeWeights: transposeWeights,
                                          ldb: ldb, lda: lda, ldc: ldc)
                }, "oneDNN has a bfloat16 matmul on this CPU")
                for seed in [12, 13] {
                    let a = randomTensor([m * lda], seed: UInt64(seed)).scalars
                    var fast = [Float](repeating: .nan, count: m * ldc), naive = [Float](repeating: 0, count: m * n)
                    a.map(BFloat16.bits).withUnsafeBufferPointer { aBits in
                        fast.withUnsafeMutableBufferPointer { product.multiply(aBits.baseAddress!, into: $0.baseAddress!) }
                    }
                    naive.withUnsafeMutableBufferPointer { c in
                        GEMM.multiplyNaive(transposeA: false, transposeB: transposeWeights, m: m, n: n, k: k,
                                           a: a.map(rounded), lda: lda, b: b.map(rounded), ldb: ldb, c: c.baseAddress!, ldc: n)
                    }
                    let fastRows = (0..<m).flatMap { fast[$0 * ldc..<$0 * ldc + n] }
                    assertClose(fastRows, naive, relative: 1e-5, absolute: 1e-5, "transposeWeights \(transposeWeights) M \(m) seed \(seed)")
                }
            }
        }
    }

    func testBFloat16RoundingToNearestEvenOnVectorsAsOnScalars() {
        var values = randomTensor([200], seed: 9).scalars.map { $0 * 1000 }
        // Ties: 1 + 2^-8 lies halfway between bfloat16 neighbours 1 and 1 + 2^-7 (even: 1);
        // 1 + 3 * 2^-8 halfway between 1 + 2^-7 and 1 + 2^-6 (even: 1 + 2^-6).
        values += [1 + 0x1p-8, 1 + 3 * 0x1p-8, -0.0, .infinity, -.infinity, .nan, .greatestFiniteMagnitude, 1e-40]
        XCTAssertEqual(BFloat16.bits(Float(1 + 0x1p-8)), 0x3F80)
        XCTAssertEqual(BFloat16.bits(Float(1 + 3 * 0x1p-8)), 0x3F82)
        var out = [UInt16](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { BFloat16.round(x.baseAddress!, rows: 1, cols: values.count, ld: values.count, into: $0.baseAddress!) }
        }
        for (value, bits) in zip(values, out) {
            XCTAssertEqual(bits, BFloat16.bits(value), "\(value)")
        }
        XCTAssertTrue(Float(bitPattern: UInt32(out[values.count - 3]) << 16).isNaN, "NaN stays NaN")
    }
}
