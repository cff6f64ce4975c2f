import SequentData
import XCTest

final class SeriesTransformTests: XCTestCase {
    let y: [Double] = (0..<30).map { (t: Int) -> Double in
        let factors: [Double] = [1.0, 1.2, 0.9, 1.1]
        return 100 * (1 + 0.02 * Double(t)) * factors[t % 4]
    }

    /// forward then inverse gives the series back, for every transform.
    func testInverseUndoesForward() throws {
        for logarithm in [false, true] {
            for differencing in SeriesTransform.Differencing.allCases {
                let transform = try SeriesTransform(fittedOn: Array(y[0..<20]), logarithm: logarithm, differencing: differencing, season: 4, column: "y")
                let u = transform.forward(y)  // u[i] is time i + lag
                let back = transform.inverse(Array(u[(20 - transform.lag)...]), history: Array(y[0..<20]))
                for (a, b) in zip(back, y[20...]) { XCTAssertEqual(a, b, accuracy: 1e-9 * b, "\(logarithm) \(differencing)") }
            }
        }
    }

    /// The scaling sees the training part only; a level series is centred, a differenced one
    /// only scaled (its drift is left to the model).
    func testScalingIsFittedOnTheTrainingPartOnly() throws {
        let training = Array(y[0..<20])
        let levels = try SeriesTransform(fittedOn: training, logarithm: true, differencing: .none, season: 4, column: "y")
        let z = training.map { log($0) }
        let mean = z.reduce(0, +) / 20
        XCTAssertEqual(levels.mean, mean, accuracy: 1e-12)
        XCTAssertEqual(levels.scale, (z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 20).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(levels.forward(training).reduce(0, +) / 20, 0, accuracy: 1e-9)

        let seasonal = try SeriesTransform(fittedOn: training, logarithm: true, differencing: .seasonal, season: 4, column: "y")
        let d = (4..<20).map { log(y[$0]) - log(y[$0 - 4]) }
        XCTAssertEqual(seasonal.mean, 0)
        XCTAssertEqual(seasonal.scale, (d.map { $0 * $0 }.reduce(0, +) / 16).squareRoot(), accuracy: 1e-12)
        // Box and Jenkins' double difference of a log series: (z_t - z_{t-4}) - (z_{t-1} - z_{t-5}).
        let both = try SeriesTransform(fittedOn: training, logarithm: true, differencing: .both, season: 4, column: "y")
        XCTAssertEqual(both.lag, 5)
        XCTAssertEqual(both.forward(training)[0] * both.scale, d[1] - d[0], accuracy: 1e-12)
    }

    func testLogOfANonPositiveValueIsRefused() {
        XCTAssertThrowsError(try SeriesTransform(fittedOn: [1, 0, 2, 3], logarithm: true, differencing: .none, season: 1, column: "sunspots")) { error in
            XCTAssertTrue("\(error)".contains("column 'sunspots' has the value 0.0 at row 2"), "\(error)")
        }
        XCTAssertThrowsError(try SeriesTransform(fittedOn: [1, 2, 3], logarithm: false, differencing: .seasonal, season: 4, column: "y"))
    }

    /// The offsets from the naive continuation are sums of the model's values (u_{n+1} + ...
    /// + u_{n+h} with first differences, u_{n+h} + u_{n+h-m} + ... with seasonal ones), and
    /// fromOffsets undoes them for every differencing.
    func testOffsetsAreSumsOfTheModelsValuesAndInvert() throws {
        let y = (0..<40).map { 50 + Double($0) + 8 * sin(Double($0)) }
        let history = Array(y[0..<30]), actual = Array(y[30..<40])
        for differencing in SeriesTransform.Differencing.allCases {
            for logarithm in [false, true] {
                let transform = try SeriesTransform(fittedOn: history, logarithm: logarithm, differencing: differencing, season: 4, column: "y")
                let v = transform.offsets(actual, history: history)
                let back = transform.fromOffsets(v, history: history)
                for (a, b) in zip(actual, back) { XCTAssertEqual(a, b, accuracy: 1e-9, "\(differencing), log \(logarithm)") }
                let u = Array(transform.forward(y).suffix(10))  // the model's values at times 30...39
                let expected: [Double] = (0..<10).map { h in
                    switch differencing {
                    case .none: return u[h]
                    case .first: return u[0...h].reduce(0, +)
                    case .seasonal: return stride(from: h, through: 0, by: -4).map { u[$0] }.reduce(0, +)
                    case .both: return (0...h).map { j in stride(from: j, through: 0, by: -4).map { u[$0] }.reduce(0, +) }.reduce(0, +)
                    }
                }
                for (a, b) in zip(v, expected) { XCTAssertEqual(a, b, accuracy: 1e-9, "\(differencing), log \(logarithm)") }
            }
        }
    }
}
