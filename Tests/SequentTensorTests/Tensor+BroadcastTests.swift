@testable import SequentTensor
import TestSupport
import XCTest

/// Tests of `Tensor+Broadcast.swift` and the broadcast plan it runs on
/// (`Kernels/BroadcastKernels.swift`): the plan, its errors, and `summed(toShape:)`.
final class TensorBroadcastTests: XCTestCase {
    func testBroadcastShapes() throws {
        XCTAssertEqual(try BroadcastPlan.broadcastShape([2, 3], [3], op: "add"), [2, 3])
        XCTAssertEqual(try BroadcastPlan.broadcastShape([3], [2, 3], op: "add"), [2, 3])
        XCTAssertEqual(try BroadcastPlan.broadcastShape([2, 1, 4], [3, 1], op: "add"), [2, 3, 4])
        XCTAssertEqual(try BroadcastPlan.broadcastShape([], [5, 1], op: "add"), [5, 1])
        XCTAssertEqual(try BroadcastPlan.broadcastShape([], [], op: "add"), [])
        XCTAssertEqual(try BroadcastPlan.broadcastShape([1, 0], [3, 1], op: "add"), [3, 0])
    }

    func testBroadcastErrorNamesOperationAndBothShapes() {
        XCTAssertThrowsError(try BroadcastPlan.broadcastShape([2, 3], [4], op: "multiply")) { error in
            guard let error = error as? SequentError else { return XCTFail("not a SequentError: \(error)") }
            XCTAssertEqual(error.kind, .shapeMismatch)
            XCTAssertEqual(error.message, "multiply: shapes [2, 3] and [4] cannot be broadcast together (dimension 1: 3 vs 4)")
        }
        XCTAssertThrowsError(try BroadcastPlan.broadcastShape([5, 2, 1], [3, 1, 1], op: "where")) { error in
            let message = (error as? SequentError)?.message ?? ""
            XCTAssertTrue(message.hasPrefix("where: "), message)
            XCTAssertTrue(message.contains("[5, 2, 1]") && message.contains("[3, 1, 1]"), message)
        }
    }

    func testBroadcastStrides() {
        XCTAssertEqual(BroadcastPlan.broadcastStrides([3], to: [2, 3]), [0, 1])
        XCTAssertEqual(BroadcastPlan.broadcastStrides([2, 1], to: [2, 3]), [1, 0])
        XCTAssertEqual(BroadcastPlan.broadcastStrides([2, 1, 4], to: [2, 3, 4]), [4, 0, 1])
        XCTAssertEqual(BroadcastPlan.broadcastStrides([], to: [2, 3]), [0, 0])
        XCTAssertEqual(BroadcastPlan.broadcastStrides([1, 1], to: [1, 1]), [1, 1])
    }

    func testPlanRowsAndSteps() {
        let plan = BroadcastPlan([2, 1, 4], [3, 1], op: "add")
        XCTAssertEqual(plan.outputShape, [2, 3, 4])
        XCTAssertEqual(plan.rowLength, 4)
        XCTAssertEqual(plan.rowCount, 6)
        XCTAssertEqual(plan.aStep, 1)
        XCTAssertEqual(plan.bStep, 0)
        XCTAssertEqual(plan.aRowStarts, [0, 0, 0, 4, 4, 4])
        XCTAssertEqual(plan.bRowStarts, [0, 1, 2, 0, 1, 2])
        let scalarPlan = BroadcastPlan([], [], op: "add")
        XCTAssertEqual(scalarPlan.rowCount, 1)
        XCTAssertEqual(scalarPlan.rowLength, 1)
    }

    func testBroadcastZipMatchesScalarLoopForManyShapePairs() {
        let pairs: [([Int], [Int])] = [
            ([3, 1, 5], [4, 1]), ([1], [2, 17]), ([2, 17], []), ([4, 1, 1], [1, 3, 33]),
            ([1, 3, 1], [2, 1, 19]), ([6], [6]), ([2, 1], [1, 2]),
        ]
        for (index, (aShape, bShape)) in pairs.enumerated() {
            let a = randomTensor(aShape, seed: UInt64(index)), b = randomTensor(bShape, seed: UInt64(index + 100))
            let result = a * b - a
            let shape = try! BroadcastPlan.broadcastShape(aShape, bShape, op: "test")
            let aStrides = BroadcastPlan.broadcastStrides(aShape, to: shape), bStrides = BroadcastPlan.broadcastStrides(bShape, to: shape)
            var expected: [Float] = []
            for flat in 0..<shape.reduce(1, *) {
                var rest = flat, aOffset = 0, bOffset = 0
                for k in stride(from: shape.count - 1, through: 0, by: -1) {
                    let i = rest % shape[k]
                    rest /= shape[k]
                    aOffset += i * aStrides[k]
                    bOffset += i * bStrides[k]
                }
                expected.append(a.scalars[aOffset] * b.scalars[bOffset] - a.scalars[aOffset])
            }
            XCTAssertEqual(result.shape, shape, "\(aShape) with \(bShape)")
            XCTAssertEqual(result.scalars, expected, "\(aShape) with \(bShape)")
        }
    }

    func testSummedToShape() {
        let g = Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))
        XCTAssertEqual(g.summed(toShape: [2, 3, 4]).scalars, g.scalars)
        XCTAssertEqual(g.summed(toShape: [4]).scalars, g.sum(alongAxes: [0, 1]).scalars)
        XCTAssertEqual(g.summed(toShape: [3, 1]).shape, [3, 1])
        XCTAssertEqual(g.summed(toShape: [3, 1]).scalars, [60, 92, 124])
        XCTAssertEqual(g.summed(toShape: [2, 1, 1]).scalars, [66, 210])
        XCTAssertEqual(g.summed(toShape: []).scalars, [276])
    }
}
