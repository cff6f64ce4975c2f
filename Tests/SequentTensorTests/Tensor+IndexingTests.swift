@testable import SequentTensor
import TestSupport
import XCTest

/// Tests of `Tensor+Indexing.swift`: indexSelect, gather, maskedFill, where.
final class TensorIndexingTests: XCTestCase {
    let table = Tensor([[0, 1], [10, 11], [20, 21], [30, 31]])

    // MARK: Forward values

    func testIndexSelectRowsWithRepeats() {
        let rows = table.indexSelect(alongAxis: 0, indices: [2, 0, 2])
        XCTAssertEqual(rows.shape, [3, 2])
        XCTAssertEqual(rows.scalars, [20, 21, 0, 1, 20, 21])
        let columns = table.indexSelect(alongAxis: 1, indices: [1, 1, 0])
        XCTAssertEqual(columns.shape, [4, 3])
        XCTAssertEqual(columns.scalars, [1, 1, 0, 11, 11, 10, 21, 21, 20, 31, 31, 30])
        XCTAssertEqual(table.indexSelect(alongAxis: 0, indices: []).shape, [0, 2])
    }

    func testIndexSelectGradientAddsRepeats() {
        let x = table.requiringGrad()
        x.indexSelect(alongAxis: 0, indices: [1, 1, 3]).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [0, 0, 2, 2, 0, 0, 1, 1])
    }

    func testGather() {
        let x = Tensor([[1, 2, 3], [4, 5, 6]])
        let picked = x.gather(alongAxis: 1, indices: Tensor([[2, 0], [1, 1]]))
        XCTAssertEqual(picked.shape, [2, 2])
        XCTAssertEqual(picked.scalars, [3, 1, 5, 5])
        let down = x.gather(alongAxis: 0, indices: Tensor([[1, 0, 1]]))
        XCTAssertEqual(down.scalars, [4, 2, 6])
    }

    func testMaskedFill() {
        let x = Tensor([[1, 2, 3], [4, 5, 6]])
        XCTAssertEqual(x.maskedFill(where: Tensor([[0, 1, 0], [1, 0, 0]]), with: -9).scalars, [1, -9, 3, -9, 5, 6])
        // A broadcast mask (one per column), and -inf as the fill of attention masks.
        let filled = x.maskedFill(where: Tensor([0, 0, 1]), with: -.infinity)
        XCTAssertEqual(filled.scalars, [1, 2, -.infinity, 4, 5, -.infinity])
    }

    func testWherePicksWithoutLeakingOtherBranch() {
        let condition = Tensor([1, 0, 1, 0])
        let a = Tensor([1, 2, 3, 4]), b = Tensor([.nan, -2, .infinity, -4])
        XCTAssertEqual(Tensor.where(condition, a, b).scalars, [1, -2, 3, -4])
        // Broadcasting all three: condition (2,1), a (3), b scalar.
        let picked = Tensor.where(Tensor([[1], [0]]), Tensor([1, 2, 3]), Tensor(0))
        XCTAssertEqual(picked.shape, [2, 3])
        XCTAssertEqual(picked.scalars, [1, 2, 3, 0, 0, 0])
    }

    // MARK: Gradients

    func testIndexSelectGradients() {
        let x = randomTensor([4, 3, 2], seed: 1)
        checkGradient([x]) { $0[0].indexSelect(alongAxis: 0, indices: [3, 1, 3, 3, 0]) }
        checkGradient([x]) { $0[0].indexSelect(alongAxis: 1, indices: [2, 2, 0]) }
        checkGradient([x]) { $0[0].indexSelect(alongAxis: -1, indices: [1, 0, 1]) }
    }

    func testGatherGradients() {
        let x = randomTensor([3, 4], seed: 2)
        checkGradient([x]) { $0[0].gather(alongAxis: 1, indices: Tensor([[0, 3, 3], [1, 1, 1], [2, 0, 3]])) }
        checkGradient([x]) { $0[0].gather(alongAxis: 0, indices: Tensor([[2, 0, 1, 2], [2, 2, 0, 1]])) }
    }

    func testMaskedFillGradient() {
        let x = randomTensor([3, 4], seed: 3)
        checkGradient([x]) { $0[0].maskedFill(where: Tensor([1, 0, 0, 1]), with: 5) }
        checkGradient([x]) { $0[0].maskedFill(where: Tensor([[1, 0, 0, 1], [0, 0, 0, 0], [1, 1, 1, 1]]), with: -1) }
        let y = Tensor([1, 2, 3]).requiringGrad()
        y.maskedFill(where: Tensor([0, 1, 0]), with: 0).sum().backward()
        XCTAssertEqual(y.grad?.scalars, [1, 0, 1])
    }

    func testWhereGradients() {
        let condition = Tensor([[1, 0, 1], [0, 0, 1]])
        checkGradient([randomTensor([2, 3], seed: 4), randomTensor([2, 3], seed: 5)]) { Tensor.where(condition, $0[0], $0[1]) }
        // Broadcast branches sum their gradients back to their own shapes.
        checkGradient([randomTensor([3], seed: 6), randomTensor([2, 1], seed: 7)]) { Tensor.where(condition, $0[0], $0[1]) }
        checkGradient([randomTensor([], seed: 8), randomTensor([2, 3], seed: 9)]) { Tensor.where(condition, $0[0], $0[1]) }
    }

    // MARK: Errors

    func testIndexValidationNamesOperationAndRange() {
        XCTAssertNoThrow(try Tensor.validatedIndices([0, 3, 3], size: 4, op: "indexSelect"))
        XCTAssertThrowsError(try Tensor.validatedIndices([0, 4], size: 4, op: "indexSelect")) { error in
            XCTAssertEqual(error as? SequentError, SequentError.invalidArgument("indexSelect", "index 4 out of range 0..<4"))
        }
        XCTAssertThrowsError(try Tensor.validatedIndices([-1], size: 2, op: "gather")) { error in
            XCTAssertEqual((error as? SequentError)?.message, "gather: index -1 out of range 0..<2")
        }
    }
}
