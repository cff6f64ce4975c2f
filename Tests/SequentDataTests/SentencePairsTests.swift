import Foundation
import SequentData
import SequentTensor
import XCTest

/// Reading sentence pairs: parallel files and TSV, with errors naming the file and line.
final class SentencePairsTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("SentencePairsTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    private func file(_ name: String, _ text: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    private func message(_ body: () throws -> Void) -> String {
        do { try body() } catch let error as SequentError { return error.description } catch { return "\(error)" }
        return "no error"
    }

    func testParallelFiles() throws {
        let pairs = try SentencePairs.readParallel(source: try file("a.de", "Ein Hund.\r\nZwei Katzen\n"),
                                                   target: try file("a.en", "A dog.\nTwo cats\n"))
        XCTAssertEqual(pairs.sources, ["Ein Hund.", "Zwei Katzen"])
        XCTAssertEqual(pairs.targets, ["A dog.", "Two cats"])
        XCTAssertEqual(pairs.lines, [1, 2])
    }

    func testMismatchedCountsAndEmptySidesNameTheLine() throws {
        let a = try file("a.de", "eins\nzwei\ndrei\n"), b = try file("b.en", "one\ntwo\n")
        let mismatch = message { _ = try SentencePairs.readParallel(source: a, target: b) }
        XCTAssertTrue(mismatch.contains("3 lines") && mismatch.contains("has 2") && mismatch.contains("line 3"), mismatch)
        let empty = message { _ = try SentencePairs.readParallel(source: try file("c.de", "eins\n\ndrei\n"), target: try file("c.en", "one\ntwo\nthree\n")) }
        XCTAssertTrue(empty.contains("line 2 is empty") && empty.contains("c.de"), empty)
        let emptyTarget = message { _ = try SentencePairs.readParallel(source: try file("d.de", "eins\nzwei\n"), target: try file("d.en", "one\n  \n")) }
        XCTAssertTrue(emptyTarget.contains("--target line 2 is empty"), emptyTarget)
    }

    func testTSVWithHeaderAndErrors() throws {
        let pairs = try SentencePairs.readTSV(try file("p.tsv", "source\ttarget\nhallo\thello\n\nwie geht's?\thow are you?\n"), hasHeader: true)
        XCTAssertEqual(pairs.sources, ["hallo", "wie geht's?"])
        XCTAssertEqual(pairs.lines, [2, 4])
        let columns = message { _ = try SentencePairs.readTSV(try file("q.tsv", "a\tb\nc\n")) }
        XCTAssertTrue(columns.contains("line 2 has 1 tab-separated columns"), columns)
        let empty = message { _ = try SentencePairs.readTSV(try file("r.tsv", "a\tb\n\tc\n")) }
        XCTAssertTrue(empty.contains("line 2: the source (column 1) is empty"), empty)
    }
}
