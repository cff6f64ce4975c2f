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

    /// Runs `sequent ARGS` in `root`; returns the exit status, stdout and stderr.
    private func sequent(_ arguments: [String]) throws -> (status: Int32, out: String, error: String) {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("sequent")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("no sequent binary beside the tests at \(binary.path)") }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = root
        let (out, error) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = error
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    func testCopyTrainsIntoAFolderThatEvalScores() throws {
        let train = try sequent(["memory", "train", "--task", "copy", "--out", "ntm", "--steps", "3", "--threads", "1", "--quiet",
                                 "--max-length", "3", "--memory-slots", "8", "--memory-width", "4", "--hidden", "8"])
        XCTAssertEqual(train.status, 0, train.error)
        for file in ["config.json", "model.safetensors", "report.md", "write-weightings.svg", "read-weightings.svg", "metrics.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("ntm/\(file)").path), file)
        }
        let eval = try sequent(["memory", "eval", "ntm", "--lengths", "2,5", "--sequences", "4", "--json"])
        XCTAssertEqual(eval.status, 0, eval.error)
        let object = try JSONSerialization.jsonObject(with: Data(eval.out.utf8)) as? [String: Any]
        XCTAssertNotNil((object?["bit_errors_per_sequence"] as? [String: Double])?["5"], eval.out)
        try "10110010 01100111\n\n00011111\n".write(to: root.appendingPathComponent("bits.txt"), atomically: true, encoding: .utf8)
        let predicted = try sequent(["memory", "predict", "ntm", "bits.txt"])
        XCTAssertEqual(predicted.status, 0, predicted.error)
        XCTAssertEqual(predicted.out.split(separator: "\n").map { $0.split(separator: " ").map(\.count) }, [[8, 8], [8]])
        try "10110010 0120\n".write(to: root.appendingPathComponent("bad-bits.txt"), atomically: true, encoding: .utf8)
        let bad = try sequent(["memory", "predict", "ntm", "bad-bits.txt"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.error.contains("bad-bits.txt:1"), bad.error)
        let again = try sequent(["memory", "train", "--task", "copy", "--out", "ntm", "--steps", "3", "--quiet"])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.error.contains("--resume"), again.error)
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
        XCTAssertEqual(train.status, 0, train.error)
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("mn/hop-attention.svg").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("mn/tokenizer.json").path))
        let eval = try sequent(["memory", "eval", "mn", "--babi", "qa1.txt", "--json"])
        XCTAssertEqual(eval.status, 0, eval.error)
        XCTAssertTrue(eval.out.contains("\"accuracy\""), eval.out)
        let answers = try sequent(["memory", "predict", "mn", "qa1.txt"])
        XCTAssertEqual(answers.status, 0, answers.error)
        XCTAssertEqual(answers.out.split(separator: "\n").count, 30)
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
            XCTAssertTrue(result.error.contains(phrase), "\(arguments.joined(separator: " ")): \(result.error)")
            XCTAssertFalse(result.error.contains("Fatal error"), result.error)
        }
    }
}
