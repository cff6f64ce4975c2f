@testable import SequentData
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

    func testNelderMeadFindsAQuadraticsMinimum() {
        let p = NelderMead.minimize({ ($0[0] - 0.3) * ($0[0] - 0.3) + 2 * ($0[1] - 0.7) * ($0[1] - 0.7) }, start: [0.5, 0.5], bounds: 0...1, iterations: 500)
        XCTAssertEqual(p[0], 0.3, accuracy: 1e-4)
        XCTAssertEqual(p[1], 0.7, accuracy: 1e-4)
    }
}
