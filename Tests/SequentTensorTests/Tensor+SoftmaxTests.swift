import Foundation
import SequentTensor
import TestSupport
import XCTest

/// Softmax of each row of a (rows, n) array, in Double.
private func referenceSoftmax(_ x: [Float], n: Int, logarithm: Bool) -> [Float] {
    var out: [Float] = []
    for start in stride(from: 0, to: x.count, by: n) {
        let row = x[start..<(start + n)].map(Double.init)
        let peak = row.max()!
        let total = row.reduce(0.0) { $0 + Foundation.exp($1 - peak) }
        out += row.map { Float(logarithm ? $0 - peak - Foundation.log(total) : Foundation.exp($0 - peak) / total) }
    }
    return out
}

/// Tests of `Tensor+Softmax.swift`: softmax and log-softmax along any axis.
final class TensorSoftmaxTests: XCTestCase {
    func testSoftmaxLastAxisAgainstReference() {
        let x = randomTensor([4, 37], lower: -5, upper: 5, seed: 1)
        let y = x.softmax()
        assertClose(y, Tensor(shape: [4, 37], scalars: referenceSoftmax(x.scalars, n: 37, logarithm: false)), relative: 1e-5, absolute: 1e-7)
        assertClose(y.sum(alongAxis: 1), Tensor.ones([4]), relative: 0, absolute: 1e-5)
        let logY = x.logSoftmax()
        assertClose(logY, Tensor(shape: [4, 37], scalars: referenceSoftmax(x.scalars, n: 37, logarithm: true)), relative: 1e-5, absolute: 1e-5)
    }

    func testSoftmaxMiddleAxisEqualsTransposedLastAxis() {
        let x = randomTensor([2, 5, 3], lower: -3, upper: 3, seed: 2)
        let alongMiddle = x.softmax(alongAxis: 1)
        let viaLast = x.transposed(1, 2).softmax().transposed(1, 2)
        XCTAssertEqual(alongMiddle.shape, [2, 5, 3])
        assertClose(alongMiddle, viaLast, relative: 1e-6, absolute: 1e-7)
        assertClose(alongMiddle.sum(alongAxis: 1), Tensor.ones([2, 3]), relative: 0, absolute: 1e-5)
        assertClose(x.logSoftmax(alongAxis: 0), x.transposed(0, 2).logSoftmax().transposed(0, 2), relative: 1e-6, absolute: 1e-6)
    }

    func testSoftmaxIsShiftInvariantAndStable() {
        let y = Tensor([[1000, 1001, 1002], [-1000, -1001, -1002]]).softmax()
        assertClose(y, Tensor([[1, 2, 3], [-1, -2, -3]].map { $0.map(Float.init) }).softmax(), relative: 1e-5, absolute: 1e-7)
        XCTAssertFalse(y.hasNonFinite)
    }

    func testFullyMaskedRowGivesZerosNotNaN() {
        let x = Tensor([[-.infinity, -.infinity], [0, -.infinity]])
        XCTAssertEqual(x.softmax().scalars, [0, 0, 1, 0])
        let logY = x.logSoftmax()
        XCTAssertEqual(logY.scalars, [-.infinity, -.infinity, 0, -.infinity])
    }

    func testSingleElementRowsAndEmpty() {
        XCTAssertEqual(Tensor([[3], [-7]]).softmax().scalars, [1, 1])
        XCTAssertEqual(Tensor([[3], [-7]]).logSoftmax().scalars, [0, 0])
        XCTAssertEqual(Tensor.zeros([0, 4]).softmax().shape, [0, 4])
    }

    func testSoftmaxGradients() {
        let x = randomTensor([3, 6], lower: -2, upper: 2, seed: 3)
        checkGradient([x]) { $0[0].softmax() }
        checkGradient([x]) { $0[0].logSoftmax() }
        checkGradient([x]) { $0[0].softmax(alongAxis: 0) }
        let cube = randomTensor([2, 4, 3], lower: -2, upper: 2, seed: 4)
        checkGradient([cube]) { $0[0].softmax(alongAxis: 1) }
        checkGradient([cube]) { $0[0].logSoftmax(alongAxis: 1) }
        checkGradient([cube]) { $0[0].logSoftmax(alongAxis: -1) }
    }
}
