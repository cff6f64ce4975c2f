@testable import SequentTensor
import TestSupport
import XCTest

/// Tests of `Tensor.swift`: construction, shape bookkeeping, axis normalization, buffers.
final class TensorTests: XCTestCase {
    func testShapeAndScalarsInitializer() {
        let t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(t.shape, [2, 3])
        XCTAssertEqual(t.rank, 2)
        XCTAssertEqual(t.count, 6)
        XCTAssertEqual(t.scalars, [1, 2, 3, 4, 5, 6])
        XCTAssertFalse(t.requiresGrad)
    }

    func testScalarVectorAndRowsInitializers() {
        let scalar = Tensor(3.5)
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(scalar.rank, 0)
        XCTAssertEqual(scalar.count, 1)
        XCTAssertEqual(scalar.item, 3.5)

        let vector = Tensor([1, 2, 3])
        XCTAssertEqual(vector.shape, [3])

        let matrix = Tensor([[1, 2], [3, 4], [5, 6]])
        XCTAssertEqual(matrix.shape, [3, 2])
        XCTAssertEqual(matrix.scalars, [1, 2, 3, 4, 5, 6])

        let noRows = Tensor([[Float]]())
        XCTAssertEqual(noRows.shape, [0, 0])
        XCTAssertEqual(noRows.count, 0)
    }

    func testEmptyShapes() {
        let empty = Tensor(shape: [2, 0, 3], scalars: [])
        XCTAssertEqual(empty.count, 0)
        XCTAssertEqual(empty.rank, 3)
        XCTAssertEqual(Tensor([Float]()).shape, [0])
    }

    func testItemOfSingleElementTensorOfAnyRank() {
        XCTAssertEqual(Tensor(shape: [1, 1, 1], scalars: [7]).item, 7)
    }

    func testNormalizeAxis() {
        XCTAssertEqual(Tensor.normalize(axis: 0, rank: 3, op: "test"), 0)
        XCTAssertEqual(Tensor.normalize(axis: 2, rank: 3, op: "test"), 2)
        XCTAssertEqual(Tensor.normalize(axis: -1, rank: 3, op: "test"), 2)
        XCTAssertEqual(Tensor.normalize(axis: -3, rank: 3, op: "test"), 0)
        // A rank-0 tensor accepts axis 0 (reductions over "all" of a scalar).
        XCTAssertEqual(Tensor.normalize(axis: 0, rank: 0, op: "test"), 0)
    }

    func testMutableBufferIsCopyOnWrite() {
        let original = Tensor([1, 2, 3])
        var copy = original
        copy.withUnsafeMutableBufferPointer { buffer in buffer[0] = 10 }
        XCTAssertEqual(copy.scalars, [10, 2, 3])
        XCTAssertEqual(original.scalars, [1, 2, 3])
    }

    func testReadBufferSeesScalars() {
        let t = Tensor([4, 5, 6])
        let total = t.withUnsafeBufferPointer { $0.reduce(0, +) }
        XCTAssertEqual(total, 15)
    }

    func testUninitializedInitializerFillsBuffer() {
        let t = Tensor(shape: [2, 2]) { out in
            for i in 0..<out.count { out[i] = Float(i) * 2 }
        }
        XCTAssertEqual(t.scalars, [0, 2, 4, 6])
    }

    func testDescriptionShowsShapeAndLeadingValues() {
        XCTAssertEqual(Tensor([1, 2.5]).description, "Tensor(shape: [2], [1, 2.5])")
        let long = Tensor.arange(0, 10)
        XCTAssertEqual(long.description, "Tensor(shape: [10], [0, 1, 2, 3, 4, 5, 6, 7, ...])")
        XCTAssertEqual(Tensor(2).description, "Tensor(shape: [], [2])")
    }
}
