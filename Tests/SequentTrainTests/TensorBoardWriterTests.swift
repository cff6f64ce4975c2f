import Foundation
import SequentTensor
import SequentTrain
import XCTest

/// The event files `TensorBoardWriter` makes: names, first events, resumes, errors.
///
/// `testWritesRunsForTensorBoardsReader` also leaves runs for
/// `Tests/Fixtures/check_tensorboard_reads_sequent.py` when `SEQUENT_TENSORBOARD_CHECK_DIR`
/// names a directory:
///
///     SEQUENT_TENSORBOARD_CHECK_DIR=/tmp/tb swift test --filter TensorBoardWriterTests
///     /work/torchvenv/bin/python Tests/Fixtures/check_tensorboard_reads_sequent.py /tmp/tb
final class TensorBoardWriterTests: XCTestCase {
    func testFileNameAndFirstEvent() throws {
        let directory = try makeTemporaryDirectory()
        let clock = ManualClock(unixTime: 1_700_000_123.75)
        let writer = try TensorBoardWriter(logDirectory: directory, hostname: "host/a", clock: clock.metricsClock)
        XCTAssertEqual(writer.fileURL.lastPathComponent, "events.out.tfevents.1700000123.host_a")
        clock.advance(0.5)
        try writer.addScalars(["loss": 2, "learning_rate": 0.1], step: 7)
        let events = try TensorBoardEvent.events(inFile: writer.fileURL)
        XCTAssertEqual(events.count, 3)
        XCTAssertEqual(events[0].content, .fileVersion("brain.Event:2"))
        XCTAssertEqual(events[0].wallTime, 1_700_000_123.75)
        XCTAssertEqual(events[1].scalars.map(\.tag), ["learning_rate"])
        XCTAssertEqual(events[1].scalars.map(\.value), [Float(0.1)])
        XCTAssertEqual(events[2].scalars.map(\.tag), ["loss"])
        XCTAssertEqual(events.dropFirst().map(\.wallTime), [1_700_000_124.25, 1_700_000_124.25])
        XCTAssertEqual(events.dropFirst().map(\.step), [7, 7])
    }

    func testSecondWriterInTheSameSecondGetsItsOwnFile() throws {
        let directory = try makeTemporaryDirectory()
        let clock = ManualClock()
        let first = try TensorBoardWriter(logDirectory: directory, hostname: "h", clock: clock.metricsClock)
        let second = try TensorBoardWriter(logDirectory: directory, hostname: "h", clock: clock.metricsClock)
        XCTAssertEqual(second.fileURL.lastPathComponent, first.fileURL.lastPathComponent + ".1")
    }

    func testEachEventIsInTheFileWhenAddReturns() throws {
        let writer = try TensorBoardWriter(logDirectory: try makeTemporaryDirectory(), clock: ManualClock().metricsClock)
        for step in 1...3 {
            try writer.addScalar("loss", Float(step), step: step)
            XCTAssertEqual(try TensorBoardEvent.events(inFile: writer.fileURL).count, 1 + step)
        }
    }

    func testResumeStartsWithSessionStartAfterTheCheckpointStep() throws {
        let writer = try TensorBoardWriter(
            logDirectory: try makeTemporaryDirectory(), resumingFromStep: 5, clock: ManualClock().metricsClock)
        let events = try TensorBoardEvent.events(inFile: writer.fileURL)
        XCTAssertEqual(events.map(\.content), [.fileVersion("brain.Event:2"), .sessionStart])
        XCTAssertEqual(events[1].step, 6)
    }

    func testEmptyTagIsRejected() throws {
        let writer = try TensorBoardWriter(logDirectory: try makeTemporaryDirectory(), clock: ManualClock().metricsClock)
        XCTAssertThrowsError(try writer.addScalar("", 1.0, step: 0)) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .invalidArgument)
        }
    }

    func testUncreatableDirectoryNamesThePath() throws {
        let directory = try makeUncreatablePath("tensorboard")
        XCTAssertThrowsError(try TensorBoardWriter(logDirectory: directory)) { error in
            let error = error as? SequentError
            XCTAssertEqual(error?.kind, .io)
            XCTAssertTrue(error?.message.hasPrefix(directory.path) ?? false, "\(String(describing: error))")
            XCTAssertTrue(error?.message.hasSuffix("not-a-directory is not a directory)") ?? false, "\(String(describing: error))")
        }
    }

    func testReadOnlyDirectoryNamesThePath() throws {
        try XCTSkipIf(geteuid() == 0, "root writes into read-only directories")
        let directory = try makeTemporaryDirectory().appendingPathComponent("read-only")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o500])
        XCTAssertThrowsError(try TensorBoardWriter(logDirectory: directory)) { error in
            XCTAssertTrue("\(error)".contains(directory.path), "\(error)")
        }
    }

    /// Two runs for TensorBoard's EventAccumulator, each with the `expected.json` it should read:
    /// the fixture's scalars, and a run restarted from step 5 whose redone steps replace the old ones.
    func testWritesRunsForTensorBoardsReader() throws {
        let root: URL
        if let path = ProcessInfo.processInfo.environment["SEQUENT_TENSORBOARD_CHECK_DIR"] {
            root = URL(fileURLWithPath: path)
        } else {
            root = try makeTemporaryDirectory()
        }

        let scalarsRun = root.appendingPathComponent("sequent_scalars")
        try? FileManager.default.removeItem(at: scalarsRun)
        let (fileVersionWallTime, scalars) = try TensorBoardEventTests.expected()
        let writer = try TensorBoardWriter(
            logDirectory: scalarsRun, clock: ManualClock(unixTime: fileVersionWallTime).metricsClock)
        for scalar in scalars {
            try writer.addScalar(scalar.tag, scalar.value, step: scalar.step, wallTime: scalar.wallTime)
        }
        try FileManager.default.copyItem(
            at: TensorBoardEventTests.fixtureDirectory.appendingPathComponent("expected.json"),
            to: scalarsRun.appendingPathComponent("expected.json"))

        let resumedRun = root.appendingPathComponent("sequent_resumed")
        try? FileManager.default.removeItem(at: resumedRun)
        let clock = ManualClock()
        let crashed = try TensorBoardWriter(logDirectory: resumedRun, clock: clock.metricsClock)
        for step in 1...10 {
            clock.advance(1)
            try crashed.addScalars(["loss": Double(step), "learning_rate": 0.5], step: step)
        }
        clock.advance(600)
        let resumed = try TensorBoardWriter(logDirectory: resumedRun, resumingFromStep: 5, clock: clock.metricsClock)
        for step in 6...8 {
            clock.advance(1)
            try resumed.addScalars(["loss": Double(100 + step), "learning_rate": 0.25], step: step)
        }
        let expected: [String: Any] = [
            "scalars": [
                "loss": (1...5).map { [$0, Double($0)] } + (6...8).map { [$0, Double(100 + $0)] },
                "learning_rate": (1...5).map { [$0, 0.5] } + (6...8).map { [$0, 0.25] },
            ],
        ]
        try JSONSerialization.data(withJSONObject: expected, options: [.sortedKeys])
            .write(to: resumedRun.appendingPathComponent("expected.json"))

        let files = try FileManager.default.contentsOfDirectory(atPath: resumedRun.path).filter { $0.contains("tfevents") }
        XCTAssertEqual(files.count, 2)
    }
}
