import Foundation
import SequentTensor

/// Sentence pairs for translation (or any sequence-to-sequence text task: a message and its
/// reply): read from two parallel files, line i of one with line i of the other, or from a
/// TSV file of two columns.
///
///     let pairs = try SentencePairs.readParallel(source: URL(fileURLWithPath: "train.de"),
///                                                target: URL(fileURLWithPath: "train.en"))
///
/// Every pair keeps the 1-based line it came from, so later checks (too long, unknown
/// characters) can name it. Lines are taken as they are, less a trailing "\r" (CRLF files)
/// and the surrounding whitespace; an empty side is an error naming the file and line, as is
/// a different number of lines in the two files.
public struct SentencePairs: Sendable, Equatable {
    /// The source sentences.
    public private(set) var sources: [String]
    /// The target sentences, `targets[i]` the translation of `sources[i]`.
    public private(set) var targets: [String]
    /// The 1-based line of each pair in its file(s).
    public private(set) var lines: [Int]
    /// What the pairs were read from, for messages ("a.de + a.en", or the TSV's path).
    public let origin: String

    /// Pairs from arrays of equal length (lines numbered from 1).
    ///
    /// - Throws: `SequentError` for arrays of different lengths or an empty sentence.
    public init(sources: [String], targets: [String], lines: [Int]? = nil, origin: String = "pairs") throws {
        guard sources.count == targets.count else {
            throw SequentError.invalidArgument("SentencePairs", "\(sources.count) sources and \(targets.count) targets")
        }
        let lines = lines ?? Array(stride(from: 1, through: sources.count, by: 1))
        guard lines.count == sources.count else {
            throw SequentError.invalidArgument("SentencePairs", "\(lines.count) line numbers for \(sources.count) pairs")
        }
        for i in sources.indices {
            if sources[i].isEmpty { throw SequentError.malformedFile(origin, "line \(lines[i]): the source sentence is empty") }
            if targets[i].isEmpty { throw SequentError.malformedFile(origin, "line \(lines[i]): the target sentence is empty") }
        }
        self.sources = sources
        self.targets = targets
        self.lines = lines
        self.origin = origin
    }

    /// The number of pairs.
    public var count: Int { sources.count }

    /// The lines of a UTF-8 text without their line ends ("\n" or "\r\n"); a final line
    /// break does not start another line. Nothing else is trimmed.
    static func rawLines(of text: String) -> [String] {
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var scalars = String.UnicodeScalarView(line)
            if scalars.last == "\r" { scalars.removeLast() }
            return String(scalars)
        }
        if text.unicodeScalars.last == "\n" { lines.removeLast() }
        return lines
    }

    /// The lines of a UTF-8 text, each without its line end and surrounding whitespace.
    public static func lines(of text: String) -> [String] {
        rawLines(of: text).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// Reads two parallel files, line i of `source` with line i of `target`.
    ///
    /// - Parameters:
    ///   - sourceFlag, targetFlag: the options that named the files, for messages.
    /// - Throws: `SequentError` naming the file and line: unreadable or not UTF-8, a
    ///   different number of lines, an empty line on either side.
    public static func readParallel(
        source: URL, target: URL, sourceFlag: String = "--source", targetFlag: String = "--target"
    ) throws -> SentencePairs {
        let sourceLines = lines(of: try TextFiles.readFile(source, option: sourceFlag))
        let targetLines = lines(of: try TextFiles.readFile(target, option: targetFlag))
        guard sourceLines.count == targetLines.count else {
            let (longer, longerFlag) = sourceLines.count > targetLines.count ? (source.path, sourceFlag) : (target.path, targetFlag)
            throw SequentError.malformedFile(
                longer, "\(sourceFlag) has \(sourceLines.count) lines but \(targetFlag) has \(targetLines.count); line \(min(sourceLines.count, targetLines.count) + 1) of \(longerFlag) has no partner (the files must be parallel, line i with line i)")
        }
        for (i, line) in sourceLines.enumerated() where line.isEmpty {
            throw SequentError.malformedFile(source.path, "\(sourceFlag) line \(i + 1) is empty; every line must hold a sentence")
        }
        for (i, line) in targetLines.enumerated() where line.isEmpty {
            throw SequentError.malformedFile(target.path, "\(targetFlag) line \(i + 1) is empty; every line must hold a sentence")
        }
        guard !sourceLines.isEmpty else {
            throw SequentError.malformedFile(source.path, "\(sourceFlag) holds no sentences")
        }
        return try SentencePairs(sources: sourceLines, targets: targetLines, lines: Array(1...sourceLines.count),
                                 origin: "\(source.path) + \(target.path)")
    }

    /// Reads a TSV file of two columns, source then target, one pair a line.
    ///
    /// - Parameters:
    ///   - hasHeader: the first line names the columns and is skipped.
    ///   - flag: the option that named the file.
    /// - Throws: `SequentError` naming the file and line: a line without exactly one tab
    ///   (two columns), an empty column, no pairs at all.
    public static func readTSV(_ url: URL, hasHeader: Bool = false, flag: String = "--pairs") throws -> SentencePairs {
        let all = rawLines(of: try TextFiles.readFile(url, option: flag))
        var sources: [String] = [], targets: [String] = [], numbers: [Int] = []
        for (i, line) in all.enumerated() {
            if i == 0 && hasHeader { continue }
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard columns.count == 2 else {
                throw SequentError.malformedFile(url.path, "\(flag) line \(i + 1) has \(columns.count) tab-separated columns; expected 2 (source, target)")
            }
            let source = columns[0].trimmingCharacters(in: .whitespaces), target = columns[1].trimmingCharacters(in: .whitespaces)
            if source.isEmpty { throw SequentError.malformedFile(url.path, "\(flag) line \(i + 1): the source (column 1) is empty") }
            if target.isEmpty { throw SequentError.malformedFile(url.path, "\(flag) line \(i + 1): the target (column 2) is empty") }
            sources.append(source)
            targets.append(target)
            numbers.append(i + 1)
        }
        guard !sources.isEmpty else { throw SequentError.malformedFile(url.path, "\(flag) holds no sentence pairs") }
        return try SentencePairs(sources: sources, targets: targets, lines: numbers, origin: url.path)
    }

    /// The pairs at `indices`, in that order.
    public func subset(_ indices: [Int]) -> SentencePairs {
        var copy = self
        copy.sources = indices.map { sources[$0] }
        copy.targets = indices.map { targets[$0] }
        copy.lines = indices.map { lines[$0] }
        return copy
    }
}
