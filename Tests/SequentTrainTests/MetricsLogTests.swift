import Foundation
import SequentTensor
import SequentTrain
import XCTest

/// The JSON-lines metrics log: line format, appends, crash leftovers, resumes and errors.
final class MetricsLogTests: XCTestCase {
    private func logURL() throws -> URL {
        try makeTemporaryDirectory().appendingPathComponent("run").appendingPathComponent("metrics.jsonl")
    }

    private func text(_ url: URL) throws -> String {
        String(decoding: try Data(contentsOf: url), as: UTF8.self)
    }

    private func append(_ text: String, to url: URL) throws {
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    func testLineFormat() throws {
        let url = try logURL()
        let clock = ManualClock(monotonicSeconds: 100, unixTime: 1_700_000_000)
        let log = try MetricsLog(url: url, clock: clock.metricsClock)
        clock.advance(1.5)
        try log.append(step: 10, ["loss": 2.5, "learning_rate": 0.001, "tokens_per_s": 12000])
        XCTAssertEqual(
            try text(url),
            #"{"step":10,"elapsed_s":1.5,"unix_time":1700000001.5,"learning_rate":0.001,"loss":2.5,"tokens_per_s":12000.0}"# + "\n")
    }

    func testRoundTripWithNonFiniteValuesAndEscapedNames() throws {
        let url = try logURL()
        let clock = ManualClock()
        let log = try MetricsLog(url: url, clock: clock.metricsClock)
        let scalars: [String: Double] = [
            "loss": .nan, "grad_norm": .infinity, "min": -.infinity, "eval/accuracy": 0.1 + 0.2,
            "quote\"back\\slash\ttab": -1e-300, "ünïcode ✓": 6.02e23,
        ]
        try log.append(step: 0, scalars)
        clock.advance(0.25)
        try log.append(step: 1, ["loss": 1])
        let records = try MetricsLog.read(url)
        XCTAssertEqual(records.count, 2)
        XCTAssertEqual(Set(records[0].scalars.keys), Set(scalars.keys))
        for (name, value) in scalars where !value.isNaN {
            XCTAssertEqual(records[0].scalars[name], value, name)
        }
        XCTAssertTrue(records[0].scalars["loss"]!.isNaN)
        XCTAssertEqual(records[1], MetricsRecord(step: 1, elapsedSeconds: 0.25, unixTime: 1_700_000_000.25, scalars: ["loss": 1]))
        XCTAssertTrue(try text(url).contains(#""grad_norm":Infinity"#))
        XCTAssertTrue(try text(url).contains(#""loss":NaN"#))
    }

    func testReadsLinesOfOtherWritersIgnoringNonNumbers() throws {
        let url = try makeTemporaryDirectory().appendingPathComponent("other.jsonl")
        try Data(#"""
        { "step": 3, "elapsed_s": 1e1, "unix_time": 5, "phase": "eval", "ok": true, "note": null, "x": -2.5E-3 }

        {"step":4.0,"elapsed_s":11,"unix_time":6,"name\u00e9\n":1}

        """#.utf8).write(to: url)
        let records = try MetricsLog.read(url)
        XCTAssertEqual(records, [
            MetricsRecord(step: 3, elapsedSeconds: 10, unixTime: 5, scalars: ["x": -0.0025]),
            MetricsRecord(step: 4, elapsedSeconds: 11, unixTime: 6, scalars: ["nameé\n": 1]),
        ])
    }

    func testEachRecordIsInTheFileWhenAppendReturns() throws {
        let url = try logURL()
        let log = try MetricsLog(url: url, clock: ManualClock().metricsClock)
        for step in 0..<3 {
            try log.append(step: step, ["loss": Double(step)])
            XCTAssertEqual(try MetricsLog.read(url).count, step + 1)
        }
        XCTAssertEqual(log.lastStep, 2)
    }

    func testPartialLastLineIsSkippedAndCutBeforeAppending() throws {
        let url = try logURL()
        let clock = ManualClock()
        do {
            let log = try MetricsLog(url: url, clock: clock.metricsClock)
            try log.append(step: 1, ["loss": 3])
            try log.append(step: 2, ["loss": 2])
        }
        let committed = try text(url)
        try append(#"{"step":3,"elapsed_s":0.5,"unix_t"#, to: url)  // a crash mid-write
        XCTAssertEqual(try MetricsLog.read(url).map(\.step), [1, 2])

        // Even a complete object without its newline is not committed.
        try Data((committed + #"{"step":3,"elapsed_s":1,"unix_time":2,"loss":1}"#).utf8).write(to: url)
        XCTAssertEqual(try MetricsLog.read(url).map(\.step), [1, 2])

        let reopened = try MetricsLog(url: url, mode: .append, clock: clock.metricsClock)
        XCTAssertTrue(reopened.droppedPartialLine)
        XCTAssertEqual(reopened.droppedRecordCount, 0)
        XCTAssertEqual(try text(url), committed)
        try reopened.append(step: 3, ["loss": 1])
        XCTAssertEqual(try MetricsLog.read(url).map(\.step), [1, 2, 3])
        XCTAssertTrue(try text(url).hasPrefix(committed))
    }

    func testResumeDropsRecordsAfterTheCheckpointStepAndContinuesElapsedTime() throws {
        let url = try logURL()
        let clock = ManualClock()
        do {
            let log = try MetricsLog(url: url, clock: clock.metricsClock)
            for step in 0...10 {
                clock.advance(2)
                try log.append(step: step, ["loss": Double(10 - step)])
                if step == 5 { try log.append(step: 5, ["eval/loss": 4.5]) }
            }
        }
        let before = try MetricsLog.read(url)
        XCTAssertEqual(before.count, 12)
        clock.advance(1000)  // downtime

        let log = try MetricsLog(url: url, mode: .resume(fromStep: 5), clock: clock.metricsClock)
        XCTAssertEqual(log.droppedRecordCount, 5)
        XCTAssertFalse(log.droppedPartialLine)
        XCTAssertEqual(log.lastStep, 5)
        XCTAssertEqual(try MetricsLog.read(url), Array(before[..<7]))

        clock.advance(2)
        try log.append(step: 6, ["loss": 4])
        let after = try MetricsLog.read(url)
        XCTAssertEqual(after.map(\.step), [0, 1, 2, 3, 4, 5, 5, 6])
        XCTAssertEqual(after.last?.elapsedSeconds, 12 + 2)  // step 5 was logged at 12 s
        XCTAssertEqual(after.last?.unixTime, 1_700_000_000 + 22 + 1000 + 2)
    }

    func testResumeOfAMissingLogCreatesIt() throws {
        let url = try logURL()
        let log = try MetricsLog(url: url, mode: .resume(fromStep: 40), clock: ManualClock().metricsClock)
        XCTAssertNil(log.lastStep)
        try log.append(step: 41, ["loss": 1])
        XCTAssertEqual(try MetricsLog.read(url).map(\.step), [41])
    }

    func testCreateRefusesAnExistingLogAndOverwriteReplacesIt() throws {
        let url = try logURL()
        try MetricsLog(url: url, clock: ManualClock().metricsClock).append(step: 1, ["loss": 1])
        XCTAssertThrowsError(try MetricsLog(url: url)) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .io)
            XCTAssertTrue("\(error)".contains(url.path), "\(error)")
            XCTAssertTrue("\(error)".contains(".resume(fromStep:)"), "\(error)")
        }
        let log = try MetricsLog(url: url, mode: .overwrite, clock: ManualClock().metricsClock)
        XCTAssertEqual(try MetricsLog.read(url), [])
        try log.append(step: 0, ["loss": 2])
        XCTAssertEqual(try MetricsLog.read(url).map(\.step), [0])
    }

    func testStepsMustNotDecrease() throws {
        let url = try logURL()
        let log = try MetricsLog(url: url, clock: ManualClock().metricsClock)
        try log.append(step: 10, ["loss": 1])
        try log.append(step: 10, ["eval/loss": 1])
        XCTAssertThrowsError(try log.append(step: 9, ["loss": 1])) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .invalidArgument)
            XCTAssertTrue("\(error)".contains("step 9 comes after step 10"), "\(error)")
        }
        let reopened = try MetricsLog(url: url, mode: .append, clock: ManualClock().metricsClock)
        XCTAssertThrowsError(try reopened.append(step: 3, ["loss": 1]))
        XCTAssertEqual(try MetricsLog.read(url).count, 2)
    }

    func testReservedAndEmptyNamesAreRejected() throws {
        let log = try MetricsLog(url: try logURL(), clock: ManualClock().metricsClock)
        for name in ["step", "elapsed_s", "unix_time", ""] {
            XCTAssertThrowsError(try log.append(step: 0, [name: 1]), name) { error in
                XCTAssertEqual((error as? SequentError)?.kind, .invalidArgument)
            }
        }
        XCTAssertNil(log.lastStep)
    }

    func testMalformedCompleteLineNamesPathAndLine() throws {
        let url = try makeTemporaryDirectory().appendingPathComponent("bad.jsonl")
        try Data("""
        {"step":1,"elapsed_s":0,"unix_time":0}
        {"step":2,"elapsed_s":0,"unix_time":0,,}
        {"step":3,"elapsed_s":0,"unix_time":0}

        """.utf8).write(to: url)
        XCTAssertThrowsError(try MetricsLog.read(url)) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .malformedFile)
            XCTAssertTrue("\(error)".hasPrefix("\(url.path):2: "), "\(error)")
        }
        XCTAssertThrowsError(try MetricsLog(url: url, mode: .append))
        for (line, detail) in [
            (#"{"elapsed_s":0,"unix_time":0}"#, "no \"step\""),
            (#"{"step":1.5,"elapsed_s":0,"unix_time":0}"#, "not an integer"),
            (#"{"step":1,"elapsed_s":0,"unix_time":0,"x":[1]}"#, "nested"),
            (#"{"step":1,"step":2,"elapsed_s":0,"unix_time":0}"#, "twice"),
            (#"{"step":1,"elapsed_s":0,"unix_time":0} x"#, "after the object"),
        ] {
            try Data((line + "\n").utf8).write(to: url)
            XCTAssertThrowsError(try MetricsLog.read(url), line) { error in
                XCTAssertTrue("\(error)".contains(detail), "\(error)")
            }
        }
    }

    func testUncreatableDirectoryNamesThePath() throws {
        let url = try makeUncreatablePath("metrics.jsonl")
        XCTAssertThrowsError(try MetricsLog(url: url)) { error in
            let error = error as? SequentError
            XCTAssertEqual(error?.kind, .io)
            XCTAssertTrue(error?.message.hasPrefix(url.deletingLastPathComponent().path) ?? false, "\(String(describing: error))")
            XCTAssertTrue(error?.message.hasSuffix("not-a-directory is not a directory)") ?? false, "\(String(describing: error))")
        }
    }

    func testReadOnlyDirectoryNamesThePath() throws {
        try XCTSkipIf(geteuid() == 0, "root writes into read-only directories")
        let directory = try makeTemporaryDirectory().appendingPathComponent("read-only")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o500])
        let url = directory.appendingPathComponent("metrics.jsonl")
        XCTAssertThrowsError(try MetricsLog(url: url)) { error in
            XCTAssertTrue("\(error)".contains(url.path), "\(error)")
        }
    }

    func testReadingAMissingFileNamesThePath() {
        let url = URL(fileURLWithPath: "/nonexistent-sequent/metrics.jsonl")
        XCTAssertThrowsError(try MetricsLog.read(url)) { error in
            XCTAssertEqual((error as? SequentError)?.message, "\(url.path): no such file")
        }
    }
}
