import Foundation
import SequentTensor
import SequentTrain
import TestSupport
import XCTest

/// Reads the event file PyTorch's `SummaryWriter` wrote (Tests/Fixtures/tensorboard, made by
/// `make_tensorboard_fixtures.py`) and checks that Sequent encodes the same events to the same bytes.
final class TensorBoardEventTests: XCTestCase {
    /// One scalar of `expected.json`.
    struct ExpectedScalar {
        let tag: String
        let step: Int
        let value: Double
        let wallTime: Double
    }

    static let fixtureDirectory = Fixtures.directory.appendingPathComponent("tensorboard")
    static let fixtureFile = fixtureDirectory.appendingPathComponent("events.out.tfevents.1700000000.fixture")

    /// The scalars the fixture was written from, and the wall time of its file-version event.
    static func expected() throws -> (fileVersionWallTime: Double, scalars: [ExpectedScalar]) {
        let url = fixtureDirectory.appendingPathComponent("expected.json")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let events = try XCTUnwrap(object["events"] as? [[Any]])
        let scalars = try events.map { event in
            ExpectedScalar(
                tag: try XCTUnwrap(event[0] as? String), step: try XCTUnwrap(event[1] as? Int),
                value: try XCTUnwrap(event[2] as? Double), wallTime: try XCTUnwrap(event[3] as? Double))
        }
        return (try XCTUnwrap(object["file_version_wall_time"] as? Double), scalars)
    }

    func testReadsTorchFixtureWithVerifiedChecksums() throws {
        let (fileVersionWallTime, scalars) = try Self.expected()
        let events = try TensorBoardEvent.events(inFile: Self.fixtureFile)
        XCTAssertEqual(events.count, 1 + scalars.count)
        XCTAssertEqual(events[0], TensorBoardEvent(
            wallTime: fileVersionWallTime, content: .fileVersion("brain.Event:2"),
            sourceWriter: "tensorboard.summary.writer.event_file_writer"))
        for (event, scalar) in zip(events.dropFirst(), scalars) {
            XCTAssertEqual(event.step, Int64(scalar.step))
            XCTAssertEqual(event.wallTime, scalar.wallTime)
            XCTAssertEqual(event.content, .summary([TensorBoardValue(tag: scalar.tag, simpleValue: Float(scalar.value))]))
            XCTAssertEqual(event.scalars.map(\.tag), [scalar.tag])
        }
    }

    func testReencodingTheFixtureGivesTheSameBytes() throws {
        let original = [UInt8](try Data(contentsOf: Self.fixtureFile))
        let reencoded = try TensorBoardEvent.events(inFile: Self.fixtureFile).flatMap { TFRecord.frame($0.encoded()) }
        XCTAssertEqual(reencoded, original)
    }

    func testWriterProducesTorchsBytesForTheSameScalars() throws {
        let (fileVersionWallTime, scalars) = try Self.expected()
        let directory = try makeTemporaryDirectory()
        let clock = ManualClock(unixTime: fileVersionWallTime)
        let writer = try TensorBoardWriter(logDirectory: directory, hostname: "fixture", clock: clock.metricsClock)
        for scalar in scalars {
            try writer.addScalar(scalar.tag, scalar.value, step: scalar.step, wallTime: scalar.wallTime)
        }
        XCTAssertEqual(writer.fileURL.lastPathComponent, Self.fixtureFile.lastPathComponent)

        let ours = try TFRecord.records(inFile: writer.fileURL)
        let torchs = try TFRecord.records(inFile: Self.fixtureFile)
        XCTAssertEqual(ours.count, torchs.count)
        // Scalar events: byte for byte. The first event differs only in source_metadata.writer.
        XCTAssertEqual(Array(ours.dropFirst()), Array(torchs.dropFirst()))
        var first = try TensorBoardEvent(decoding: ours[0])
        XCTAssertEqual(first.sourceWriter, "sequent.TensorBoardWriter")
        first.sourceWriter = "tensorboard.summary.writer.event_file_writer"
        XCTAssertEqual(first.encoded(), torchs[0])
    }

    func testEncodingOfOneScalarEvent() {
        // wall_time 1.5, step 300 (varint ac 02), Summary { Value { tag "a", simple_value 2.0 } }
        let event = TensorBoardEvent(wallTime: 1.5, step: 300, content: .summary([TensorBoardValue(tag: "a", simpleValue: 2)]))
        let expected: [UInt8] = [0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0x10, 0xAC, 0x02,
                                 0x2A, 0x0A, 0x0A, 0x08, 0x0A, 0x01, 0x61, 0x15, 0, 0, 0, 0x40]
        XCTAssertEqual(event.encoded(), expected)
        XCTAssertEqual(try TensorBoardEvent(decoding: expected), event)
    }

    func testNegativeStepAndSessionStartRoundTrip() throws {
        for event in [
            TensorBoardEvent(wallTime: 2, step: -3, content: .summary([TensorBoardValue(tag: "x", simpleValue: -1)])),
            TensorBoardEvent(wallTime: 3, step: 11, content: .sessionStart),
            TensorBoardEvent(wallTime: 0, step: 0, content: .fileVersion("brain.Event:2"), sourceWriter: ""),
        ] {
            XCTAssertEqual(try TensorBoardEvent(decoding: event.encoded()), event)
        }
        XCTAssertEqual(TensorBoardEvent(wallTime: 2, step: -3, content: .empty).encoded().count, 1 + 8 + 1 + 10)
    }

    func testUnknownFieldsAreSkippedAndTruncatedMessagesRejected() throws {
        // field 15 varint 7, then step 4
        XCTAssertEqual(try TensorBoardEvent(decoding: [0x78, 0x07, 0x10, 0x04]).step, 4)
        XCTAssertThrowsError(try TensorBoardEvent(decoding: [0x2A, 0x05, 0x0A])) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .malformedFile)
        }
    }
}
