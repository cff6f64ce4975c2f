import SequentTensor
import TestSupport
import XCTest

/// Tests of `Tensor+Creation.swift`: constants, ranges and seeded random tensors.
final class TensorCreationTests: XCTestCase {
    func testConstants() {
        XCTAssertEqual(Tensor.full([2, 2], value: 3).scalars, [3, 3, 3, 3])
        XCTAssertEqual(Tensor.zeros([3]).scalars, [0, 0, 0])
        XCTAssertEqual(Tensor.ones([1, 2]).scalars, [1, 1])
        XCTAssertEqual(Tensor.ones([1, 2]).shape, [1, 2])
        XCTAssertEqual(Tensor.zeros(like: Tensor.ones([2, 3])).shape, [2, 3])
        XCTAssertEqual(Tensor.zeros([]).shape, [])
        XCTAssertEqual(Tensor.zeros([]).count, 1)
        XCTAssertEqual(Tensor.zeros([0, 4]).count, 0)
    }

    func testArange() {
        XCTAssertEqual(Tensor.arange(0, 5).scalars, [0, 1, 2, 3, 4])
        XCTAssertEqual(Tensor.arange(2, 5).scalars, [2, 3, 4])
        XCTAssertEqual(Tensor.arange(0, 1, step: 0.25).scalars, [0, 0.25, 0.5, 0.75])
        XCTAssertEqual(Tensor.arange(0, 1.1, step: 0.5).scalars, [0, 0.5, 1])
        XCTAssertEqual(Tensor.arange(3, 0, step: -1).scalars, [3, 2, 1])
        XCTAssertEqual(Tensor.arange(3, 3).count, 0)
        XCTAssertEqual(Tensor.arange(5, 3).count, 0)
    }

    func testRandomTensorsAreSeeded() {
        var g1 = RandomGenerator(seed: 42), g2 = RandomGenerator(seed: 42), g3 = RandomGenerator(seed: 43)
        let a = Tensor.randomNormal([100], using: &g1)
        let b = Tensor.randomNormal([100], using: &g2)
        let c = Tensor.randomNormal([100], using: &g3)
        XCTAssertEqual(a.scalars, b.scalars)
        XCTAssertNotEqual(a.scalars, c.scalars)
        XCTAssertEqual(a.shape, [100])
    }

    func testRandomUniformRange() {
        var generator = RandomGenerator(seed: 5)
        let t = Tensor.randomUniform([50, 40], lower: -2, upper: 3, using: &generator)
        XCTAssertEqual(t.shape, [50, 40])
        XCTAssertTrue(t.scalars.allSatisfy { $0 >= -2 && $0 < 3 })
        XCTAssertLessThan(t.scalars.min()!, -1.9)
        XCTAssertGreaterThan(t.scalars.max()!, 2.9)
    }

    func testRandomNormalMeanAndDeviation() {
        var generator = RandomGenerator(seed: 9)
        let t = Tensor.randomNormal([20_000], mean: 3, standardDeviation: 0.5, using: &generator)
        let mean = t.scalars.reduce(0.0) { $0 + Double($1) } / Double(t.count)
        let variance = t.scalars.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(t.count)
        XCTAssertEqual(mean, 3, accuracy: 0.02)
        XCTAssertEqual(variance.squareRoot(), 0.5, accuracy: 0.02)
    }
}
