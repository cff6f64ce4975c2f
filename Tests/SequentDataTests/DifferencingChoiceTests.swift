import Foundation
import SequentData
import SequentTensor
import TestSupport
import XCTest

final class DifferencingChoiceTests: XCTestCase {
    func noise(_ count: Int, seed: UInt64) -> [Double] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { _ in Double(generator.nextNormal()) }
    }

    func testSeasonalStrengthSeparatesASeasonFromNoise() throws {
        let e = noise(120, seed: 1)
        let seasonal = (0..<120).map { (t: Int) -> Double in
            let angle: Double = 2 * Double.pi * Double(t) / 12
            return 0.1 * Double(t) + 5 * sin(angle) + 0.3 * e[t]
        }
        XCTAssertGreaterThan(try XCTUnwrap(DifferencingChoice.seasonalStrength(seasonal, season: 12)), 0.9)
        XCTAssertLessThan(try XCTUnwrap(DifferencingChoice.seasonalStrength(e, season: 12)), 0.3)
        // A linear trend is removed by the seasonal difference alone (a constant 1.2 + noise).
        XCTAssertEqual(DifferencingChoice.choose(seasonal, season: 12).differencing, .seasonal)
    }

    /// KPSS: mostly below the 5% critical value 0.463 for white noise, mostly far above it
    /// for a random walk (about 5% of 200-step walks fall below it, so ten of each are drawn).
    func testKPSSRejectsRandomWalks() {
        var noiseRejected = 0, walksRejected = 0
        for seed in UInt64(10)..<20 {
            let e = noise(200, seed: seed)
            var walk: [Double] = []
            var sum = 0.0
            for value in e { sum += value; walk.append(sum) }
            if DifferencingChoice.kpss(e) > 0.463 { noiseRejected += 1 }
            if DifferencingChoice.kpss(walk) > 0.463 { walksRejected += 1 }
        }
        XCTAssertLessThanOrEqual(noiseRejected, 2)
        XCTAssertGreaterThanOrEqual(walksRejected, 8)
        var walk: [Double] = []
        var sum = 0.0
        for _ in 0..<400 { sum += 1; walk.append(sum) }  // a trend: certainly not level-stationary
        XCTAssertEqual(DifferencingChoice.choose(walk, season: 1).differencing, .first)
        XCTAssertEqual(DifferencingChoice.choose(noise(200, seed: 3), season: 12).differencing, .none)
    }

    /// The statistic as statsmodels' `kpss(x, regression="c", nlags=2)` computes it, worked
    /// by hand on a short series: e = x - mean, S = cumsum(e), eta = sum S^2 / (n^2 s^2(2)).
    func testKPSSByHand() {
        let x: [Double] = [1, 3, 2, 5, 4, 6, 5, 8]
        let mean = x.reduce(0, +) / 8
        let e = x.map { $0 - mean }
        var s = 0.0, sum = 0.0
        for v in e { s += v; sum += s * s }
        var longRun = e.map { $0 * $0 }.reduce(0, +) / 8
        for lag in 1...2 { longRun += 2 * (1 - Double(lag) / 3) * (lag..<8).map { e[$0] * e[$0 - lag] }.reduce(0, +) / 8 }
        XCTAssertEqual(DifferencingChoice.kpss(x, lags: 2), sum / (64 * longRun), accuracy: 1e-12)
        // The default lags, forecast's and pmdarima's trunc(3 sqrt(n) / 13): 0 for n = 8, 2 for 96.
        XCTAssertEqual(DifferencingChoice.kpssLags(count: 8), 0)
        XCTAssertEqual(DifferencingChoice.kpssLags(count: 96), 2)
        XCTAssertEqual(DifferencingChoice.kpss(x), sum / (64 * (e.map { $0 * $0 }.reduce(0, +) / 8)), accuracy: 1e-12)
    }

    /// The statistic against statsmodels 0.15's `kpss(x, regression="c", nlags=l)` on noise, a
    /// random walk, a trend and AirPassengers' log seasonal differences 1950-1957
    /// (Tests/Fixtures/make_kpss_fixtures.py).
    func testKPSSMatchesStatsmodels() throws {
        let data = try Data(contentsOf: Fixtures.directory.appendingPathComponent("kpss.json"))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try XCTUnwrap(object["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 16)
        for entry in cases {
            let x = try XCTUnwrap(entry["x"] as? [Double]), lags = try XCTUnwrap(entry["lags"] as? Int)
            let expected = try XCTUnwrap(entry["statistic"] as? Double)
            let name = "\(entry["name"]!), \(lags) lags"
            XCTAssertEqual(DifferencingChoice.kpss(x, lags: lags), expected, accuracy: 1e-10 * max(1, expected), name)
            if lags == entry["default_lags"] as? Int { XCTAssertEqual(DifferencingChoice.kpss(x), expected, accuracy: 1e-10 * max(1, expected), name) }
        }
    }

    /// F_s worked by hand for season 4 on 12 values: the 2 x 4 centred moving average at
    /// t = 2...9, the detrended values, each position's mean (centred), the remainder.
    func testSeasonalStrengthByHand() throws {
        let x: [Double] = [10, 14, 8, 12, 11, 16, 9, 12, 13, 17, 10, 14]
        var detrended: [Int: Double] = [:]
        for t in 2...9 {
            let trend = (x[t - 2] / 2 + x[t - 1] + x[t] + x[t + 1] + x[t + 2] / 2) / 4
            detrended[t] = x[t] - trend
        }
        var means = [Double](repeating: 0, count: 4)
        for q in 0..<4 {
            let values = detrended.filter { $0.key % 4 == q }.map(\.value)
            means[q] = values.reduce(0, +) / Double(values.count)
        }
        let centre = means.reduce(0, +) / 4
        let total = detrended.keys.sorted().map { detrended[$0]! }
        let remainder = detrended.keys.sorted().map { detrended[$0]! - (means[$0 % 4] - centre) }
        func variance(_ v: [Double]) -> Double {
            let mean = v.reduce(0, +) / Double(v.count)
            return v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)
        }
        let expected = max(0, 1 - variance(remainder) / variance(total))
        XCTAssertEqual(try XCTUnwrap(DifferencingChoice.seasonalStrength(x, season: 4)), expected, accuracy: 1e-12)
        XCTAssertGreaterThan(expected, 0.64)  // a strong season of 4: the rule differences it
    }

    /// AutoARIMA's order of decisions: the seasonal difference from F_s, then the first
    /// difference from KPSS on the seasonally differenced series.
    func testRuleDecidesTheSeasonalThenTheFirstDifference() {
        let e = noise(144, seed: 4)
        // A season over stationary noise: seasonal only.
        let stationary = (0..<144).map { 5 * sin(2 * Double.pi * Double($0) / 12) + 0.5 * e[$0] }
        XCTAssertEqual(DifferencingChoice.choose(stationary, season: 12).differencing, .seasonal)
        // A season over a level whose growth is a random walk (its seasonal differences, 12
        // steps of growth, wander as the growth does): both.
        var level = 0.0, growth = 0.0
        let walking = (0..<144).map { t -> Double in
            growth += 0.2 * e[t]
            level += growth
            return 20 * sin(2 * Double.pi * Double(t) / 12) + level
        }
        XCTAssertEqual(DifferencingChoice.choose(walking, season: 12).differencing, .both)
        // AirPassengers' log, 1949-1957 (the training part of the 36-month split): seasonal only
        // (F_s 0.94; KPSS 0.154 < 0.463).
        let air: [Double] = [
            112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114, 140,
            145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166, 171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194,
            196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201, 204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229,
            242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278, 284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271, 306,
            315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336]
        let choice = DifferencingChoice.choose(air.map { Foundation.log($0) }, season: 12)
        XCTAssertEqual(choice.differencing, .seasonal)
        XCTAssertEqual(try XCTUnwrap(choice.kpss), 0.1545, accuracy: 1e-4)
    }
}
