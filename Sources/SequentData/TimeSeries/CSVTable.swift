import Foundation
import SequentTensor

/// A CSV file with a header row, read as RFC 4180 says: fields separated by commas, records
/// by CRLF or LF; a field in double quotes may hold commas, line breaks and doubled quotes
/// (`""` for one `"`). Spaces around unquoted fields are trimmed; blank lines are skipped.
///
///     let table = try CSVTable.read(URL(fileURLWithPath: "airpassengers.csv"))
///     table.header            // ["month", "passengers"]
///     table.rows[0].fields    // ["1949-01", "112.0"]
///     table.rows[0].line      // 2: the file's line where the record starts
public struct CSVTable: Sendable {
    /// One record and the line of the file it starts on (1-based; the header is line 1).
    public struct Row: Sendable, Equatable {
        public var fields: [String]
        public var line: Int
    }

    /// The file's path, for messages.
    public let path: String
    /// The column names, from the first record.
    public let header: [String]
    /// The records after the header, each as wide as the header.
    public let rows: [Row]

    /// Reads and parses the file at `url`.
    ///
    /// - Throws: `SequentError.io` when the file cannot be read; `.malformedFile` naming the
    ///   line when it is not UTF-8, has no header, an unterminated quote, duplicate column
    ///   names, or a record with more or fewer fields than the header.
    ///
    /// - Parameters:
    ///   - delimiter: the field separator: `","` (CSV, the default) or `"\t"` (TSV).
    ///   - flag: the command-line flag that named the file, for messages.
    public static func read(_ url: URL, delimiter: Unicode.Scalar = ",", flag: String = "--csv") throws -> CSVTable {
        let data = try InputFile.read(url, flag: flag)
        guard let text = String(data: data, encoding: .utf8) else {
            throw SequentError.malformedFile(url.path, "is not UTF-8 text")
        }
        return try parse(text, path: url.path, delimiter: delimiter)
    }

    /// Parses `text` as the contents of the file at `path` (named in errors); a leading
    /// byte-order mark (as spreadsheet programs write) is skipped.
    public static func parse(_ text: String, path: String, delimiter: Unicode.Scalar = ",") throws -> CSVTable {
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        var records = try records(of: text, path: path, delimiter: delimiter)
        guard !records.isEmpty else { throw SequentError.malformedFile(path, "the file is empty; expected a header row and data") }
        let header = records.removeFirst().fields
        var seen = Set<String>()
        for name in header {
            guard seen.insert(name).inserted else {
                throw SequentError.malformedFile(path, "line 1: the column name '\(name)' appears twice in the header")
            }
        }
        for record in records where record.fields.count != header.count {
            throw SequentError.malformedFile(
                path, "line \(record.line): \(record.fields.count) fields, but the header has \(header.count) (\(header.joined(separator: delimiter == "," ? "," : " ")))")
        }
        return CSVTable(path: path, header: header, rows: records)
    }

    /// The index of column `name`.
    ///
    /// - Throws: `SequentError.invalidArgument` naming `flag`, the file and its columns.
    public func columnIndex(_ name: String, flag: String) throws -> Int {
        guard let index = header.firstIndex(of: name) else {
            throw SequentError.invalidArgument(
                flag, "\(path) has no column '\(name)'; its columns are \(header.map { "'\($0)'" }.joined(separator: ", "))")
        }
        return index
    }

    /// Splits `text` into records, as a state machine over its characters.
    private static func records(of text: String, path: String, delimiter: Unicode.Scalar) throws -> [Row] {
        var records: [Row] = []
        var fields: [String] = []
        var field = ""
        var quoted = false          // inside a quoted field
        var wasQuoted = false       // the current field was quoted (so it is not trimmed)
        var line = 1
        var recordLine = 1
        var quoteLine = 1
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil

        func endField() {
            fields.append(wasQuoted ? field : field.trimmingCharacters(in: delimiter == "\t" ? .init(charactersIn: " ") : .whitespaces))
            field = ""
            wasQuoted = false
        }
        func endRecord() {
            endField()
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(Row(fields: fields, line: recordLine)) }
            fields = []
        }
        while let scalar = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if scalar == "\"" {
                    let next = iterator.next()
                    if next == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; pending = next }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case delimiter:
                endField()
            case "\r":
                let next = iterator.next()
                if next != "\n" { pending = next }
                endRecord()
                line += 1
                recordLine = line
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            case "\"" where field.trimmingCharacters(in: .whitespaces).isEmpty && !wasQuoted:
                quoted = true
                wasQuoted = true
                quoteLine = line
                field = ""
            default:
                field.unicodeScalars.append(scalar)
            }
        }
        if quoted { throw SequentError.malformedFile(path, "line \(quoteLine): a quoted field is never closed (a \" without its closing \")") }
        if !field.isEmpty || !fields.isEmpty || wasQuoted { endRecord() }
        return records
    }
}
