import Foundation
import SequentTensor
import TestSupport
import XCTest

/// A tensor of `shape` holding a seeded permutation of 0, 0.1, 0.2, ...: all values differ
/// by at least 0.1, so maxima stay put under a finite-difference step.
private func distinctTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    let count = shape.reduce(1, *)
    let values = (0..<count).map { Float($0) * 0.1 - Float(count) * 0.05 }.shuffled(using: &generator)
    return Tensor(shape: shape, scalars: values)
}

/// Tests of `Tensor+Reduction.swift`: sum, mean, max, min, argmax, log-sum-exp.
final class TensorReductionTests: XCTestCase {
    let cube = Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))

    // MARK: Forward values

    func testSumAll() {
        let s = cube.sum()
        XCTAssertEqual(s.shape, [])
        XCTAssertEqual(s.item, 276)
        XCTAssertEqual(Tensor(5).sum().item, 5)
        XCTAssertEqual(Tensor.zeros([0, 3]).sum().item, 0)
    }

    func testSumAlongEachAxis() {
        XCTAssertEqual(cube.sum(alongAxis: 0).shape, [3, 4])
        XCTAssertEqual(cube.sum(alongAxis: 0).scalars, (0..<12).map { Float($0 * 2 + 12) })
        let middle = cube.sum(alongAxis: 1)
        XCTAssertEqual(middle.shape, [2, 4])
        XCTAssertEqual(middle.scalars, [12, 15, 18, 21, 48, 51, 54, 57])
        let last = cube.sum(alongAxis: -1)
        XCTAssertEqual(last.shape, [2, 3])
        XCTAssertEqual(last.scalars, [6, 22, 38, 54, 70, 86])
    }

    func testSumAlongSeveralAxesAndKeepDims() {
        let s = cube.sum(alongAxes: [0, 2])
        XCTAssertEqual(s.shape, [3])
        XCTAssertEqual(s.scalars, [60, 92, 124])
        let kept = cube.sum(alongAxes: [2, 0], keepingDimensions: true)
        XCTAssertEqual(kept.shape, [1, 3, 1])
        XCTAssertEqual(kept.scalars, [60, 92, 124])
        // Repeated and negative axes name the same axis once.
        XCTAssertEqual(cube.sum(alongAxes: [-1, 2]).shape, [2, 3])
        XCTAssertEqual(cube.sum(alongAxes: []).shape, [2, 3, 4])
        XCTAssertEqual(cube.sum(alongAxis: 1, keepingDimensions: true).shape, [2, 1, 4])
    }

    func testSumOverEmptyAxisIsZero() {
        let s = Tensor.zeros([2, 0, 3]).sum(alongAxis: 1)
        XCTAssertEqual(s.shape, [2, 3])
        XCTAssertEqual(s.scalars, [0, 0, 0, 0, 0, 0])
    }

    func testMean() {
        XCTAssertEqual(cube.mean().item, 11.5)
        XCTAssertEqual(cube.mean(alongAxis: 2).scalars, [1.5, 5.5, 9.5, 13.5, 17.5, 21.5])
        let m = cube.mean(alongAxes: [0, 1], keepingDimensions: true)
        XCTAssertEqual(m.shape, [1, 1, 4])
        XCTAssertEqual(m.scalars, [10, 11, 12, 13])
        XCTAssertEqual(cube.mean(alongAxis: 0, keepingDimensions: true).shape, [1, 3, 4])
    }

    func testMaxMinArgmaxArgmin() {
        let x = Tensor([[3, -1, 7, 7], [-5, 2, 0, -5]])
        XCTAssertEqual(x.max(alongAxis: 1).scalars, [7, 2])
        XCTAssertEqual(x.min(alongAxis: 1).scalars, [-1, -5])
        XCTAssertEqual(x.max(alongAxis: 0).scalars, [3, 2, 7, 7])
        XCTAssertEqual(x.min(alongAxis: 0, keepingDimensions: true).shape, [1, 4])
        XCTAssertEqual(x.min(alongAxis: 0).scalars, [-5, -1, 0, -5])
        // The first of equal maxima/minima wins.
        XCTAssertEqual(x.argmax(alongAxis: 1).scalars, [2, 1])
        XCTAssertEqual(x.argmin(alongAxis: 1).scalars, [1, 0])
        XCTAssertEqual(x.argmax(alongAxis: 0, keepingDimensions: true).shape, [1, 4])
        XCTAssertEqual(x.argmax(alongAxis: 0).scalars, [0, 1, 0, 0])
        XCTAssertEqual(x.max().item, 7)
        XCTAssertEqual(x.min().item, -5)
        XCTAssertEqual(x.max().shape, [])
        XCTAssertEqual(Tensor(4).max().item, 4)
    }

    func testMaxOfAllNegativeInfinityAndArgmaxNaN() {
        XCTAssertEqual(Tensor([-.infinity, -.infinity]).max().item, -.infinity)
        XCTAssertEqual(Tensor([1, .nan, 5]).argmax(alongAxis: 0).item, 1)
    }

    func testMaxGradientGoesToFirstMaximum() {
        let x = Tensor([[1, 4, 4], [2, 0, 1]]).requiringGrad()
        x.max(alongAxis: 1).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [0, 1, 0, 1, 0, 0])
    }

    func testLogSumExpValues() {
        let x = Tensor([[1, 2, 3], [1000, 1000, 1000], [-1000, -1000, -1000]])
        let lse = x.logSumExp(alongAxis: 1)
        let expected = Float(Foundation.log(Foundation.exp(1.0) + Foundation.exp(2.0) + Foundation.exp(3.0)))
        XCTAssertEqual(lse.scalars[0], expected, accuracy: 1e-5)
        XCTAssertEqual(lse.scalars[1], 1000 + Float(Foundation.log(3.0)), accuracy: 1e-3)
        XCTAssertEqual(lse.scalars[2], -1000 + Float(Foundation.log(3.0)), accuracy: 1e-3)
        XCTAssertEqual(x.logSumExp(alongAxis: 0, keepingDimensions: true).shape, [1, 3])
    }

    func testLogSumExpOfInfiniteRows() {
        let x = Tensor([[-.infinity, -.infinity], [.infinity, 0], [-.infinity, 0]])
        let lse = x.logSumExp(alongAxis: 1)
        XCTAssertEqual(lse.scalars, [-.infinity, .infinity, 0])
    }

    // MARK: Gradients

    func testSumGradients() {
        let x = randomTensor([2, 3, 4], seed: 1)
        checkGradient([x]) { $0[0].sum() }
        checkGradient([x]) { $0[0].sum(alongAxis: 1) }
        checkGradient([x]) { $0[0].sum(alongAxes: [0, 2]) }
        checkGradient([x]) { $0[0].sum(alongAxes: [0, 2], keepingDimensions: true) }
        checkGradient([x]) { $0[0].sum(alongAxis: -1, keepingDimensions: true) }
        checkGradient([randomTensor([], seed: 2)]) { $0[0].sum() }
    }

    func testMeanGradients() {
        let x = randomTensor([2, 3, 4], seed: 3)
        checkGradient([x]) { $0[0].mean() }
        checkGradient([x]) { $0[0].mean(alongAxis: 0) }
        checkGradient([x]) { $0[0].mean(alongAxes: [1, 2], keepingDimensions: true) }
    }

    func testMaxMinGradients() {
        let x = distinctTensor([3, 4, 5], seed: 4)
        for axis in 0..<3 {
            checkGradient([x]) { $0[0].max(alongAxis: axis) }
            checkGradient([x]) { $0[0].min(alongAxis: axis, keepingDimensions: true) }
        }
        checkGradient([x]) { $0[0].max() }
        checkGradient([x]) { $0[0].min() }
    }

    func testLogSumExpGradients() {
        let x = randomTensor([3, 4, 5], lower: -3, upper: 3, seed: 5)
        checkGradient([x]) { $0[0].logSumExp(alongAxis: 2) }
        checkGradient([x]) { $0[0].logSumExp(alongAxis: 1, keepingDimensions: true) }
        checkGradient([x]) { $0[0].logSumExp(alongAxis: 0) }
    }
}
