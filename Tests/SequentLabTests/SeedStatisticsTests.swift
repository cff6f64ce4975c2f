@testable import SequentLab
import XCTest

/// The rule every lab verdict follows: beyond the seeds' spread and the tie margin, or inconclusive.
final class SeedStatisticsTests: XCTestCase {
    func testMeanAndSampleStandardDeviation() {
        let values = SeedValues([1, 2, 3])
        XCTAssertEqual(values.mean, 2)
        XCTAssertEqual(values.standardDeviation, 1, accuracy: 1e-12, "n - 1 in the denominator")
        XCTAssertEqual(SeedValues([5]).standardDeviation, 0)
        XCTAssertEqual(values.text(), "2 ± 1")
    }

    func testDifferencesBeyondTheSpreadDecide() {
        let low = SeedValues([3.80, 3.85, 3.82]), high = SeedValues([4.10, 4.15, 4.12])
        XCTAssertEqual(SeedComparison.lower(low, than: high), .held)
        XCTAssertEqual(SeedComparison.lower(high, than: low), .notHeld)
        XCTAssertEqual(SeedComparison.higher(high, than: low), .held)
    }

    func testTiesAndOverlapsAreInconclusive() {
        // The examples: a 1% margin no seed spread supports, perplexities 1.00079 against
        // 1.002, and a constant series where every MSE is 0.
        XCTAssertEqual(SeedComparison.lower(SeedValues([3.82, 3.70, 3.95]), than: SeedValues([3.87, 3.80, 3.93])), .inconclusive)
        XCTAssertEqual(SeedComparison.lower(SeedValues([1.00079, 1.00080]), than: SeedValues([1.002, 1.002]), relativeTie: 0.01), .inconclusive)
        XCTAssertEqual(SeedComparison.lower(SeedValues([0, 0, 0]), than: SeedValues([0, 0, 0]), relativeTie: 0.01), .inconclusive)
        XCTAssertEqual(SeedComparison.lower(SeedValues([1]), than: SeedValues([2])), .inconclusive, "one seed has no spread")
        XCTAssertEqual(SeedComparison.lower(SeedValues([1, 1]), than: SeedValues([1.3, 1.3]), absoluteTie: 0.5), .inconclusive)
    }

    func testThresholds() {
        XCTAssertEqual(SeedComparison.below(SeedValues([1, 2]), 3), .held)
        XCTAssertEqual(SeedComparison.below(SeedValues([1, 5]), 3), .inconclusive)
        XCTAssertEqual(SeedComparison.below(SeedValues([4, 5]), 3), .notHeld)
        XCTAssertEqual(SeedComparison.above(SeedValues([4, 5]), 3), .held)
    }
}

extension SeedStatisticsTests {
    func testQuantitiesBeyondMeasurementCountAsLarger() {
        let underflowed = SeedValues([.infinity, .infinity])
        XCTAssertEqual(SeedComparison.lower(SeedValues([8.3, 8.9]), than: underflowed), .held)
        XCTAssertEqual(SeedComparison.lower(underflowed, than: SeedValues([8.3, 8.9])), .notHeld)
        XCTAssertEqual(SeedComparison.lower(SeedValues([8.3, .infinity]), than: underflowed), .inconclusive)
        XCTAssertEqual(SeedComparison.above(underflowed, 2), .held)
        XCTAssertEqual(underflowed.text(), "inf (2 of 2 seeds)")
    }
}

extension SeedStatisticsTests {
    func testSomeSeedsBeyondMeasurementCountAsALowerBound() {
        let rnn = SeedValues([40, .infinity])  // one seed underflowed: at least 40
        XCTAssertEqual(SeedComparison.lower(SeedValues([8.3, 8.9]), than: rnn), .held)
        XCTAssertEqual(SeedComparison.lower(rnn, than: SeedValues([8.3, 8.9])), .inconclusive, "no bound helps this side")
        XCTAssertEqual(SeedComparison.above(rnn, 2), .held)
    }
}

extension SeedStatisticsTests {
    /// Timings under a drifting load: the unpaired rule cannot separate two models whose
    /// throughputs swing together from round to round; their per-round ratios can.
    func testPairedTimingsSurviveALoadDrift() {
        let load = [1.0, 0.6, 0.9, 0.5, 0.8]  // the share of the machine each round had
        let gru = SeedValues(load.map { 150 * $0 }), lstm = SeedValues(load.map { 120 * $0 * 1.01 })
        XCTAssertEqual(SeedComparison.higher(gru, than: lstm), .inconclusive, "the spreads overlap")
        XCTAssertEqual(SeedComparison.higherPaired(gru, than: lstm, tie: 0.02), .held, "1.24 in every round")
        XCTAssertEqual(SeedComparison.lowerPaired(lstm, than: gru, tie: 0.02), .held)
        XCTAssertEqual(SeedComparison.higherPaired(lstm, than: gru, tie: 0.02), .notHeld)
        XCTAssertEqual(SeedComparison.pairedRatios(gru, lstm).mean, 150 / 121.2, accuracy: 1e-9)
    }

    func testPairedTiesAndNoisyRatiosAreInconclusive() {
        let a = SeedValues([100, 101, 99]), b = SeedValues([99, 100, 100])
        XCTAssertEqual(SeedComparison.higherPaired(a, than: b, tie: 0.02), .inconclusive, "within 2% of each other")
        XCTAssertEqual(SeedComparison.higherPaired(SeedValues([110, 90]), than: SeedValues([100, 100]), tie: 0.02), .inconclusive,
                       "1.1 and 0.9: the ratio's spread straddles 1")
        XCTAssertEqual(SeedComparison.higherPaired(SeedValues([2]), than: SeedValues([1]), tie: 0), .inconclusive, "one round")
        XCTAssertEqual(SeedComparison.higherPaired(SeedValues([2, 2]), than: SeedValues([1, 1, 1]), tie: 0), .inconclusive,
                       "unpaired counts")
    }
}
