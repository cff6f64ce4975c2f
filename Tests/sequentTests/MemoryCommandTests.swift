import Foundation
import XCTest

/// Tests of `sequent memory train|eval` (`Sources/sequent/Memory/`), run as the built binary
/// beside this test bundle: a tiny end-to-end run of each kind, and every bad input ending
/// with one message and a non-zero exit.
final class MemoryCommandTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("sequent-memory-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    /// Runs `sequent ARGS` in `root`.
    private func sequent(_ arguments: [String]) throws -> BuiltTool.Run {
        try BuiltTool.run(arguments, in: root)
    }

    func testCopyTrainsIntoAFolderThatEvalScores() throws {
        let train = try sequent(["memory", "train", "--task", "copy", "--out", "ntm", "--steps", "3", "--threads", "1", "--quiet",
                                 "--max-length", "3", "--memory-slots", "8", "--memory-width", "4", "--hidden", "8"])
        XCTAssertEqual(train.status, 0, train.stderr)
        for file in ["config.json", "model.safetensors", "report.md", "write-weightings.svg", "read-weightings.svg", "metrics.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("ntm/\(file)").path), file)
        }
        let eval = try sequent(["memory", "eval", "ntm", "--lengths", "2,5", "--sequences", "4", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
        XCTAssertNotNil((object?["bit_errors_per_sequence"] as? [String: Double])?["5"], eval.stdout)
        try "10110010 01100111\n\n00011111\n".write(to: root.appendingPathComponent("bits.txt"), atomically: true, encoding: .utf8)
        let predicted = try sequent(["memory", "predict", "ntm", "bits.txt"])
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        XCTAssertEqual(predicted.stdout.split(separator: "\n").map { $0.split(separator: " ").map(\.count) }, [[8, 8], [8]])
        try "10110010 0120\n".write(to: root.appendingPathComponent("bad-bits.txt"), atomically: true, encoding: .utf8)
        let bad = try sequent(["memory", "predict", "ntm", "bad-bits.txt"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("bad-bits.txt:1"), bad.stderr)
        let again = try sequent(["memory", "train", "--task", "copy", "--out", "ntm", "--steps", "3", "--quiet"])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("--resume"), again.stderr)
    }

    func testBAbIFileTrainsAndEvaluates() throws {
        var text = ""
        for story in 0..<30 {
            let (person, place) = (["Mary", "John"][story % 2], ["kitchen", "garden", "office"][story % 3])
            text += "1 \(person) went to the \(place).\n2 Sandra moved to the hallway.\n3 Where is \(person)?\t\(place)\t1\n"
        }
        try text.write(to: root.appendingPathComponent("qa1.txt"), atomically: true, encoding: .utf8)
        let train = try sequent(["memory", "train", "--task", "babi", "--babi", "qa1.txt", "--out", "mn", "--steps", "4", "--batch-size", "8",
                                 "--threads", "1", "--quiet"])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("mn/hop-attention.svg").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("mn/tokenizer.json").path))
        let eval = try sequent(["memory", "eval", "mn", "--babi", "qa1.txt", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains("\"accuracy\""), eval.stdout)
        let answers = try sequent(["memory", "predict", "mn", "qa1.txt"])
        XCTAssertEqual(answers.status, 0, answers.stderr)
        XCTAssertEqual(answers.stdout.split(separator: "\n").count, 30)
        try FileManager.default.removeItem(at: root.appendingPathComponent("mn/model.safetensors"))
        for command in [["memory", "eval", "mn", "--babi", "qa1.txt"], ["memory", "predict", "mn", "qa1.txt"]] {
            let unsaved = try sequent(command)
            XCTAssertNotEqual(unsaved.status, 0, command.joined(separator: " "))
            XCTAssertTrue(unsaved.stderr.contains("missing: the training run has not saved a model yet"), unsaved.stderr)
        }
    }

    func testBadInputEndsWithOneClearMessage() throws {
        try "1 Mary went to the kitchen.\n2 Where is Mary?\tkitchen\t7\n".write(to: root.appendingPathComponent("bad.txt"), atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["memory", "train", "--task", "babi", "--babi", "bad.txt", "--out", "a"], "bad.txt:2"),
            (["memory", "train", "--task", "babi", "--babi", "missing.txt", "--out", "b"], "missing.txt"),
            (["memory", "train", "--task", "copy", "--out", "c", "--memory-slots", "0"], "--memory-slots"),
            (["memory", "train", "--task", "copy", "--out", "d", "--memory-slots", "8", "--shift-range", "4"], "wider than the memory"),
            (["memory", "train", "--task", "copy", "--out", "e", "--model", "transformer"], "--model"),
            (["memory", "train", "--task", "babi", "--out", "f", "--babi-tasks", "1,4"], "task 4"),
            (["memory", "train", "--task", "copy", "--out", "g", "--babi-tasks", "1"], "--task babi"),
            (["memory", "eval", "nowhere"], "no such model folder"),
        ]
        for (arguments, phrase) in cases {
            let result = try sequent(arguments)
            XCTAssertNotEqual(result.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(result.stderr.contains(phrase), "\(arguments.joined(separator: " ")): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Fatal error"), result.stderr)
        }
    }
}
