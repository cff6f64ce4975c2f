@testable import SequentTensor
import TestSupport
import XCTest

/// Tests of `Kernels/ReductionKernels.swift`: sums and maxima along any axis at tail sizes
/// and on the multithreaded path, against scalar loops in Double.
final class ReductionKernelsTests: XCTestCase {
    /// Sum and max of x viewed as (outer, n, inner) along n, in Double.
    private func reference(_ x: [Float], outer: Int, n: Int, inner: Int) -> (sum: [Float], max: [Float]) {
        var sums: [Float] = [], maxima: [Float] = []
        for o in 0..<outer {
            for i in 0..<inner {
                var total = 0.0, peak = -Float.infinity
                for k in 0..<n {
                    let v = x[(o * n + k) * inner + i]
                    total += Double(v)
                    peak = Swift.max(peak, v)
                }
                sums.append(Float(total))
                maxima.append(peak)
            }
        }
        return (sums, maxima)
    }

    func testReductionsAtTailSizesAndAcrossThreads() {
        let cases: [(outer: Int, n: Int, inner: Int)] = [
            (1, 1, 1), (3, 15, 1), (3, 16, 1), (3, 17, 1), (2, 63, 1), (2, 64, 1), (2, 65, 1), (1, 1_000, 1),
            (4, 7, 17), (2, 3, 33), (1, 100_003, 1), (3_000, 37, 1), (70, 5, 200), (1, 40_000, 3),
        ]
        for (index, c) in cases.enumerated() {
            let x = randomTensor([c.outer, c.n, c.inner], lower: -3, upper: 3, seed: UInt64(index))
            let (sums, maxima) = reference(x.scalars, outer: c.outer, n: c.n, inner: c.inner)
            Parallelism.withThreads(4) {
                let tolerance = 1e-6 * Float(c.n).squareRoot() * 3
                assertClose(x.sum(alongAxis: 1).reshaped(to: [-1]), Tensor(sums), relative: tolerance, absolute: tolerance, "case \(c)")
                XCTAssertEqual(x.max(alongAxis: 1).scalars, maxima, "case \(c)")
            }
        }
    }

    func testMaximumOfNegativeRowsIgnoresZeroPadding() {
        // A padded tail must use -inf, not 0, or an all-negative row would report 0.
        for n in [1, 5, 17, 70] {
            let x = Tensor(shape: [2, n], scalars: (0..<(2 * n)).map { -1 - Float($0) })
            XCTAssertEqual(x.max(alongAxis: 1).scalars, [-1, -1 - Float(n)], "n \(n)")
        }
    }

    func testRawContiguousReduction() {
        let values = (1...100).map(Float.init)
        values.withUnsafeBufferPointer { p in
            XCTAssertEqual(ReductionKernels.reduceContiguous(p.baseAddress!, count: 100, .sum), 5050)
            XCTAssertEqual(ReductionKernels.reduceContiguous(p.baseAddress!, count: 77, .maximum), 77)
            XCTAssertEqual(ReductionKernels.reduceContiguous(p.baseAddress!, count: 0, .sum), 0)
            XCTAssertEqual(ReductionKernels.reduceContiguous(p.baseAddress!, count: 0, .maximum), -.infinity)
        }
    }
}
