import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Dropout.swift`.
final class DropoutTests: XCTestCase {
    func testTrainingDropsAndScalesEvaluationIsIdentity() throws {
        var generator = RandomGenerator(seed: 1)
        let layer = try Dropout(probability: 0.25, generator: &generator)
        XCTAssertTrue(layer.namedParameters().isEmpty)
        let x = Tensor.ones([10_000])
        let y = layer(x)
        XCTAssertTrue(y.scalars.allSatisfy { $0 == 0 || abs($0 - 1 / 0.75) < 1e-6 })
        XCTAssertEqual(Double(y.scalars.filter { $0 == 0 }.count) / 10_000, 0.25, accuracy: 0.02)
        layer.setTraining(false)
        XCTAssertEqual(layer(x).scalars, x.scalars)
    }

    func testZeroProbabilityIsIdentity() throws {
        var generator = RandomGenerator(seed: 2)
        let layer = try Dropout(probability: 0, generator: &generator)
        let x = randomTensor([3, 4], seed: 3)
        XCTAssertEqual(layer(x).scalars, x.scalars)
    }

    func testSameSeedGivesTheSameMasksInTheSameOrder() throws {
        var a = RandomGenerator(seed: 4), b = RandomGenerator(seed: 4)
        let first = try Dropout(probability: 0.5, generator: &a)
        let second = try Dropout(probability: 0.5, generator: &b)
        let x = randomTensor([64], seed: 5)
        let (y1, y2) = (first(x), first(x))
        XCTAssertNotEqual(y1.scalars, y2.scalars, "each call draws a new mask")
        XCTAssertEqual(second(x).scalars, y1.scalars)
        XCTAssertEqual(second(x).scalars, y2.scalars)
        // The passed generator advanced identically, so later layers are deterministic too.
        XCTAssertEqual(a.next(), b.next())
    }

    func testExplicitGeneratorAndReseeding() throws {
        var generator = RandomGenerator(seed: 6)
        let layer = try Dropout(probability: 0.5, generator: &generator)
        let x = randomTensor([64], seed: 7)
        var g1 = RandomGenerator(seed: 8), g2 = RandomGenerator(seed: 8)
        XCTAssertEqual(layer(x, using: &g1).scalars, layer(x, using: &g2).scalars)
        layer.generator = RandomGenerator(seed: 9)
        let reseeded = layer(x)
        layer.generator = RandomGenerator(seed: 9)
        XCTAssertEqual(layer(x).scalars, reseeded.scalars)
    }

    func testGradientFlowsThroughTheMask() throws {
        var generator = RandomGenerator(seed: 10)
        let layer = try Dropout(probability: 0.5, generator: &generator)
        let x = randomTensor([32], seed: 11).requiringGrad()
        let y = layer(x)
        y.sum().backward()
        XCTAssertEqual(x.grad!.scalars, y.scalars.map { $0 == 0 ? 0 : 2 })
    }

    func testInvalidProbabilityThrows() {
        var generator = RandomGenerator(seed: 12)
        for p: Float in [-0.1, 1, 1.5, .nan] {
            XCTAssertThrowsError(try Dropout(probability: p, generator: &generator)) { error in
                XCTAssertTrue("\(error)".hasPrefix("Dropout: probability must be in [0, 1)"))
            }
        }
    }
}
