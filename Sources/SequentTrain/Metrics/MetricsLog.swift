import Foundation
import SequentTensor

/// The metrics of one training run as a JSON-lines file: one `MetricsRecord` per line,
/// appended and handed to the operating system as each record is logged.
///
///     let log = try MetricsLog(url: runDirectory.appendingPathComponent("metrics.jsonl"))
///     try log.append(step: step, ["loss": Double(loss), "learning_rate": Double(lr)])
///
/// **Crash safety.** Each line goes out in one write and earlier bytes are never rewritten, so a
/// crash leaves at most a partial last line. A line counts only once its newline is written:
/// `read(_:)` skips an unterminated last line, and opening the log again cuts it off before
/// appending, so the next record never lands on a torn line.
///
/// **Resuming.** A run restarted from the checkpoint of step s opens its log with
/// `.resume(fromStep: s)`: the records the crashed run wrote after step s (which the resumed
/// run is about to redo) are cut off, records up to and including s are kept, and `elapsed_s`
/// continues from the last kept record, so time plots have no jump for the downtime
/// (`unix_time` shows it). Steps in a log never decrease (`append` refuses a smaller step), so
/// "after step s" is one tail of the file and cutting it is a single truncate.
public final class MetricsLog {
    /// How to treat a log file that may already exist.
    public enum OpenMode: Equatable, Sendable {
        /// A new run: create the file; fail if a non-empty log exists (so two runs never mix).
        case create
        /// A new run that replaces any existing log.
        case overwrite
        /// Continue an existing log as it is (creating it if missing).
        case append
        /// Continue a run restarted from the checkpoint of `fromStep`: drop records with a
        /// larger step, then append (creating the file if missing).
        case resume(fromStep: Int)
    }

    /// The log file.
    public let url: URL
    /// Records of the previous run dropped on opening with `.resume(fromStep:)`.
    public let droppedRecordCount: Int
    /// Whether an unterminated last line (a crash mid-write) was cut off on opening.
    public let droppedPartialLine: Bool
    /// The step of the last record in the file, nil while it is empty.
    public private(set) var lastStep: Int?

    private let file: AppendOnlyFile
    private let clock: MetricsClock
    /// The clock's monotonic reading when the log was opened.
    private let openedAt: Double
    /// `elapsed_s` of the last record kept from before this opening (0 for a new log).
    private let elapsedOffset: Double

    /// Opens the log at `url` (creating directories as needed).
    ///
    /// - Parameters:
    ///   - url: The `.jsonl` file.
    ///   - mode: What to do with an existing file (see `OpenMode`).
    ///   - clock: Where times come from; tests pass their own.
    /// - Throws: `SequentError` naming the path when the file cannot be created, read or
    ///   written, when `.create` finds an existing log, or when existing lines are malformed.
    public init(url: URL, mode: OpenMode = .create, clock: MetricsClock = .system) throws(SequentError) {
        self.url = url
        self.clock = clock
        var dropped = 0, partial = false
        var kept: MetricsLog.Scan.Line?
        switch mode {
        case .create:
            if let existing = try AppendOnlyFile.contents(of: url), !existing.isEmpty {
                throw SequentError(.io, "\(url.path): a metrics log exists already; open it with .append or "
                    + ".resume(fromStep:) to continue that run, or .overwrite to replace it")
            }
            file = try AppendOnlyFile(url: url)
        case .overwrite:
            file = try AppendOnlyFile(url: url, truncate: true)
        case .append, .resume:
            let bytes = try AppendOnlyFile.contents(of: url) ?? []
            let scan = try MetricsLog.Scan(bytes, path: url.path)
            var keepLength = scan.committedLength
            partial = scan.committedLength < bytes.count
            var lines = scan.lines
            if case .resume(let step) = mode, let cut = lines.firstIndex(where: { $0.record.step > step }) {
                keepLength = lines[cut].offset
                dropped = lines.count - cut
                lines.removeSubrange(cut...)
            }
            kept = lines.last
            file = try AppendOnlyFile(url: url)
            if keepLength < bytes.count { try file.truncate(toLength: keepLength) }
        }
        droppedRecordCount = dropped
        droppedPartialLine = partial
        lastStep = kept?.record.step
        elapsedOffset = kept?.record.elapsedSeconds ?? 0
        openedAt = clock.monotonicSeconds()
    }

    /// Logs `scalars` at `step`, stamped with the elapsed and unix time now.
    ///
    /// - Throws: `SequentError` if `step` is smaller than the last logged step, a scalar name is
    ///   empty or reserved (`step`, `elapsed_s`, `unix_time`), or the write fails.
    public func append(step: Int, _ scalars: [String: Double]) throws(SequentError) {
        let elapsed = elapsedOffset + (clock.monotonicSeconds() - openedAt)
        try append(MetricsRecord(step: step, elapsedSeconds: elapsed, unixTime: clock.unixTime(), scalars: scalars))
    }

    /// Logs a record as given (its times included).
    ///
    /// - Throws: As `append(step:_:)`.
    public func append(_ record: MetricsRecord) throws(SequentError) {
        try record.validate("MetricsLog")
        if let lastStep, record.step < lastStep {
            throw SequentError.invalidArgument(
                "MetricsLog", "step \(record.step) comes after step \(lastStep) in \(url.path); "
                    + "a run restarted from a checkpoint opens its log with .resume(fromStep:)")
        }
        try file.append(record.jsonLine())
        lastStep = record.step
    }

    /// Asks the operating system to put the log on disk (fsync), for records that must survive
    /// a power loss, not just a crash of the program; call it at checkpoints, not every step.
    public func synchronize() throws(SequentError) {
        try file.synchronize()
    }

    /// The complete records of the log at `url`, in file order; an unterminated last line is
    /// skipped.
    ///
    /// - Throws: `SequentError` naming `path:line` for a malformed complete line, or the path
    ///   when the file cannot be read.
    public static func read(_ url: URL) throws(SequentError) -> [MetricsRecord] {
        guard let bytes = try AppendOnlyFile.contents(of: url) else {
            throw SequentError(.io, "\(url.path): no such file")
        }
        return try Scan(bytes, path: url.path).lines.map(\.record)
    }

    /// The parsed lines of a log's bytes and where the complete ones end.
    struct Scan {
        /// A complete line: its record and the byte offset where it starts.
        struct Line {
            let record: MetricsRecord
            let offset: Int
        }

        /// The complete, non-blank lines.
        var lines: [Line] = []
        /// Bytes up to and including the last newline.
        var committedLength = 0

        init(_ bytes: [UInt8], path: String) throws(SequentError) {
            var start = 0, lineNumber = 0
            while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
                lineNumber += 1
                let content = bytes[start..<newline]
                if content.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                    let record = try MetricsRecord(jsonLine: content, location: "\(path):\(lineNumber)")
                    lines.append(Line(record: record, offset: start))
                }
                start = newline + 1
            }
            committedLength = start
        }
    }
}
