import Foundation
import XCTest

/// `sequent lm train|eval|generate`, run as the user runs them: the built binary in a
/// child process, on small texts in a temporary folder. Bad input must end with a non-zero
/// exit code and one message naming the file or flag, never a crash.
final class LMCommandTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        _ = try BuiltTool.url()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("LMCommandTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    private func sequent(_ arguments: [String], environment: [String: String] = [:], input: String? = nil) throws -> BuiltTool.Run {
        try BuiltTool.run(arguments, in: folder, environment: environment, input: input)
    }

    private func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    private func text(_ name: String, _ content: String) throws -> String { try file(name, Array(content.utf8)) }

    private static let corpus: String = {
        let lines = ["First Citizen:", "Before we proceed any further, hear me speak.", "All:", "Speak, speak.",
                     "You are all resolved rather to die than to famish?", "Resolved. resolved."]
        return (0..<60).map { lines[$0 % lines.count] }.joined(separator: "\n") + "\n"
    }()

    /// A tiny, fast model.
    private let small = ["--hidden", "16", "--layers", "1", "--embedding", "8", "--context", "16", "--batch-size", "4",
                         "--threads", "1", "--quiet"]

    /// A failed run: exit code 1 (64 for a flag out of range, as ArgumentParser exits), the
    /// message on standard error, no backtrace.
    private func assertFails(_ arguments: [String], mentions words: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        assertClearError(try sequent(arguments), mentions: words, file: file, line: line)
    }

    func testTrainEvalGenerateEndToEnd() throws {
        let path = try text("corpus.txt", Self.corpus)
        let train = try sequent(["lm", "train", "--text", path, "--out", "model", "--steps", "6"] + small)
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(train.stdout.contains("best validation"), train.stdout)
        for name in ["config.json", "model.safetensors", "tokenizer.json", "report.md", "learning_curves.svg", "metrics.jsonl", "checkpoints/latest"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("model/\(name)").path), name)
        }
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("model/config.json"))) as? [String: Any]
        XCTAssertEqual(config?["task"] as? String, "lm")
        XCTAssertEqual((config?["config"] as? [String: Any])?["hidden"] as? Int, 16, "--hidden is saved under the key hidden")

        let eval = try sequent(["lm", "eval", "model", "--text", path, "--json", "--threads", "1"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let metrics = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
        for key in ["loss", "perplexity", "bits_per_char", "tokens"] { XCTAssertNotNil(metrics?[key], key) }
        XCTAssertEqual(metrics?["tokens"] as? Int, Self.corpus.unicodeScalars.count - 1)
        let loss = try XCTUnwrap(metrics?["loss"] as? Double)
        XCTAssertEqual(try XCTUnwrap(metrics?["perplexity"] as? Double), exp(loss), accuracy: 1e-6 * exp(loss))
        XCTAssertEqual(try XCTUnwrap(metrics?["bits_per_char"] as? Double), loss / M_LN2, accuracy: 1e-9)

        let first = try sequent(["lm", "generate", "model", "--prompt", "All:", "--length", "40", "--seed", "3", "--threads", "1"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.hasPrefix("All:"))
        XCTAssertEqual(first.stdout.unicodeScalars.count, 4 + 40 + 1)
        let second = try sequent(["lm", "generate", "model", "--prompt", "All:", "--length", "40", "--seed", "3", "--threads", "1"])
        XCTAssertEqual(first.stdout, second.stdout, "the same seed gives the same text")
        // The prompt from a pipe (its final line break dropped, as echo adds one), or --prompt-file -.
        let piped = try sequent(["lm", "generate", "model", "--length", "40", "--seed", "3", "--threads", "1"], input: "All:\n")
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertEqual(piped.stdout, first.stdout)
        let dash = try sequent(["lm", "generate", "model", "--prompt-file", "-", "--length", "40", "--seed", "3", "--threads", "1"], input: "All:")
        XCTAssertEqual(dash.stdout, first.stdout)
    }

    func testResumeContinuesBitwise() throws {
        let path = try text("corpus.txt", Self.corpus)
        let options = ["--text", path, "--steps", "12", "--dropout", "0.2", "--eval-interval", "4"] + small
        XCTAssertEqual(try sequent(["lm", "train", "--out", "whole"] + options).status, 0)
        let stopped = try sequent(["lm", "train", "--out", "parts"] + options, environment: ["SEQUENT_STOP_AT_STEP": "5"])
        XCTAssertEqual(stopped.status, 0, stopped.stderr)
        let resumed = try sequent(["lm", "train", "--out", "parts", "--resume", "--threads", "1", "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        func losses(_ run: String) throws -> [String] {
            let text = try String(contentsOf: folder.appendingPathComponent("\(run)/metrics.jsonl"), encoding: .utf8)
            return text.split(separator: "\n").compactMap { line in
                line.split(separator: ",").first { $0.hasPrefix("\"loss\":") }.map(String.init)
            }
        }
        let whole = try losses("whole"), parts = try losses("parts")
        XCTAssertEqual(whole.count, 12)
        XCTAssertEqual(parts, whole)
    }

    func testKilledRunResumesBitwise() throws {
        let path = try text("corpus.txt", Self.corpus)
        let options = ["--text", path, "--steps", "30", "--hidden", "96", "--layers", "2", "--embedding", "16", "--context", "32",
                       "--batch-size", "8", "--dropout", "0.1", "--eval-interval", "10", "--threads", "1", "--quiet"]
        XCTAssertEqual(try sequent(["lm", "train", "--out", "whole"] + options).status, 0)

        // Kill (SIGKILL: no clean stop) once the first checkpoint is on disk.
        let process = try BuiltTool.start(["lm", "train", "--out", "killed"] + options, in: folder)
        let latest = folder.appendingPathComponent("killed/checkpoints/latest")
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning, !FileManager.default.fileExists(atPath: latest.path), Date() < deadline { usleep(2_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()

        let resumed = try sequent(["lm", "train", "--out", "killed", "--resume", "--threads", "1", "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        func losses(_ run: String) throws -> [String: String] {
            let text = try String(contentsOf: folder.appendingPathComponent("\(run)/metrics.jsonl"), encoding: .utf8)
            var byStep: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: ",")
                if let step = fields.first(where: { $0.contains("\"step\":") }), let loss = fields.first(where: { $0.hasPrefix("\"loss\":") }) {
                    byStep[String(step)] = String(loss)
                }
            }
            return byStep
        }
        let whole = try losses("whole")
        XCTAssertEqual(whole.count, 30)
        XCTAssertEqual(try losses("killed"), whole)
    }

    func testTransformerAndOtherTokenizersTrain() throws {
        let path = try text("corpus.txt", Self.corpus)
        let recurrent = ["--hidden", "16", "--layers", "1", "--embedding", "8", "--context", "16", "--batch-size", "4"]
        for extra in [["--model", "transformer", "--width", "16", "--heads", "2", "--layers", "1", "--context", "16", "--batch-size", "4"],
                      ["--model", "gru", "--tokenizer", "bpe", "--vocab-size", "300"] + recurrent,
                      ["--model", "rnn", "--tokenizer", "word"] + recurrent] {
            let out = "model-\(extra[1])"
            let run = try sequent(["lm", "train", "--text", path, "--out", out, "--steps", "3", "--threads", "1", "--quiet"] + extra)
            XCTAssertEqual(run.status, 0, "\(extra): \(run.stderr)")
            let generated = try sequent(["lm", "generate", out, "--length", "10", "--threads", "1", "--quiet"])
            XCTAssertEqual(generated.status, 0, generated.stderr)
        }
    }

    func testBadInputIsAClearError() throws {
        let good = try text("corpus.txt", Self.corpus)
        let empty = try file("empty.txt", [])
        let binary = try file("binary.bin", [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00])
        let invalid = try file("latin1.txt", Array("caf".utf8) + [0xE9] + Array(" au lait\n".utf8))
        let short = try text("short.txt", "To be.\n")
        let unseen = try text("unseen.txt", "Speak, 🙂 speak.\n")
        let base = ["lm", "train", "--out", "m"] + small
        try assertFails(base + ["--text", empty], mentions: ["empty.txt", "empty"])
        try assertFails(base + ["--text", binary], mentions: ["binary.bin", "binary"])
        try assertFails(base + ["--text", invalid], mentions: ["latin1.txt", "invalid UTF-8 at byte 3"])
        try assertFails(base + ["--text", short], mentions: ["short.txt", "context window"])
        try assertFails(base + ["--text", good, "--val", unseen], mentions: ["unseen.txt", "U+1F642"])
        try assertFails(base + ["--text", folder.appendingPathComponent("missing.txt").path], mentions: ["missing.txt"])

        XCTAssertEqual(try sequent(["lm", "train", "--text", good, "--out", "m", "--steps", "2"] + small).status, 0)
        try assertFails(["lm", "generate", "m", "--top-p", "0"], mentions: ["--top-p"])
        try assertFails(["lm", "eval", "m", "--text", unseen], mentions: ["unseen.txt", "U+1F642"])
        try assertFails(["lm", "train", "--text", good, "--out", "m", "--steps", "2"] + small, mentions: ["--resume"])

        let other = folder.appendingPathComponent("forecaster")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try Data(#"{"task": "forecast", "config": {}}"#.utf8).write(to: other.appendingPathComponent("config.json"))
        try assertFails(["lm", "generate", other.path], mentions: ["forecast"])
        try assertFails(["lm", "eval", other.path, "--text", good], mentions: ["forecast"])
        try assertFails(["lm", "train", "--text", good, "--out", other.path] + small, mentions: ["forecast"])

        // A word tokenizer maps unseen words to <unk> instead.
        XCTAssertEqual(try sequent(["lm", "train", "--text", good, "--out", "w", "--steps", "2", "--tokenizer", "word"] + small).status, 0)
        let eval = try sequent(["lm", "eval", "w", "--text", unseen, "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains("\"unknown_tokens\":1"), eval.stdout)
    }
}
