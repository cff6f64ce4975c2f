import SequentData
import XCTest

final class ForecastMetricsTests: XCTestCase {
    /// Worked by hand: errors y - yhat = -1, 0, 1, 2.
    func testMetricsAgainstHandComputedValues() throws {
        let m = try ForecastMetrics(actual: [1, 2, 3, 4], forecast: [2, 2, 2, 2], inSample: [1, 3, 2, 4, 3, 5], season: 2)
        XCTAssertEqual(m.mae, 1, accuracy: 1e-12)
        XCTAssertEqual(m.rmse, 1.5.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(m.mape!, 25 * (1 + 0 + 1.0 / 3 + 0.5), accuracy: 1e-12)
        // M4: 200/h sum |e| / (|y| + |yhat|) = 50 (1/3 + 0 + 1/5 + 2/6).
        XCTAssertEqual(m.smape, 50 * (1.0 / 3 + 0.2 + 2.0 / 6), accuracy: 1e-12)
        // In-sample seasonal naive (m = 2): |2-1|, |4-3|, |3-2|, |5-4| -> 1.
        XCTAssertEqual(m.mase!, 1, accuracy: 1e-12)
        // m = 1: |3-1|, |2-3|, |4-2|, |3-4|, |5-3| -> 8/5.
        let nonSeasonal = try ForecastMetrics(actual: [1, 2, 3, 4], forecast: [2, 2, 2, 2], inSample: [1, 3, 2, 4, 3, 5], season: 1)
        XCTAssertEqual(nonSeasonal.mase!, 1 / 1.6, accuracy: 1e-12)
    }

    func testZerosAndDegenerateScales() throws {
        let m = try ForecastMetrics(actual: [0, 2], forecast: [0, 1], inSample: [3, 3, 3], season: 1)
        XCTAssertEqual(m.mape!, 50, accuracy: 1e-12)  // the zero actual is skipped
        XCTAssertEqual(m.smape, 100 * (0 + 1.0 / 3), accuracy: 1e-12)
        XCTAssertNil(m.mase)  // a constant in-sample series has no seasonal-naive error
        XCTAssertNil(try ForecastMetrics(actual: [0], forecast: [1], inSample: [1, 2], season: 1).mape)
        XCTAssertThrowsError(try ForecastMetrics(actual: [1], forecast: [1, 2], inSample: [1, 2], season: 1))
    }

    func testMeanOverOrigins() throws {
        let a = ForecastMetrics(mae: 1, rmse: 2, mape: nil, smape: 4, mase: 1)
        let b = ForecastMetrics(mae: 3, rmse: 4, mape: 10, smape: 6, mase: 3)
        XCTAssertEqual(ForecastMetrics.mean([a, b]), ForecastMetrics(mae: 2, rmse: 3, mape: 10, smape: 5, mase: 2))
    }
}
