import SequentData
import XCTest

final class BaselinesTests: XCTestCase {
    let history: [Double] = [10, 12, 14, 11, 13, 15]

    func testNaiveSeasonalNaiveAndDriftAgainstHandComputedForecasts() throws {
        XCTAssertEqual(try Baseline.naive.forecast(history, horizon: 4, season: 3), [15, 15, 15, 15])
        // The last season (11, 13, 15) repeated.
        XCTAssertEqual(try Baseline.seasonalNaive.forecast(history, horizon: 4, season: 3), [11, 13, 15, 11])
        // Slope (15 - 10) / 5 = 1.
        XCTAssertEqual(try Baseline.drift.forecast(history, horizon: 4, season: 3), [16, 17, 18, 19])
        XCTAssertThrowsError(try Baseline.naive.forecast([], horizon: 1, season: 1))
        XCTAssertThrowsError(try Baseline.naive.forecast(history, horizon: 0, season: 1))
    }
}
