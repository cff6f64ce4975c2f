import Foundation
import SequentTensor

/// Writes scalars to a TensorBoard event file, one record per scalar, each handed to the
/// operating system as it is added.
///
///     let board = try TensorBoardWriter(logDirectory: runDirectory)
///     try board.addScalar("loss", loss, step: step)
///     // tensorboard --logdir <runDirectory>
///
/// The file is `<logDirectory>/events.out.tfevents.<unix time, 10 digits>.<hostname>` (with
/// `.1`, `.2`, ... appended if that name exists). Its first event holds the file version
/// `brain.Event:2`; records use the TFRecord framing (`TFRecord`) and events the encoding of
/// `TensorBoardEvent`, the same bytes as TensorBoard's own Python writer for the same scalars.
///
/// **Resuming.** A run restarted from the checkpoint of step s writes a new file in the same
/// directory and passes `resumingFromStep: s`. That file starts with a `SessionLog` START event
/// at step s + 1, on which TensorBoard's Python reader (`EventAccumulator`) drops the older
/// events with steps > s, so the redone steps are not shown twice. (TensorBoard's Rust data
/// server needs no marker: it drops a series' points at and after any step that goes back.)
public final class TensorBoardWriter {
    /// The event file being written.
    public let fileURL: URL

    private let file: AppendOnlyFile
    private let clock: MetricsClock

    /// Creates a new event file in `logDirectory` (creating the directory as needed).
    ///
    /// - Parameters:
    ///   - logDirectory: The run's directory, the one to give `tensorboard --logdir` (or a
    ///     subdirectory of it).
    ///   - resumingFromStep: The checkpoint step a restarted run continues from (see above).
    ///   - hostname: The host part of the file name.
    ///   - clock: Where wall times come from; tests pass their own.
    /// - Throws: `SequentError` naming the path when the directory or file cannot be created.
    public init(
        logDirectory: URL, resumingFromStep: Int? = nil,
        hostname: String = ProcessInfo.processInfo.hostName, clock: MetricsClock = .system
    ) throws(SequentError) {
        self.clock = clock
        let now = clock.unixTime()
        let host = hostname.isEmpty ? "localhost" : hostname.replacingOccurrences(of: "/", with: "_")
        let baseName = "events.out.tfevents.\(TensorBoardWriter.tenDigits(Int64(now.rounded(.down)))).\(host)"
        var url = logDirectory.appendingPathComponent(baseName)
        var attempt = 0
        while FileManager.default.fileExists(atPath: url.path) {
            attempt += 1
            url = logDirectory.appendingPathComponent("\(baseName).\(attempt)")
        }
        fileURL = url
        file = try AppendOnlyFile(url: url, exclusive: true)
        try write(TensorBoardEvent(
            wallTime: now, content: .fileVersion(TensorBoardEvent.currentFileVersion), sourceWriter: "sequent.TensorBoardWriter"))
        if let resumingFromStep {
            try write(TensorBoardEvent(wallTime: now, step: Int64(resumingFromStep) + 1, content: .sessionStart))
        }
    }

    /// Adds one scalar at `step` (stored as a 32-bit float, as TensorBoard stores scalars).
    ///
    /// - Parameters:
    ///   - tag: The series name; slashes group series (`eval/loss`).
    ///   - wallTime: Seconds since 1970; the clock's time now when nil.
    /// - Throws: `SequentError` for an empty tag or a failed write.
    public func addScalar<Value: BinaryFloatingPoint>(
        _ tag: String, _ value: Value, step: Int, wallTime: Double? = nil
    ) throws(SequentError) {
        guard !tag.isEmpty else { throw SequentError.invalidArgument("TensorBoardWriter", "a scalar has an empty tag") }
        try write(TensorBoardEvent(
            wallTime: wallTime ?? clock.unixTime(), step: Int64(step),
            content: .summary([TensorBoardValue(tag: tag, simpleValue: Float(value))])))
    }

    /// Adds each of `scalars` at `step`, in tag order, all with the same wall time (one event
    /// each, as `addScalar` writes them).
    ///
    /// - Throws: As `addScalar`.
    public func addScalars(_ scalars: [String: Double], step: Int, wallTime: Double? = nil) throws(SequentError) {
        let time = wallTime ?? clock.unixTime()
        for tag in scalars.keys.sorted() {
            try addScalar(tag, scalars[tag]!, step: step, wallTime: time)
        }
    }

    /// Appends `event` as one record.
    public func write(_ event: TensorBoardEvent) throws(SequentError) {
        try file.append(TFRecord.frame(event.encoded()))
    }

    /// Asks the operating system to put the file on disk (fsync).
    public func synchronize() throws(SequentError) {
        try file.synchronize()
    }

    /// `value` with leading zeros to 10 digits, as TensorBoard names its files.
    private static func tenDigits(_ value: Int64) -> String {
        let digits = String(value)
        return digits.count >= 10 ? digits : String(repeating: "0", count: 10 - digits.count) + digits
    }
}
