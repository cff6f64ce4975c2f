import SequentData
import SequentTensor
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
        XCTAssertEqual(DifferencingChoice.choose(seasonal, season: 12).differencing, .both)
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

    /// The statistic as statsmodels' `kpss(x, regression="c", nlags=3)` computes it, worked
    /// by hand on a short series: e = x - mean, S = cumsum(e), eta = sum S^2 / (n^2 s^2(3)).
    func testKPSSByHand() {
        let x: [Double] = [1, 3, 2, 5, 4, 6, 5, 8]  // n = 8: floor(4 (0.08)^(1/4)) = 2 lags
        let mean = x.reduce(0, +) / 8
        let e = x.map { $0 - mean }
        var s = 0.0, sum = 0.0
        for v in e { s += v; sum += s * s }
        var longRun = e.map { $0 * $0 }.reduce(0, +) / 8
        for lag in 1...2 { longRun += 2 * (1 - Double(lag) / 3) * (lag..<8).map { e[$0] * e[$0 - lag] }.reduce(0, +) / 8 }
        XCTAssertEqual(DifferencingChoice.kpss(x), sum / (64 * longRun), accuracy: 1e-12)
    }
}
