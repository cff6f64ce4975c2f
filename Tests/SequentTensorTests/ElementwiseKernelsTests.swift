import Foundation
@testable import SequentTensor
import TestSupport
import XCTest

/// Tests of `Kernels/ElementwiseKernels.swift` through the tensor operations that use them:
/// SIMD tails (sizes not a multiple of 16) and the multithreaded path, against scalar loops.
final class ElementwiseKernelsTests: XCTestCase {
    /// Sizes around the 16-lane width, and ones large enough to be split across threads.
    let sizes = [1, 2, 15, 16, 17, 31, 33, 63, 65, 1_000, 65_537, 100_003]

    func testMapAndZipMatchScalarLoopsAtEverySize() {
        for (index, size) in sizes.enumerated() {
            let x = randomTensor([size], lower: -5, upper: 5, seed: UInt64(index))
            let y = randomTensor([size], lower: 0.5, upper: 2, seed: UInt64(index + 50))
            Parallelism.withThreads(4) {
                XCTAssertEqual((x + y).scalars, zip(x.scalars, y.scalars).map { $0 + $1 }, "size \(size)")
                XCTAssertEqual((x * y).scalars, zip(x.scalars, y.scalars).map { $0 * $1 }, "size \(size)")
                XCTAssertEqual((x / y).scalars, zip(x.scalars, y.scalars).map { $0 / $1 }, "size \(size)")
                XCTAssertEqual((-x).scalars, x.scalars.map { -$0 }, "size \(size)")
                XCTAssertEqual(x.relu().scalars, x.scalars.map { Swift.max($0, 0) }, "size \(size)")
                let expected = Tensor(shape: [size], scalars: x.scalars.map { Float(Foundation.exp(Double($0))) })
                assertClose(x.exp(), expected, relative: 3e-7, absolute: 0, "size \(size)")
                XCTAssertEqual(Tensor.where(x .> y, x, y).scalars, zip(x.scalars, y.scalars).map { Swift.max($0, $1) }, "size \(size)")
            }
        }
    }

    func testBroadcastRowsMatchScalarLoopAcrossThreads() {
        // 2000 rows of 37: rows repeat b (step 0 on a column) or a (a row vector).
        let a = randomTensor([2000, 37], seed: 1), row = randomTensor([37], seed: 2), column = randomTensor([2000, 1], seed: 3)
        Parallelism.withThreads(4) {
            let plusRow = a + row
            let timesColumn = column * a
            let outer = column - row
            for r in 0..<2000 {
                for c in 0..<37 {
                    let i = r * 37 + c
                    XCTAssertEqual(plusRow.scalars[i], a.scalars[i] + row.scalars[c])
                    XCTAssertEqual(timesColumn.scalars[i], column.scalars[r] * a.scalars[i])
                    XCTAssertEqual(outer.scalars[i], column.scalars[r] - row.scalars[c])
                }
            }
        }
    }

    func testRawKernelsWriteExactlyCountScalars() {
        // The zero-padded tail must neither read nor write past `count`.
        var out = [Float](repeating: -1, count: 40)
        let x = (0..<40).map(Float.init)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                ElementwiseKernels.map(xp.baseAddress!, op.baseAddress!, count: 21) { $0 * 2 }
            }
        }
        XCTAssertEqual(Array(out[0..<21]), (0..<21).map { Float($0 * 2) })
        XCTAssertEqual(Array(out[21...]), [Float](repeating: -1, count: 19))

        var row = [Float](repeating: -1, count: 20)
        let one: [Float] = [3], many = (0..<20).map(Float.init)
        one.withUnsafeBufferPointer { ap in
            many.withUnsafeBufferPointer { bp in
                row.withUnsafeMutableBufferPointer { op in
                    ElementwiseKernels.zipRow(ap.baseAddress!, aStep: 0, bp.baseAddress!, bStep: 1, op.baseAddress!, count: 19, BinaryLanewise { $0 * $1 })
                }
            }
        }
        XCTAssertEqual(Array(row[0..<19]), (0..<19).map { Float($0 * 3) })
        XCTAssertEqual(row[19], -1)
    }
}
