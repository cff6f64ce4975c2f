import Foundation
import SequentData
import XCTest

final class ConformalQuantilesTests: XCTestCase {
    func testCorrectionsAreTheConformalQuantilesOfTheScores() throws {
        // Step 1: 4 scores, c = 0.5: the ceil(5 x 0.5) = 3rd smallest of -1, -0.5, 0.5, 2 is 0.5.
        // Step 2: the ceil(4 x 0.5) = 2nd smallest of 1, 2, 3 is 2; step 3 has none: step 2's.
        let cqr = try ConformalQuantiles(scores: [[-1, 0.5, 2, -0.5], [3, 1, 2]], horizon: 3, coverage: 0.5)
        XCTAssertEqual(cqr.corrections, [0.5, 2, 2])
        XCTAssertEqual(cqr.scoreCounts, [4, 3, 0])
        let (lower, upper) = cqr.bounds(lower: [10, 10, 10], upper: [12, 12, 12], logarithm: false)
        XCTAssertEqual(lower, [9.5, 8, 8])
        XCTAssertEqual(upper, [12.5, 14, 14])
        // In log units the correction is a factor.
        let (logLower, logUpper) = cqr.bounds(lower: [100], upper: [120], logarithm: true)
        XCTAssertEqual(logLower[0], 100 * exp(-0.5), accuracy: 1e-12)
        XCTAssertEqual(logUpper[0], 120 * exp(0.5), accuracy: 1e-12)
    }

    func testScoresAndNarrowing() throws {
        // Inside the interval the score is negative (the distance to the nearer bound), outside positive.
        XCTAssertEqual(ConformalQuantiles.score(actual: 5, lower: 6, upper: 8), 1)
        XCTAssertEqual(ConformalQuantiles.score(actual: 7, lower: 6, upper: 10), -1)
        XCTAssertEqual(ConformalQuantiles.score(actual: 11, lower: 6, upper: 10), 1)
        // Heads far too wide are narrowed; a correction that would cross them meets at the middle.
        let narrow = try ConformalQuantiles(scores: [[-3]], horizon: 1, coverage: 0.5)
        XCTAssertEqual(narrow.corrections, [-3])
        let (lower, upper) = narrow.bounds(lower: [10], upper: [12], logarithm: false)
        XCTAssertEqual(lower, [11])
        XCTAssertEqual(upper, [11])
        XCTAssertThrowsError(try ConformalQuantiles(scores: [[]], horizon: 2, coverage: 0.9))
        XCTAssertThrowsError(try ConformalQuantiles(scores: [[1]], horizon: 1, coverage: 1))
    }

    func testCoverageOnExchangeableScores() throws {
        // Gaussian noise around heads that are too narrow (+-0.5 for sd 1): calibrated on 400
        // values, the corrected interval covers ~90 % of 4000 fresh ones.
        var state: UInt64 = 7
        func gaussian() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u = (Double(state >> 11) + 0.5) / Double(1 << 53)
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let v = (Double(state >> 11) + 0.5) / Double(1 << 53)
            return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
        }
        let calibration = (0..<400).map { _ in ConformalQuantiles.score(actual: gaussian(), lower: -0.5, upper: 0.5) }
        let cqr = try ConformalQuantiles(scores: [calibration], horizon: 1, coverage: 0.9)
        XCTAssertEqual(cqr.corrections[0], 1.645 - 0.5, accuracy: 0.2)
        let (lower, upper) = cqr.bounds(lower: [-0.5], upper: [0.5], logarithm: false)
        let fresh = (0..<4000).map { _ in gaussian() }
        let covered = Double(fresh.filter { $0 >= lower[0] && $0 <= upper[0] }.count) / 4000
        XCTAssertEqual(covered, 0.9, accuracy: 0.03)
    }
}
