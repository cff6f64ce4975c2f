import Foundation
import SequentTensor

/// A text file as character tokens: the vocabulary is the set of characters in the file.
public struct TextCorpus: Sendable {
    public let tokens: [Int]
    public let vocabulary: [Character]

    /// Reads `url` as UTF-8.
    ///
    /// - Throws: `SequentError` (.io) if the file cannot be read, (.malformedFile) if it is
    ///   not UTF-8 or too short to train on.
    public static func load(_ url: URL) throws -> TextCorpus {
        let data = try InputFile.read(url, flag: "--text")
        guard let text = String(data: data, encoding: .utf8) else {
            throw SequentError(.malformedFile, "--text: \(url.path) is not UTF-8 text")
        }
        let characters = Array(text)
        guard characters.count >= 2_000 else {
            throw SequentError(.malformedFile, "--text: \(url.path) has \(characters.count) characters; the lab needs at least 2000")
        }
        let vocabulary = Array(Set(characters)).sorted()
        let index = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($0.element, $0.offset) })
        return TextCorpus(tokens: characters.map { index[$0]! }, vocabulary: vocabulary)
    }
}

/// One numeric column of a CSV file with a header row.
public struct TimeSeries: Sendable {
    public let name: String
    public let values: [Double]

    /// Reads column `column` of the CSV file at `url` (comma-separated, first row the header).
    ///
    /// - Throws: `SequentError` naming the file and the problem: missing file, unknown column
    ///   (with the columns it has), a value that is not a number (with its line), too few rows.
    public static func load(_ url: URL, column: String) throws -> TimeSeries {
        guard let text = String(data: try InputFile.read(url, flag: "--csv"), encoding: .utf8) else {
            throw SequentError(.malformedFile, "--csv: \(url.path) is not UTF-8 text")
        }
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard !lines.isEmpty else { throw SequentError(.malformedFile, "\(url.path): the file is empty") }
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        guard let columnIndex = header.firstIndex(of: column) else {
            throw SequentError.invalidArgument("--column", "\(url.path) has no column '\(column)'; its columns are \(header.joined(separator: ", "))")
        }
        var values: [Double] = []
        for (i, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            let field = columnIndex < fields.count ? fields[columnIndex].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) : ""
            guard let value = Double(field), value.isFinite else {
                throw SequentError(.malformedFile, "\(url.path):\(i + 2): '\(field)' in column '\(column)' is not a number")
            }
            values.append(value)
        }
        guard values.count >= 40 else {
            throw SequentError(.malformedFile, "\(url.path): column '\(column)' has \(values.count) values; the lab needs at least 40")
        }
        return TimeSeries(name: column, values: values)
    }
}
