import Foundation
import SequentData
import XCTest

final class DataFilesTests: XCTestCase {
    /// The lab's series reader fills gaps (as a real weekly series has) instead of stopping.
    func testTimeSeriesInterpolatesGaps() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gaps-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: url) }
        var lines = ["week,co2"]
        for i in 0..<50 { lines.append("2000-01-\(String(format: "%02d", i % 28 + 1)),\(i == 7 ? "" : String(300 + i))") }
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        let series = try TimeSeries.load(url, column: "co2")
        XCTAssertEqual(series.values.count, 50)
        XCTAssertEqual(series.values[7], 307, accuracy: 1e-12)
        XCTAssertEqual(series.notes, ["filled 1 missing value in 'co2' (--missing interpolate)"])
        XCTAssertThrowsError(try TimeSeries.load(url, column: "CO2")) { error in
            XCTAssertTrue("\(error)".contains("has no column 'CO2'; its columns are week, co2"), "\(error)")
        }
    }
}
