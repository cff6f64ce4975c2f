import SequentData
import SequentTensor
import XCTest

final class ConformalIntervalsTests: XCTestCase {
    func testQuantileIsTheConformalRank() {
        // ceil((9 + 1) 0.8) = 8th smallest of 9.
        XCTAssertEqual(ConformalIntervals.quantile([9, 1, 8, 2, 7, 3, 6, 4, 5], coverage: 0.8), 8)
        // Too few values for the coverage: the largest.
        XCTAssertEqual(ConformalIntervals.quantile([1, 2, 3], coverage: 0.9), 3)
    }

    /// A series y_t = 10 + 3 sin(2 pi t / 12) + e_t with e_t ~ N(0, 1), forecast by its mean
    /// function: intervals calibrated on 400 validation errors cover about 90% of 4000 new
    /// values, and their half-width is near the normal quantile 1.645.
    func testCoverageOnASyntheticSeriesWithKnownNoise() throws {
        var generator = RandomGenerator(seed: 11)
        func series(_ range: Range<Int>) -> (actual: [Double], forecast: [Double]) {
            let forecast = range.map { 10 + 3 * sin(2 * Double.pi * Double($0) / 12) }
            return (forecast.map { $0 + Double(generator.nextNormal()) }, forecast)
        }
        let validation = series(0..<400)
        let errors = [zip(validation.actual, validation.forecast).map { $0 - $1 }]
        let intervals = try ConformalIntervals(errors: errors, horizon: 1, coverage: 0.9)
        XCTAssertEqual(intervals.halfWidths[0], 1.645, accuracy: 0.2)
        let test = series(400..<4400)
        var lower: [Double] = [], upper: [Double] = []
        for value in test.forecast {
            let (l, u) = intervals.bounds([value], logarithm: false)
            lower += l
            upper += u
        }
        XCTAssertEqual(ConformalIntervals.coverage(actual: test.actual, lower: lower, upper: upper), 0.9, accuracy: 0.025)
    }

    func testStepsWithoutErrorsWidenLikeARandomWalkAndNeverNarrow() throws {
        let intervals = try ConformalIntervals(errors: [[1, -1, 1], [2, -3, 2], []], horizon: 4, coverage: 0.5)
        XCTAssertEqual(intervals.halfWidths[0], 1)
        XCTAssertEqual(intervals.halfWidths[1], 2)
        XCTAssertEqual(intervals.halfWidths[3], 2 * 2.0.squareRoot(), accuracy: 1e-12)  // 2 x sqrt(4 / 2)
        XCTAssertEqual(intervals.errorCounts, [3, 3, 0, 0])
        let (lower, upper) = intervals.bounds([100], logarithm: true)
        XCTAssertEqual(lower[0], 100 * exp(-1), accuracy: 1e-9)
        XCTAssertEqual(upper[0], 100 * exp(1), accuracy: 1e-9)
        XCTAssertThrowsError(try ConformalIntervals(errors: [[]], horizon: 1, coverage: 0.9))
        XCTAssertThrowsError(try ConformalIntervals(errors: [[1]], horizon: 1, coverage: 1))
    }
}
