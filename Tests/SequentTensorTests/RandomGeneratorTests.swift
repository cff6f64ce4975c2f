import SequentTensor
import XCTest

/// Tests of `RandomGenerator.swift`: determinism and the distributions of its samples.
final class RandomGeneratorTests: XCTestCase {
    func testSameSeedGivesIdenticalSequences() {
        var a = RandomGenerator(seed: 1234), b = RandomGenerator(seed: 1234)
        for _ in 0..<1000 { XCTAssertEqual(a.next(), b.next()) }
        for _ in 0..<100 { XCTAssertEqual(a.nextUniform(), b.nextUniform()) }
        for _ in 0..<100 { XCTAssertEqual(a.nextNormal(), b.nextNormal()) }
    }

    func testDifferentSeedsDiffer() {
        var a = RandomGenerator(seed: 0), b = RandomGenerator(seed: 1)
        let first = (0..<8).map { _ in a.next() }, second = (0..<8).map { _ in b.next() }
        XCTAssertNotEqual(first, second)
        // Seed 0 does not give the degenerate all-zero xoshiro state.
        XCTAssertTrue(first.contains { $0 != 0 })
    }

    func testMatchesReferenceXoshiro256StarStar() {
        // SplitMix64-seeded xoshiro256**, values from an independent Python implementation:
        // a change of algorithm (which would change every seeded result in Sequent) fails here.
        var g = RandomGenerator(seed: 42)
        XCTAssertEqual((0..<3).map { _ in g.next() }, [1_546_998_764_402_558_742, 6_990_951_692_964_543_102, 12_544_586_762_248_559_009])
    }

    func testUniformIsInUnitIntervalWithMeanOneHalf() {
        var g = RandomGenerator(seed: 7)
        var total = 0.0, low = Float(1), high = Float(0)
        let n = 100_000
        for _ in 0..<n {
            let u = g.nextUniform()
            XCTAssertTrue(u >= 0 && u < 1)
            total += Double(u)
            low = min(low, u)
            high = max(high, u)
        }
        XCTAssertEqual(total / Double(n), 0.5, accuracy: 0.005)
        XCTAssertLessThan(low, 1e-3)
        XCTAssertGreaterThan(high, 1 - 1e-3)
    }

    func testNormalHasMeanZeroAndUnitDeviation() {
        var g = RandomGenerator(seed: 11)
        let n = 100_000
        var sum = 0.0, sumOfSquares = 0.0, beyondTwo = 0
        for _ in 0..<n {
            let x = Double(g.nextNormal())
            XCTAssertTrue(x.isFinite)
            sum += x
            sumOfSquares += x * x
            if abs(x) > 2 { beyondTwo += 1 }
        }
        let mean = sum / Double(n)
        let deviation = (sumOfSquares / Double(n) - mean * mean).squareRoot()
        // Standard errors: 1/sqrt(n) = 0.003 for the mean, about 0.0022 for the deviation.
        XCTAssertEqual(mean, 0, accuracy: 0.015)
        XCTAssertEqual(deviation, 1, accuracy: 0.01)
        // P(|x| > 2) = 0.0455 for a standard normal.
        XCTAssertEqual(Double(beyondTwo) / Double(n), 0.0455, accuracy: 0.004)
    }

    func testSplitGivesIndependentDeterministicStreams() {
        var parent1 = RandomGenerator(seed: 3), parent2 = RandomGenerator(seed: 3)
        var child1 = parent1.split(), child2 = parent2.split()
        XCTAssertEqual(child1.next(), child2.next())
        XCTAssertEqual(parent1.next(), parent2.next())
        var parent3 = RandomGenerator(seed: 3)
        var child3 = parent3.split()
        XCTAssertNotEqual(child3.next(), parent3.next())
    }

    func testWorksAsSystemRandomNumberGenerator() {
        var g1 = RandomGenerator(seed: 5), g2 = RandomGenerator(seed: 5)
        XCTAssertEqual([1, 2, 3, 4, 5, 6].shuffled(using: &g1), [1, 2, 3, 4, 5, 6].shuffled(using: &g2))
        XCTAssertEqual(Int.random(in: 0..<1000, using: &g1), Int.random(in: 0..<1000, using: &g2))
    }
}
