import Foundation
import SequentData
import SequentTensor
import XCTest

/// Normalisation (global and per utterance), frame stacking and SpecAugment's masks.
final class FeatureNormalizationTests: XCTestCase {
    func testGlobalStatisticsComeFromTheTrainingSetAndSurviveJSON() throws {
        // Two features: the first 1, 3 (mean 2, deviation 1), the second 10, 10 (deviation floored).
        let norm = FeatureNormalization.global(from: [[1, 10], [3, 10]], size: 2)
        XCTAssertEqual(norm.mean, [2, 10])
        XCTAssertEqual(norm.standardDeviation?[0], 1)
        XCTAssertEqual(try norm.apply([3, 10, 1, 10], size: 2), [1, 0, -1, 0])
        let decoded = try JSONDecoder().decode(FeatureNormalization.self, from: JSONEncoder().encode(norm))
        XCTAssertEqual(decoded, norm)
        XCTAssertThrowsError(try norm.apply([1, 2, 3], size: 3)) { XCTAssertTrue("\($0)".contains("3 means"), "\($0)") }
    }

    func testPerUtteranceNormalisationGivesZeroMeanUnitDeviation() throws {
        let x: [Float] = [1, 5, 2, 6, 3, 7, 4, 8]
        let y = try FeatureNormalization(mode: .utterance).apply(x, size: 2)
        for f in 0..<2 {
            let column = stride(from: f, to: y.count, by: 2).map { Double(y[$0]) }
            let mean = column.reduce(0, +) / 4
            let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4
            XCTAssertEqual(mean, 0, accuracy: 1e-6)
            XCTAssertEqual(variance, 1, accuracy: 1e-5)
        }
        XCTAssertEqual(try FeatureNormalization(mode: .none).apply(x, size: 2), x)
    }

    func testStackingJoinsConsecutiveFramesAndDropsAnIncompleteGroup() {
        let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]   // 5 frames of 2
        XCTAssertEqual(FrameStacking.stack(x, size: 2, factor: 2), [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(FrameStacking.frameCount(5, factor: 2), 2)
        XCTAssertEqual(FrameStacking.stack(x, size: 2, factor: 1), x)
    }

    func testSpecAugmentMasksBandsAndRunsWithinTheirLimits() {
        let frames = 50, size = 10
        let augment = SpecAugment(frequencyMasks: 1, frequencyWidth: 3, timeMasks: 1, timeWidth: 20, maxTimeFraction: 0.2)
        var generator = RandomGenerator(seed: 11)
        var sawMask = false
        for _ in 0..<20 {
            var x = [Float](repeating: 1, count: frames * size)
            augment.apply(to: &x, size: size, generator: &generator)
            // Masked features: whole columns of at most 3; masked frames: whole rows of at most 10.
            let zeroColumns = (0..<size).filter { f in (0..<frames).allSatisfy { x[$0 * size + f] == 0 } }
            let zeroRows = (0..<frames).filter { t in (0..<size).allSatisfy { x[t * size + $0] == 0 } }
            XCTAssertLessThanOrEqual(zeroColumns.count, 3)
            XCTAssertLessThanOrEqual(zeroRows.count, 10)
            let zeros = x.filter { $0 == 0 }.count
            XCTAssertEqual(zeros, zeroColumns.count * frames + zeroRows.count * size - zeroColumns.count * zeroRows.count)
            sawMask = sawMask || zeros > 0
        }
        XCTAssertTrue(sawMask)
        var a = [Float](repeating: 1, count: frames * size), b = a
        var g1 = RandomGenerator(seed: 5), g2 = RandomGenerator(seed: 5)
        augment.apply(to: &a, size: size, generator: &g1)
        augment.apply(to: &b, size: size, generator: &g2)
        XCTAssertEqual(a, b, "the same generator state gives the same masks")
    }
}
