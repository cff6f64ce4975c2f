import Foundation
@testable import SequentTensor
import TestSupport
import XCTest

/// Tests of `Kernels/SoftmaxKernels.swift`: rows at tail lengths and across threads.
final class SoftmaxKernelsTests: XCTestCase {
    private func reference(_ x: [Float], n: Int, logarithm: Bool) -> [Float] {
        var out: [Float] = []
        for start in stride(from: 0, to: x.count, by: n) {
            let row = x[start..<(start + n)].map(Double.init)
            let peak = row.max()!
            let total = row.reduce(0.0) { $0 + Foundation.exp($1 - peak) }
            out += row.map { Float(logarithm ? $0 - peak - Foundation.log(total) : Foundation.exp($0 - peak) / total) }
        }
        return out
    }

    func testRowsAtTailLengthsAndAcrossThreads() {
        for (index, (rows, n)) in [(3, 1), (3, 15), (2, 16), (2, 17), (5, 63), (4, 65), (1, 1_001), (2_000, 37), (10, 5_000)].enumerated() {
            let x = randomTensor([rows, n], lower: -8, upper: 8, seed: UInt64(index))
            Parallelism.withThreads(4) {
                assertClose(x.softmax(), Tensor(shape: [rows, n], scalars: reference(x.scalars, n: n, logarithm: false)),
                            relative: 2e-6, absolute: 1e-9, "rows \(rows) n \(n)")
                assertClose(x.logSoftmax(), Tensor(shape: [rows, n], scalars: reference(x.scalars, n: n, logarithm: true)),
                            relative: 2e-6, absolute: 2e-6, "rows \(rows) n \(n)")
            }
        }
    }

    func testRawKernelMasksAllNegativeInfinityRows() {
        let x: [Float] = [-.infinity, -.infinity, -.infinity, 1, 1, 1]
        var out = [Float](repeating: .nan, count: 6)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                SoftmaxKernels.softmaxRows(xp.baseAddress!, op.baseAddress!, rows: 2, n: 3, logarithm: false)
            }
        }
        XCTAssertEqual(Array(out[0..<3]), [0, 0, 0])
        for v in out[3...] { XCTAssertEqual(v, 1 / 3, accuracy: 1e-7) }
    }
}
