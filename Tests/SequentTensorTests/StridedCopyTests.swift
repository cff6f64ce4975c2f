@testable import SequentTensor
import XCTest

/// Tests of `Kernels/StridedCopy.swift`: gathering strided views into contiguous buffers.
final class StridedCopyTests: XCTestCase {
    private func gather(_ x: [Float], strides: [Int], shape: [Int]) -> [Float] {
        var out = [Float](repeating: .nan, count: shape.reduce(1, *))
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                guard op.count > 0 else { return }
                StridedCopy.gather(from: xp.baseAddress!, strides: strides, shape: shape, to: op.baseAddress!)
            }
        }
        return out
    }

    func testContiguousInnerDimension() {
        // Rows of a (3,4) matrix in reverse-free order: a plain copy with inner stride 1.
        let x = (0..<12).map(Float.init)
        XCTAssertEqual(gather(x, strides: [4, 1], shape: [3, 4]), x)
        // Every other row.
        XCTAssertEqual(gather(x, strides: [8, 1], shape: [2, 4]), [0, 1, 2, 3, 8, 9, 10, 11])
    }

    func testStridedInnerDimensionIsATranspose() {
        let x = (0..<6).map(Float.init)  // (2,3)
        XCTAssertEqual(gather(x, strides: [1, 3], shape: [3, 2]), [0, 3, 1, 4, 2, 5])
    }

    func testRankOneAndThree() {
        let x = (0..<24).map(Float.init)
        XCTAssertEqual(gather(x, strides: [5], shape: [4]), [0, 5, 10, 15])
        // (2,3,4) permuted to (4,2,3): strides (1, 12, 4).
        let permuted = gather(x, strides: [1, 12, 4], shape: [4, 2, 3])
        XCTAssertEqual(Array(permuted[0..<6]), [0, 4, 8, 12, 16, 20])
        XCTAssertEqual(permuted[23], 23)
    }

    func testLargeCopySplitBetweenThreadsMatchesTheDefinition() {
        // (3, 40, 10, 64) from a (40, 3, 64, 10) buffer: 1,200 rows of 64, shared out between
        // 2 threads, the second starting its odometer mid-way.
        let shape = [3, 40, 10, 64], source = [40, 3, 64, 10]
        let x = (0..<source.reduce(1, *)).map(Float.init)
        let strides = [64 * 10, 3 * 64 * 10, 1, 10]
        let out = Parallelism.withThreads(2) { gather(x, strides: strides, shape: shape) }
        var expected: [Float] = []
        for a in 0..<3 { for b in 0..<40 { for c in 0..<10 { for d in 0..<64 {
            expected.append(x[a * strides[0] + b * strides[1] + c * strides[2] + d * strides[3]])
        } } } }
        XCTAssertEqual(out, expected)
    }

    func testEmptyShapeWritesNothing() {
        XCTAssertEqual(gather([1, 2], strides: [1, 1], shape: [0, 2]), [])
    }
}
