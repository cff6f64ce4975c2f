import Foundation
@testable import SequentData
import TestSupport
import XCTest

final class HoltWintersTests: XCTestCase {
    /// A series that is exactly trend plus an additive season is continued exactly.
    func testContinuesAnExactAdditiveSeries() throws {
        let season: [Double] = [1, -1, 2, -2]
        func y(_ t: Int) -> Double { 10 + 0.5 * Double(t) + season[t % 4] }
        let model = try HoltWinters.fit((0..<40).map(y), season: 4)
        XCTAssertEqual(model.seasonality, .additive)
        for (h, value) in model.forecast(8).enumerated() { XCTAssertEqual(value, y(40 + h), accuracy: 0.05) }
    }

    /// A positive series whose season scales with the level is fitted multiplicatively.
    func testPicksTheMultiplicativeSeasonForAGrowingSwing() throws {
        let factors: [Double] = [0.8, 1.1, 1.3, 0.8]
        func y(_ t: Int) -> Double { (20 + 2 * Double(t)) * factors[t % 4] }
        let model = try HoltWinters.fit((0..<48).map(y), season: 4)
        XCTAssertEqual(model.seasonality, .multiplicative)
        for (h, value) in model.forecast(8).enumerated() { XCTAssertEqual(value / y(48 + h), 1, accuracy: 0.02) }
    }

    /// Without a season it is Holt's linear method: a straight line goes on straight.
    func testHoltsLinearMethodContinuesALine() throws {
        let model = try HoltWinters.fit((0..<20).map { 3 + 2 * Double($0) }, season: 1)
        XCTAssertEqual(model.seasonality, .none)
        for (h, value) in model.forecast(5).enumerated() { XCTAssertEqual(value, 3 + 2 * Double(20 + h), accuracy: 1e-6) }
        XCTAssertThrowsError(try HoltWinters.fit([1, 2], season: 1))
    }

    /// The recursions with fixed parameters against statsmodels' `ExponentialSmoothing`
    /// started from the same states (`Tests/Fixtures/make_holt_winters_fixtures.py`; at the
    /// steps h = m, 2m the fixture holds Hyndman's forecast from statsmodels' final states,
    /// since statsmodels 0.15 uses the season before the last update there, its issue #9538).
    func testRecursionsMatchStatsmodels() throws {
        let data = try Data(contentsOf: Fixtures.directory.appendingPathComponent("holt_winters.json"))
        let cases = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        for (name, kind) in [("additive", HoltWinters.Seasonality.additive), ("multiplicative", .multiplicative)] {
            let c = try XCTUnwrap(cases[name])
            let series = try XCTUnwrap(c["series"] as? [Double])
            let expected = try XCTUnwrap(c["forecast"] as? [Double])
            let model = HoltWinters.run(series, m: try XCTUnwrap(c["season"] as? Int), kind: kind,
                                        alpha: try XCTUnwrap(c["alpha"] as? Double), beta: try XCTUnwrap(c["beta"] as? Double),
                                        gamma: try XCTUnwrap(c["gamma"] as? Double))
            for (a, e) in zip(model.forecast(expected.count), expected) { XCTAssertEqual(a, e, accuracy: 1e-9 * abs(e), name) }
            XCTAssertEqual(model.sse, try XCTUnwrap(c["sse"] as? Double), accuracy: 1e-9 * model.sse, name)
        }
    }

    func testNelderMeadFindsAQuadraticsMinimum() {
        let p = NelderMead.minimize({ ($0[0] - 0.3) * ($0[0] - 0.3) + 2 * ($0[1] - 0.7) * ($0[1] - 0.7) }, start: [0.5, 0.5], bounds: 0...1, iterations: 500)
        XCTAssertEqual(p[0], 0.3, accuracy: 1e-4)
        XCTAssertEqual(p[1], 0.7, accuracy: 1e-4)
    }
}
