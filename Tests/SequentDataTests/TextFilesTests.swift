import Foundation
import SequentTensor
@testable import SequentData
import XCTest

/// `TextFiles`: UTF-8 checked byte by byte, with the file, byte, line and column in errors.
final class TextFilesTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("TextFilesTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func write(_ bytes: [UInt8], _ name: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    private func message(_ body: () throws -> Void) -> String {
        do { try body() } catch let error as SequentError { return error.message } catch { return "\(error)" }
        return "no error"
    }

    func testReadsValidTextAsItIs() throws {
        let text = "ab\ncafé 👍🏽\n"
        let url = try write(Array(text.utf8), "a.txt")
        XCTAssertEqual(try TextFiles.read(url, option: "--text"), text)
    }

    func testInvalidUTF8NamesFileByteLineAndColumn() throws {
        let url = try write(Array("ok\nab".utf8) + [0xC3, 0x28] + Array("x".utf8), "bad.txt")
        let text = message { _ = try TextFiles.read(url, option: "--text") }
        XCTAssertTrue(text.contains(url.path), text)
        XCTAssertTrue(text.contains("byte 5 (line 2, column 3)"), text)
        XCTAssertTrue(text.contains("0xC3"), text)
    }

    func testRejectsOverlongSurrogateAndTruncatedSequences() {
        XCTAssertEqual(TextFiles.firstInvalidByte([0x41, 0xC0, 0x80]), 1)        // overlong
        XCTAssertEqual(TextFiles.firstInvalidByte([0xED, 0xA0, 0x80]), 0)        // surrogate
        XCTAssertEqual(TextFiles.firstInvalidByte([0xF4, 0x90, 0x80, 0x80]), 0)  // > U+10FFFF
        XCTAssertEqual(TextFiles.firstInvalidByte([0x41, 0xE2, 0x82]), 1)        // truncated
        XCTAssertEqual(TextFiles.firstInvalidByte([0x80]), 0)                    // lone continuation
        XCTAssertNil(TextFiles.firstInvalidByte(Array("€𝄞é".utf8)))
    }

    func testEmptyAndBinaryFilesAreErrors() throws {
        let empty = try write([], "empty.txt")
        XCTAssertTrue(message { _ = try TextFiles.read(empty, option: "--text") }.contains("empty"))
        let binary = try write([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00, 0x00], "a.out")
        let text = message { _ = try TextFiles.read(binary, option: "--text") }
        XCTAssertTrue(text.contains("binary") && text.contains("byte 6"), text)
    }

    func testMissingFileNamesTheOption() {
        let text = message { _ = try TextFiles.read(folder.appendingPathComponent("nope.txt"), option: "--val") }
        XCTAssertTrue(text.contains("--val") && text.contains("nope.txt"), text)
    }

    func testFolderIsReadInSortedOrderSkippingHiddenFiles() throws {
        let sub = folder.appendingPathComponent("corpus")
        try FileManager.default.createDirectory(at: sub.appendingPathComponent("z"), withIntermediateDirectories: true)
        try Data("B".utf8).write(to: sub.appendingPathComponent("b.txt"))
        try Data("A".utf8).write(to: sub.appendingPathComponent("a.txt"))
        try Data("Z".utf8).write(to: sub.appendingPathComponent("z/c.txt"))
        try Data("H".utf8).write(to: sub.appendingPathComponent(".hidden"))
        XCTAssertEqual(try TextFiles.read(sub, option: "--text"), "ABZ")
    }
}
