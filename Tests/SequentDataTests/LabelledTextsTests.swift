import Foundation
import SequentData
import SequentTensor
import XCTest

final class LabelledTextsTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("LabelledTextsTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    private func write(_ name: String, _ text: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    func testReadsTSVByNameAndCSVByIndexWithMultiLineQuotedTexts() throws {
        let tsv = try LabelledTexts.read(try write("a.tsv", "label\tsentence\n0\tbad , dull\n1\tgood\n"),
                                         textColumn: "sentence", labelColumn: "label", flag: "--train")
        XCTAssertEqual(tsv.texts, ["bad , dull", "good"])
        XCTAssertEqual(tsv.labels, ["0", "1"])
        XCTAssertEqual(tsv.lines, [2, 3])
        let csv = try LabelledTexts.read(try write("b.csv", "text,label\n\"fine,\nreally\",pos\nawful,neg\n"),
                                         textColumn: "0", labelColumn: "1", flag: "--train")
        XCTAssertEqual(csv.texts, ["fine,\nreally", "awful"])
        XCTAssertEqual(csv.classes, ["neg", "pos"])
        XCTAssertEqual(csv.lines, [2, 4])
    }

    func testMissingColumnListsTheColumns() throws {
        let url = try write("a.tsv", "label\tsentence\n0\tx\n")
        XCTAssertThrowsError(try LabelledTexts.read(url, textColumn: "text", labelColumn: "label", flag: "--train")) { error in
            XCTAssertTrue("\(error)".contains("--text-column") && "\(error)".contains("'label', 'sentence'"), "\(error)")
        }
        XCTAssertThrowsError(try LabelledTexts.read(url, textColumn: "sentence", labelColumn: "5", flag: "--train")) { error in
            XCTAssertTrue("\(error)".contains("has 2 columns"), "\(error)")
        }
    }

    func testEmptyTextAndWrongFieldCountNameTheLine() throws {
        XCTAssertThrowsError(try LabelledTexts.read(try write("a.tsv", "label\tsentence\n0\tx\n1\t  \n"),
                                                    textColumn: "sentence", labelColumn: "label", flag: "--train")) { error in
            XCTAssertTrue("\(error)".contains("line 3: the text (column 'sentence') is empty"), "\(error)")
        }
        XCTAssertThrowsError(try LabelledTexts.read(try write("b.tsv", "label\tsentence\n0\tx\n1\ty\tz\n"),
                                                    textColumn: "sentence", labelColumn: "label", flag: "--train")) { error in
            XCTAssertTrue("\(error)".contains("b.tsv: line 3: 3 fields, but the header has 2"), "\(error)")
        }
    }

    func testStratifiedSplitKeepsClassRatios() throws {
        // 700 of class a, 300 of b, 50 of c.
        let labels = Array(repeating: "a", count: 700) + Array(repeating: "b", count: 300) + Array(repeating: "c", count: 50)
        let data = LabelledTexts(path: "x", texts: labels.indices.map { "t\($0)" }, labels: labels, lines: labels.indices.map { $0 + 2 })
        var generator = RandomGenerator(seed: 3)
        let (train, val) = try data.stratifiedSplit(valFraction: 0.1, generator: &generator)
        XCTAssertEqual(val.classCounts, ["a": 70, "b": 30, "c": 5])
        XCTAssertEqual(train.classCounts, ["a": 630, "b": 270, "c": 45])
        XCTAssertEqual(Set(train.texts).intersection(val.texts), [])
        XCTAssertEqual(train.lines, train.lines.sorted(), "both sides keep the file's order")
        var again = RandomGenerator(seed: 3)
        XCTAssertEqual(try data.stratifiedSplit(valFraction: 0.1, generator: &again).val, val, "the same seed gives the same split")
    }

    func testSplitThatLeavesASideEmptyIsRefused() {
        let data = LabelledTexts(path: "x", texts: ["a"], labels: ["0"], lines: [2])
        var generator = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try data.stratifiedSplit(valFraction: 0.5, generator: &generator))
    }
}
