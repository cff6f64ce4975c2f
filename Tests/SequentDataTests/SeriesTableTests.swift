import SequentData
import SequentTensor
import XCTest

final class SeriesTableTests: XCTestCase {
    func make(_ text: String, missing: MissingValuePolicy = .interpolate, covariates: [String] = []) throws -> SeriesTable {
        try SeriesTable.make(from: CSVTable.parse(text, path: "s.csv"), timeColumn: "t", columns: ["y"], covariates: covariates, missing: missing)
    }

    func testInterpolatesGapsInTimeAndCountsThem() throws {
        let table = try make("t,y\n2020-01-01,1\n2020-01-02,\n2020-01-03,NA\n2020-01-04,4\n2020-01-05,nan\n")
        XCTAssertEqual(table.columns[0].values, [1, 2, 3, 4, 4])
        XCTAssertEqual(table.filledCounts["y"], 3)
        XCTAssertEqual(table.frequency.description, "daily")
        XCTAssertTrue(table.notes.contains("filled 3 missing values in 'y' (--missing interpolate)"), "\(table.notes)")
    }

    func testForwardFillDropAndError() throws {
        let text = "t,y\n1,\n2,5\n3,\n4,7\n"
        XCTAssertEqual(try make(text, missing: .ffill).columns[0].values, [5, 5, 5, 7])
        let dropped = try make(text, missing: .drop)
        XCTAssertEqual(dropped.columns[0].values, [5, 7])
        XCTAssertEqual(dropped.times.map(\.value), [2, 4])
        XCTAssertThrowsError(try make(text, missing: .error)) { error in
            XCTAssertTrue("\(error)".contains("s.csv: line 2: no value in column 'y'"), "\(error)")
        }
    }

    func testTextInANumericColumnNamesFileLineAndValue() {
        XCTAssertThrowsError(try make("t,y\n1,2\n2,abc\n")) { error in
            XCTAssertEqual("\(error)", "s.csv: line 3: 'abc' in column 'y' is not a number")
        }
        XCTAssertThrowsError(try make("t,y,x\n1,2,3\n2,3,oops\n", covariates: ["x"])) { error in
            XCTAssertTrue("\(error)".contains("line 3: 'oops' in column 'x'"), "\(error)")
        }
    }

    func testUnsortedRowsAreSortedWithANoteAndDuplicatesRefused() throws {
        let table = try make("t,y\n2020-03,3\n2020-01,1\n2020-02,2\n")
        XCTAssertEqual(table.columns[0].values, [1, 2, 3])
        XCTAssertTrue(table.notes.first?.contains("sorted by 't'") ?? false, "\(table.notes)")
        XCTAssertThrowsError(try make("t,y\n2020-01,1\n2020-02,2\n2020-02,3\n")) { error in
            XCTAssertTrue("\(error)".contains("lines 3 and 4: the same timestamp '2020-02' twice"), "\(error)")
        }
    }

    func testAllMissingBadTimesAndIrregularSteps() throws {
        XCTAssertThrowsError(try make("t,y\n1,\n2,NA\n")) { error in
            XCTAssertTrue("\(error)".contains("column 'y' has no values at all"), "\(error)")
        }
        XCTAssertThrowsError(try make("t,y\nMonday,1\n")) { error in
            XCTAssertTrue("\(error)".contains("line 2: 'Monday' in the time column 't' is not a date"), "\(error)")
        }
        // A missing month becomes a row, filled like any missing value.
        let gappy = try make("t,y\n2020-01,1\n2020-02,2\n2020-04,4\n2020-05,5\n")
        XCTAssertEqual(gappy.irregularSteps, 0)
        XCTAssertEqual(gappy.times.map { $0.formatted(for: gappy.frequency) }, ["2020-01", "2020-02", "2020-03", "2020-04", "2020-05"])
        XCTAssertEqual(gappy.columns[0].values[2], 2 + 2 * 29 / 60, accuracy: 1e-12, "interpolated by time: 29 of the 60 days from February to April 2020")
        XCTAssertTrue(gappy.notes.contains { $0.contains("inserted 1 row for timestamps missing") }, "\(gappy.notes)")
        XCTAssertTrue(gappy.notes.contains { $0.contains("filled 1 missing value") }, "\(gappy.notes)")
        XCTAssertThrowsError(try make("t,y\n2020-01,1\n2020-02,2\n2020-04,4\n", missing: .error)) { error in
            XCTAssertTrue("\(error)".contains("before line 4: no row for 2020-03 (a gap)"), "\(error)")
        }
        XCTAssertEqual(try make("t,y\n2020-01,1\n2020-02,2\n2020-04,4\n", missing: .drop).count, 3)
        // Timestamps off the grid are reported, not filled.
        let irregular = try make("t,y\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n2020-01-04T12:00,4\n2020-01-05,5\n")
        XCTAssertEqual(irregular.irregularSteps, 2)
        XCTAssertTrue(irregular.notes.contains { $0.contains("2 of 4 steps are not daily") }, "\(irregular.notes)")
    }

    func testCalendarFeaturesAreSinesAndCosinesOfTheCycle() {
        let april = TimeStamp.parse("2021-04-01T06:00")!
        let features = SeriesTable.calendarFeatures([.month, .hour], at: april)
        XCTAssertEqual(features[0], sin(2 * .pi * 3 / 12), accuracy: 1e-12)
        XCTAssertEqual(features[1], cos(2 * .pi * 3 / 12), accuracy: 1e-12)
        XCTAssertEqual(features[2], 1, accuracy: 1e-12)  // 06:00 is a quarter of the day
        XCTAssertEqual(features[3], 0, accuracy: 1e-12)
    }
}
