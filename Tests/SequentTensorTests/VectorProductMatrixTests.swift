import CSequentKernels
@testable import SequentTensor
import TestSupport
import XCTest

/// Tests of `Kernels/VectorProductMatrix.swift` and the C kernels under it: the packed
/// products equal naive ones, in Float and bfloat16, on every row range a stepper uses.
final class VectorProductMatrixTests: XCTestCase {
    private func rounded(_ x: Float) -> Float { Float(bitPattern: UInt32(BFloat16.bits(x)) << 16) }

    /// y[r] = sum_k w[r][k] x[k] in Double, for rows in `range`.
    private func naive(_ w: [Float], columns: Int, _ x: [Float], rows range: Range<Int>) -> [Float] {
        range.map { r in Float((0..<columns).reduce(0.0) { $0 + Double(w[r * columns + $1]) * Double(x[$1]) }) }
    }

    func testProductsMatchTheNaiveOnesOnEveryRowRange() {
        for precision in [WeightPrecision.float32, .bfloat16] {
            // Rows not a multiple of 16 (a partial last block), odd columns (a half pair),
            // groups of four blocks and the blocks left over; no columns at all.
            for (rows, columns) in [(65, 512), (37, 33), (160, 64), (1, 1), (16, 7), (5, 0)] {
                let w = randomTensor([rows * columns], seed: 21).scalars
                let x = randomTensor([columns], seed: 22).scalars
                let matrix = w.withUnsafeBufferPointer { w in
                    VectorProductMatrix(rows: rows, columns: columns, precision: precision) { w.baseAddress! + $0 * columns }
                }
                let (wUsed, xUsed) = precision == .float32 ? (w, x) : (w.map(rounded), x.map(rounded))
                for range in [0..<rows, min(16, rows)..<rows, 0..<min(16, rows)] where !range.isEmpty {
                    let expected = naive(wUsed, columns: columns, xUsed, rows: range)
                    for accumulate in [false, true] {
                        var y = [Float](repeating: 1, count: rows + 3)
                        x.withUnsafeBufferPointer { x in
                            y.withUnsafeMutableBufferPointer { matrix.multiply(rows: range, x.baseAddress!, $0.baseAddress!, accumulate: accumulate) }
                        }
                        var descending = [Float](repeating: 1, count: rows + 3)
                        x.withUnsafeBufferPointer { x in
                            descending.withUnsafeMutableBufferPointer {
                                matrix.multiply(rows: range, x.baseAddress!, $0.baseAddress!, accumulate: accumulate, descending: true)
                            }
                        }
                        XCTAssertEqual(descending, y, "the blocks read backwards give the same bits")
                        let want = expected.map { accumulate ? $0 + 1 : $0 }
                        assertClose(Array(y[range]), want, relative: 1e-5, absolute: 1e-5,
                                    "\(precision) \(rows)x\(columns) rows \(range) accumulate \(accumulate)")
                        XCTAssertEqual(y[rows...].filter { $0 != 1 }.count, 0, "rows past the range are untouched")
                        XCTAssertEqual(y[..<range.lowerBound].filter { $0 != 1 }.count, 0, "rows before the range are untouched")
                    }
                }
            }
        }
    }

    /// The bfloat16 kernel on shifts, which CPUs without AVX512-BF16 run, agrees with the one
    /// this CPU picks.
    func testPortableBFloat16KernelAgreesWithTheDispatchedOne() {
        let (rows, columns) = (100, 77)
        let w = randomTensor([rows * columns], seed: 23).scalars
        let x = randomTensor([columns], seed: 24).scalars
        let matrix = w.withUnsafeBufferPointer { w in
            VectorProductMatrix(rows: rows, columns: columns, precision: .bfloat16) { w.baseAddress! + $0 * columns }
        }
        var dispatched = [Float](repeating: 0, count: rows), portable = dispatched
        x.withUnsafeBufferPointer { x in
            dispatched.withUnsafeMutableBufferPointer { matrix.multiply(rows: 0..<rows, x.baseAddress!, $0.baseAddress!, accumulate: false) }
        }
        let pairs = x.map(BFloat16.bits) + [0]
        let xPairs = (0..<matrix.pairs).map { UInt32(pairs[2 * $0]) | UInt32(pairs[2 * $0 + 1]) << 16 }
        portable.withUnsafeMutableBufferPointer { y in
            sequent_matvec_bf16_portable(matrix.packed.assumingMemoryBound(to: UInt16.self), Int32(rows), Int32(matrix.pairs),
                                         xPairs, y.baseAddress!, 0, 0)
        }
        assertClose(portable, dispatched, relative: 1e-5, absolute: 1e-5)
    }
}
