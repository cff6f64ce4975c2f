import Foundation
import SequentTensor
import SequentTrain
import XCTest

/// The TFRecord framing: layout, round trip, checksum errors and a cut-short last record.
final class TFRecordTests: XCTestCase {
    func testFrameLayout() {
        let data = Array("hello".utf8)
        let record = TFRecord.frame(data)
        XCTAssertEqual(record.count, data.count + TFRecord.overhead)
        XCTAssertEqual(Array(record[0..<8]), [5, 0, 0, 0, 0, 0, 0, 0])
        let lengthCRC = CRC32C.maskedChecksum(record[0..<8])
        XCTAssertEqual(Array(record[8..<12]), (0..<4).map { UInt8(truncatingIfNeeded: lengthCRC >> (8 * $0)) })
        XCTAssertEqual(Array(record[12..<17]), data)
        let dataCRC = CRC32C.maskedChecksum(data)
        XCTAssertEqual(Array(record[17..<21]), (0..<4).map { UInt8(truncatingIfNeeded: dataCRC >> (8 * $0)) })
    }

    func testRoundTripIncludingEmptyAndLargeRecords() throws {
        let payloads: [[UInt8]] = [[], [0], Array("event".utf8), (0..<70_000).map { UInt8(truncatingIfNeeded: $0 * 31) }]
        let bytes = payloads.flatMap(TFRecord.frame)
        XCTAssertEqual(try TFRecord.records(in: bytes, source: "memory"), payloads)
    }

    func testCutShortLastRecordIsLeftOut() throws {
        let payloads: [[UInt8]] = [Array("one".utf8), Array("two".utf8), Array("three".utf8)]
        let bytes = payloads.flatMap(TFRecord.frame)
        let lastStart = bytes.count - TFRecord.frame(payloads[2]).count
        for cut in [1, 4, 9, 12, 15] {
            let records = try TFRecord.records(in: Array(bytes[..<(lastStart + cut)]), source: "memory")
            XCTAssertEqual(records, Array(payloads[..<2]), "cut after \(cut) bytes of the last record")
        }
        XCTAssertEqual(try TFRecord.records(in: Array(bytes[..<(bytes.count - 1)]), source: "memory"), Array(payloads[..<2]))
    }

    func testDataChecksumMismatchNamesSourceAndOffset() {
        var bytes = [Array("first".utf8), Array("second".utf8)].flatMap(TFRecord.frame)
        let secondStart = TFRecord.frame(Array("first".utf8)).count
        bytes[secondStart + 13] ^= 0x01
        XCTAssertThrowsError(try TFRecord.records(in: bytes, source: "run/events")) { error in
            let error = error as? SequentError
            XCTAssertEqual(error?.kind, .malformedFile)
            XCTAssertEqual(error?.message, "run/events: data checksum mismatch in the record at byte \(secondStart)")
        }
    }

    func testLengthChecksumMismatch() {
        var bytes = TFRecord.frame(Array("x".utf8))
        bytes[0] = 2
        XCTAssertThrowsError(try TFRecord.records(in: bytes, source: "f")) { error in
            XCTAssertEqual((error as? SequentError)?.message, "f: length checksum mismatch in the record at byte 0")
        }
    }

    func testMissingFileNamesPath() {
        let url = URL(fileURLWithPath: "/nonexistent-sequent/events.out.tfevents.0.x")
        XCTAssertThrowsError(try TFRecord.records(inFile: url)) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .io)
            XCTAssertTrue("\(error)".contains(url.path))
        }
    }
}
