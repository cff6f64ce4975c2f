import Foundation
import SequentData
import XCTest

/// The rows a forecasting model reads, against hand-computed values: future calendar
/// covariates (the calendar of the step predicted after each row), the year's scaling and the
/// direct strategy's future rows.
final class ForecastWindowTests: XCTestCase {
    /// 2000-01 ... 2000-06 (2000 is a leap year: 31 + 29 + 31 + 30 days from January to May).
    let months = (1...6).map { TimeStamp.parse(String(format: "2000-%02d", $0))! }
    /// The scale of a training part of four months, 2000-01 ... 2000-04 (91 days).
    var yearScale: YearScale { YearScale(fittedOn: months[0..<4])! }

    func month(_ m: Int) -> [Float] {
        [Float(sin(2 * Double.pi * Double(m - 1) / 12)), Float(cos(2 * Double.pi * Double(m - 1) / 12))]
    }

    func rows(_ window: ForecastWindow, end: Int, values: [Double] = [0.1, 0.2, 0.3, 0.4], covariates: [[Double]] = [[5, 6, 7, 8]]) -> [[Float]] {
        var scalars: [Float] = []
        window.append(to: &scalars, values: values, end: end, covariates: covariates, time: { self.months[$0] })
        XCTAssertEqual(scalars.count, window.length * window.featureCount)
        return stride(from: 0, to: scalars.count, by: window.featureCount).map { Array(scalars[$0..<($0 + window.featureCount)]) }
    }

    func assertRows(_ actual: [[Float]], _ expected: [[Float]], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (a, e) in zip(actual, expected) {
            XCTAssertEqual(a.count, e.count, file: file, line: line)
            for (x, y) in zip(a, e) { XCTAssertEqual(x, y, accuracy: 1e-6, "\(a) against \(e)", file: file, line: line) }
        }
    }

    func testTheYearIsTheTimeScaledOverTheTrainingPartAndExtrapolated() {
        XCTAssertEqual(yearScale.scaled(months[0]), 0, accuracy: 1e-12)
        XCTAssertEqual(yearScale.scaled(months[3]), 1, accuracy: 1e-12)
        XCTAssertEqual(yearScale.scaled(months[2]), 60.0 / 91, accuracy: 1e-12)
        XCTAssertEqual(yearScale.scaled(months[5]), 152.0 / 91, accuracy: 1e-12)  // beyond the training part: the same line
        XCTAssertEqual(TimeStamp.parse("1960-07-02")!.years, 1960.5, accuracy: 0.01)
        XCTAssertEqual(TimeStamp(kind: .number, value: 1749.5).years, 1749.5)
        XCTAssertEqual(SeriesTable.calendarFeatures([.year, .month], at: months[2], yearScale: yearScale).count, 3)
        XCTAssertEqual(SeriesTable.calendarFeatures([.year], at: months[2]), [0])  // no scale: 0
    }

    /// Recursive: each row carries its value, its covariate and the calendar of the next
    /// month, so the last row holds the month and year of the step predicted.
    func testEachRowCarriesTheCalendarOfTheStepPredictedAfterIt() {
        let window = ForecastWindow(window: 2, covariateCount: 1, calendar: [.month, .year], calendarAhead: true, yearScale: yearScale)
        XCTAssertEqual(window.featureCount, 1 + 1 + 2 + 1)
        // Forecasting 2000-04 (row 3) from rows 1 and 2.
        assertRows(rows(window, end: 3), [
            [0.2, 6] + month(3) + [Float(60.0 / 91)],
            [0.3, 7] + month(4) + [1],
        ])
        // A step after the data's end (2000-05, from a value the forecast appended): the
        // calendar continues, the covariate is held at its last value.
        assertRows(rows(window, end: 4, values: [0.1, 0.2, 0.3, 0.4, 0.5]), [
            [0.3, 7] + month(4) + [1],
            [0.4, 8] + month(5) + [Float(121.0 / 91)],
        ])
        // Folders written before: each row its own time's calendar.
        let own = ForecastWindow(window: 2, covariateCount: 1, calendar: [.month], calendarAhead: false)
        assertRows(rows(own, end: 3), [[0.2, 6] + month(2), [0.3, 7] + month(3)])
    }

    /// Direct, H = 3: two more rows after the window carry the calendars of the second and
    /// third steps; their values are unknown (0, flagged 0).
    func testADirectModelReadsTheCalendarOfEveryStepOfTheHorizon() {
        let window = ForecastWindow(window: 2, covariateCount: 1, calendar: [.month, .year], calendarAhead: true, futureSteps: 2, yearScale: yearScale)
        XCTAssertEqual(window.length, 4)
        XCTAssertEqual(window.featureCount, 1 + 1 + 1 + 2 + 1)
        assertRows(rows(window, end: 3), [
            [0.2, 1, 6] + month(3) + [Float(60.0 / 91)],
            [0.3, 1, 7] + month(4) + [1],
            [0, 0, 0] + month(5) + [Float(121.0 / 91)],
            [0, 0, 0] + month(6) + [Float(152.0 / 91)],
        ])
    }
}
