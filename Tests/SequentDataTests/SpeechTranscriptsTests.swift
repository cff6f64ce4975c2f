import Foundation
import SequentData
import SequentTensor
import XCTest

/// Transcripts from a TSV file or from file names.
final class SpeechTranscriptsTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("SpeechTranscriptsTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in ["a.wav", "b.wav"] { try Data().write(to: folder.appendingPathComponent(name)) }
    }

    override func tearDownWithError() throws {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    private func tsv(_ text: String) throws -> URL {
        let url = folder.appendingPathComponent("t.tsv")
        try Data(text.utf8).write(to: url)
        return url
    }

    func testATranscriptFileIsReadWithItsHeaderAndComments() throws {
        let utterances = try SpeechTranscripts.read(try tsv("path\ttext\n# a comment\na.wav\tone two\n\nb.wav\t three \n"), audioFolder: folder)
        XCTAssertEqual(utterances.map(\.text), ["one two", "three"])
        XCTAssertEqual(utterances.map(\.url.lastPathComponent), ["a.wav", "b.wav"])
    }

    func testBadTranscriptLinesAreNamedByLine() throws {
        XCTAssertThrowsError(try SpeechTranscripts.read(try tsv("a.wav one\n"), audioFolder: folder)) {
            XCTAssertTrue("\($0)".contains("line 1") && "\($0)".contains("no tab"), "\($0)")
        }
        XCTAssertThrowsError(try SpeechTranscripts.read(try tsv("a.wav\tone\nc.wav\ttwo\n"), audioFolder: folder)) {
            XCTAssertTrue("\($0)".contains("line 2") && "\($0)".contains("c.wav"), "\($0)")
        }
        XCTAssertThrowsError(try SpeechTranscripts.read(try tsv("a.wav\t\n"), audioFolder: folder)) {
            XCTAssertTrue("\($0)".contains("non-empty"), "\($0)")
        }
        XCTAssertThrowsError(try SpeechTranscripts.read(try tsv("\n\n"), audioFolder: folder)) {
            XCTAssertTrue("\($0)".contains("no `path<TAB>text` line"), "\($0)")
        }
    }

    func testLabelsFromFileNames() throws {
        let files = ["7_jackson_0.wav", "10_theo_12.flac", "noise.wav"].map { folder.appendingPathComponent($0) }
        let (utterances, unmatched) = try SpeechTranscripts.fromFileNames(files, pattern: "{label}_*")
        XCTAssertEqual(utterances.map(\.text), ["7", "10"])
        XCTAssertEqual(unmatched, ["noise.wav"])
        XCTAssertEqual(try LabelPattern("utt-*-{label}").label(of: "utt-3-hello_world"), "hello world")
        XCTAssertThrowsError(try LabelPattern("*_*")) { XCTAssertTrue("\($0)".contains("{label}"), "\($0)") }
    }

    func testTakesAndSpeakersOfFSDDNames() throws {
        let url = URL(fileURLWithPath: "/x/3_nicolas_42.wav")
        XCTAssertEqual(TakeRange.take(of: url), 42)
        XCTAssertEqual(TakeRange.speaker(of: url), "nicolas")
        XCTAssertEqual(try TakeRange("0-4,9", flag: "--takes").takes, [0, 1, 2, 3, 4, 9])
        XCTAssertThrowsError(try TakeRange("4-0", flag: "--takes")) { XCTAssertTrue("\($0)".contains("--takes"), "\($0)") }
    }
}
