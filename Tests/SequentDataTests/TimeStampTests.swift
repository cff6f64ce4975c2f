import SequentData
import XCTest

final class TimeStampTests: XCTestCase {
    func testParsesDatesDateTimesAndNumbers() throws {
        let day = 86_400.0
        XCTAssertEqual(TimeStamp.parse("1970-01-02"), TimeStamp(kind: .date, value: day))
        XCTAssertEqual(TimeStamp.parse("19700102"), TimeStamp(kind: .date, value: day))
        XCTAssertEqual(TimeStamp.parse("1970/01/02"), TimeStamp(kind: .date, value: day))
        XCTAssertEqual(TimeStamp.parse("1970-02"), TimeStamp(kind: .date, value: 31 * day))
        XCTAssertEqual(TimeStamp.parse("1970-01-01T01:30"), TimeStamp(kind: .date, value: 5400))
        XCTAssertEqual(TimeStamp.parse("1970-01-01 01:30:15Z"), TimeStamp(kind: .date, value: 5415))
        XCTAssertEqual(TimeStamp.parse("1970-01-01T02:00:00+01:00"), TimeStamp(kind: .date, value: 3600))
        XCTAssertEqual(TimeStamp.parse("1749.5"), TimeStamp(kind: .number, value: 1749.5))
        XCTAssertNil(TimeStamp.parse("1970-13"))
        XCTAssertNil(TimeStamp.parse("1970-02-30"))
        XCTAssertNil(TimeStamp.parse("January"))
        XCTAssertNil(TimeStamp.parse(""))
    }

    func testInfersTheFrequency() {
        func times(_ texts: [String]) -> [TimeStamp] { texts.map { TimeStamp.parse($0)! } }
        XCTAssertEqual(Frequency.infer(from: times(["1949-01", "1949-02", "1949-03", "1949-05"])).description, "monthly")
        XCTAssertEqual(Frequency.infer(from: times(["2000-01-31", "2000-04-30", "2000-07-31"])), Frequency(unit: .day, multiple: 90))  // month ends: not whole calendar months; the most common step (the shorter of a tie)
        XCTAssertEqual(Frequency.infer(from: times(["2000-01-01", "2000-04-01", "2000-07-01"])).description, "quarterly")
        XCTAssertEqual(Frequency.infer(from: times(["2000-01-01", "2001-01-01", "2002-01-01"])).description, "yearly")
        XCTAssertEqual(Frequency.infer(from: times(["2024-03-01", "2024-03-08", "2024-03-15"])).description, "weekly")
        XCTAssertEqual(Frequency.infer(from: times(["2024-03-01", "2024-03-02", "2024-03-03"])).description, "daily")
        XCTAssertEqual(Frequency.infer(from: times(["2024-03-01T00:00", "2024-03-01T01:00", "2024-03-01T02:00"])).description, "hourly")
        XCTAssertEqual(Frequency.infer(from: times(["1", "2", "3"])).description, "a step of 1 (numeric time column)")
        XCTAssertEqual(Frequency(unit: .month, multiple: 1).typicalSeason, 12)
        XCTAssertEqual(Frequency(unit: .day, multiple: 1).typicalSeason, 7)
    }

    func testAdvancesByCalendarStepsAndFormats() {
        let monthly = Frequency(unit: .month, multiple: 1)
        let december = TimeStamp.parse("1960-12")!
        XCTAssertEqual(monthly.advance(december).formatted(for: monthly), "1961-01")
        XCTAssertEqual(monthly.advance(december, by: 14).formatted(for: monthly), "1962-02")
        let hourly = Frequency(unit: .hour, multiple: 1)
        XCTAssertEqual(hourly.advance(TimeStamp.parse("2024-03-01T23:00")!).formatted(for: hourly), "2024-03-02T00:00:00Z")
        XCTAssertEqual(TimeStamp.parse("2024-03-02")!.formatted(for: Frequency(unit: .day, multiple: 1)), "2024-03-02")
        XCTAssertEqual(hourly.advance(TimeStamp.parse("2024-03-02T00:00")!).formatted(for: hourly), "2024-03-02T01:00:00Z")
    }
}
