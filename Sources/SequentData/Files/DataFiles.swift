import Foundation
import SequentTensor

/// One numeric column of a CSV file with a header row.
public struct TimeSeries: Sendable {
    public let name: String
    public let values: [Double]
    /// What reading did to the column (missing values filled), one sentence each.
    public let notes: [String]

    /// Reads column `column` of the CSV file at `url` (RFC 4180, first row the header; rows
    /// in file order) through `SeriesTable`: missing values (empty, NA, NaN) are
    /// interpolated linearly between their neighbours and counted in `notes`.
    ///
    /// - Throws: `SequentError` naming the file and the problem: missing file, unknown column
    ///   (with the columns it has), a value that is not a number (with its line), a column
    ///   with no value, too few rows.
    public static func load(_ url: URL, column: String) throws -> TimeSeries {
        let csv = try CSVTable.read(url)
        guard csv.header.contains(column) else {
            throw SequentError.invalidArgument("--column", "\(url.path) has no column '\(column)'; its columns are \(csv.header.joined(separator: ", "))")
        }
        let table = try SeriesTable.make(from: csv, timeColumn: nil, columns: [column], missing: .interpolate)
        let values = table.columns[0].values
        guard values.count >= 40 else {
            throw SequentError(.malformedFile, "\(url.path): column '\(column)' has \(values.count) values; the lab needs at least 40")
        }
        return TimeSeries(name: column, values: values, notes: table.notes)
    }
}
