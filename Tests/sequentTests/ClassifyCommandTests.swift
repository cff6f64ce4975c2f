import Foundation
import XCTest

/// `sequent classify train|eval|predict`, run as the user runs them: the built binary in a
/// child process, on small texts in a temporary folder. Bad input must end with a non-zero
/// exit code and one message naming the file or flag, never a crash.
final class ClassifyCommandTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        _ = try BuiltTool.url()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ClassifyCommandTests-\(UUID().uuidString)")
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

    /// A small separable sentiment set: "good"-like words mean 1, "bad"-like words 0.
    private static let data: String = {
        let positive = ["good fun film", "a great , warm story", "wonderful and witty", "great acting", "fun , good and moving"]
        let negative = ["bad dull film", "a boring , flat story", "awful and tedious", "bad acting", "dull , bad and slow"]
        var lines = ["label\tsentence"]
        for i in 0..<40 { lines.append("1\t\(positive[i % 5])"); lines.append("0\t\(negative[i % 5])") }
        return lines.joined(separator: "\n") + "\n"
    }()

    private let small = ["--hidden", "8", "--embedding", "8", "--batch-size", "8", "--threads", "1", "--quiet",
                         "--text-column", "sentence", "--label-column", "label"]

    private func assertFails(_ arguments: [String], mentions words: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        assertClearError(try sequent(arguments), mentions: words, file: file, line: line)
    }

    func testTrainEvalPredictEndToEnd() throws {
        let path = try text("train.tsv", Self.data)
        let train = try sequent(["classify", "train", "--train", path, "--out", "model", "--steps", "60", "--learning-rate", "0.02",
                                 "--val-fraction", "0.25"] + small)
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(train.stdout.contains("best validation"), train.stdout)
        for name in ["config.json", "model.safetensors", "tokenizer.json", "report.md", "learning_curves.svg", "confusion_matrix.svg", "metrics.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("model/\(name)").path), name)
        }
        let eval = try sequent(["classify", "eval", "model", "--data", path, "--json", "--threads", "1"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let metrics = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(metrics["records"] as? Int, 80)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(metrics["accuracy"] as? Double), 0.9, "a separable set is learned")
        XCTAssertNotNil(metrics["macro_f1"] as? Double)
        XCTAssertEqual((metrics["confusion_matrix"] as? [[Int]])?.joined().reduce(0, +), 80)

        let input = try text("new.txt", "good fun\n\nbad , dull\n")
        let predict = try sequent(["classify", "predict", "model", "--input", input, "--json", "--explain", "--threads", "1"])
        XCTAssertEqual(predict.status, 0, predict.stderr)
        let lines = predict.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let first = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(first["label"] as? String, "1")
        let probabilities = try XCTUnwrap(first["probabilities"] as? [String: Double])
        XCTAssertEqual(probabilities.values.reduce(0, +), 1, accuracy: 1e-5)
        let attention = try XCTUnwrap(first["attention"] as? [[String: Any]])
        XCTAssertEqual(attention.map { $0["token"] as? String }, ["good", "fun"])
        XCTAssertEqual(attention.compactMap { $0["weight"] as? Double }.reduce(0, +), 1, accuracy: 1e-5)
        let second = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        XCTAssertEqual(second["label"] as? String, "0")

        let page = folder.appendingPathComponent("explain.html")
        let html = try sequent(["classify", "predict", "model", "--input", input, "--explain-html", page.path, "--threads", "1"])
        XCTAssertEqual(html.status, 0, html.stderr)
        let written = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(written.contains(">good</span>") && written.contains(">dull</span>"), written)
        let weight = try XCTUnwrap(attention.first?["weight"] as? Double)
        XCTAssertTrue(written.contains("title=\"\(String(format: "%.4f", weight))\""), "the page shows the weights --explain gives")

        let tsv = try sequent(["classify", "predict", "model", "--input", input, "--threads", "1"])
        XCTAssertEqual(tsv.status, 0, tsv.stderr)
        XCTAssertTrue(tsv.stdout.hasPrefix("label\tp(0)\tp(1)\ttext\n"), tsv.stdout)
    }

    /// --model transformer trains, predicts and explains like the recurrent models; a run
    /// stopped after step 5 and resumed logs bitwise the losses of an uninterrupted one.
    func testTransformerTrainsAndResumesBitwise() throws {
        let path = try text("train.tsv", Self.data)
        let options = ["classify", "train", "--train", path, "--model", "transformer", "--hidden", "8", "--heads", "2", "--layers", "1",
                       "--batch-size", "8", "--steps", "12", "--eval-interval", "4", "--dropout", "0.2", "--learning-rate", "0.01",
                       "--threads", "1", "--quiet", "--text-column", "sentence", "--label-column", "label"]
        let whole = try sequent(options + ["--out", "whole"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let stopped = try sequent(options + ["--out", "parts"], environment: ["SEQUENT_STOP_AT_STEP": "5"])
        XCTAssertEqual(stopped.status, 0, stopped.stderr)
        XCTAssertTrue(stopped.stdout.contains("stopped after step 5 of 12"), stopped.stdout)
        let resumed = try sequent(["classify", "train", "--out", "parts", "--resume", "--threads", "1", "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        func losses(_ run: String) throws -> [String] {
            let text = try String(contentsOf: folder.appendingPathComponent("\(run)/metrics.jsonl"), encoding: .utf8)
            return text.split(separator: "\n").compactMap { line in line.split(separator: ",").first { $0.hasPrefix("\"loss\":") }.map(String.init) }
        }
        XCTAssertEqual(try losses("whole").count, 12)
        XCTAssertEqual(try losses("parts"), try losses("whole"))

        let predict = try sequent(["classify", "predict", "whole", "--json", "--explain", "--threads", "1"], input: "good fun film\n")
        XCTAssertEqual(predict.status, 0, predict.stderr)
        let line = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(predict.stdout.utf8)) as? [String: Any])
        let attention = try XCTUnwrap(line["attention"] as? [[String: Any]])
        XCTAssertEqual(attention.compactMap { $0["weight"] as? Double }.reduce(0, +), 1, accuracy: 1e-5)
        try assertFails(["classify", "train", "--train", path, "--out", "h", "--model", "transformer", "--hidden", "10", "--heads", "4",
                         "--text-column", "sentence", "--label-column", "label"],
                        mentions: ["--heads", "divide"])
        try assertFails(["classify", "train", "--out", "never", "--resume"], mentions: ["never"])
    }

    /// --time-limit without --steps fits the schedule's length to the limit and ends within it.
    func testTimeLimitFitsTheSteps() throws {
        let path = try text("train.tsv", Self.data)
        let started = Date()
        let run = try sequent(["classify", "train", "--train", path, "--out", "timed", "--time-limit", "3s"] + small.filter { $0 != "--quiet" })
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 3.5)
        XCTAssertTrue(run.stdout.contains("--time-limit:"), run.stdout)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("timed/config.json"))) as? [String: Any]
        let steps = try XCTUnwrap((config?["config"] as? [String: Any])?["steps"] as? Int)
        XCTAssertTrue(run.stdout.contains("so \(steps) steps"), run.stdout)
    }

    func testPretrainedVectorsFrozenAndFineTuned() throws {
        let path = try text("train.tsv", Self.data)
        let words = ["good", "fun", "film", "a", "great", ",", "warm", "story", "bad", "dull", "boring"]
        let vectors = try text("vectors.txt", words.enumerated().map { i, w in
            "\(w) " + (0..<4).map { String(Float(i + 1) * 0.1 + Float($0) * 0.01) }.joined(separator: " ") }.joined(separator: "\n") + "\n")
        let common = ["classify", "train", "--train", path, "--steps", "4", "--embeddings", vectors, "--hidden", "8", "--threads", "1", "--quiet",
                      "--text-column", "sentence", "--label-column", "label"]
        let frozen = try sequent(common + ["--out", "frozen", "--freeze-embeddings", "--dropout", "0"])
        XCTAssertEqual(frozen.status, 0, frozen.stderr)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("frozen/config.json"))) as? [String: Any]
        let inner = try XCTUnwrap(config?["config"] as? [String: Any])
        XCTAssertEqual(inner["embedding"] as? Int, 4)
        XCTAssertEqual(inner["freeze_embeddings"] as? Bool, true)
        // The frozen vectors come back unchanged from model.safetensors.
        let tokenizer = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("frozen/tokenizer.json"))) as? [String: Any]
        let vocabulary = try XCTUnwrap(tokenizer?["vocabulary"] as? [String])
        let id = try XCTUnwrap(vocabulary.firstIndex(of: "good"))
        let table = try embeddingTable(folder.appendingPathComponent("frozen/model.safetensors"))
        XCTAssertEqual(Array(table[(id * 4)..<(id * 4 + 4)]), (0..<4).map { Float(1) * 0.1 + Float($0) * 0.01 }, "'good' is the first word of the file")
        let tuned = try sequent(common + ["--out", "tuned"])
        XCTAssertEqual(tuned.status, 0, tuned.stderr)

        let ragged = try text("ragged.txt", "good 0.1 0.2\nbad 0.1 0.2 0.3\n")
        try assertFails(common + ["--out", "m", "--embeddings", ragged], mentions: ["ragged.txt", "line 2", "3 numbers"])
        try assertFails(common + ["--out", "m2", "--embedding", "16"], mentions: ["--embedding", "16"])
    }

    /// `emb.weight` of a safetensors file (8-byte little-endian header length, JSON header, float32 data).
    private func embeddingTable(_ url: URL) throws -> [Float] {
        let bytes = [UInt8](try Data(contentsOf: url))
        let length = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
        let header = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any])
        let entry = try XCTUnwrap(header["emb.weight"] as? [String: Any])
        XCTAssertEqual(entry["dtype"] as? String, "F32")
        let offsets = try XCTUnwrap(entry["data_offsets"] as? [Int])
        let start = 8 + length + offsets[0]
        return stride(from: start, to: 8 + length + offsets[1], by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
    }

    func testBadInputEndsWithOneClearMessage() throws {
        let good = try text("good.tsv", Self.data)
        try assertFails(["classify", "train", "--train", good, "--out", "m1", "--text-column", "text", "--threads", "1"],
                        mentions: ["--text-column", "'label', 'sentence'"])
        let empty = try text("empty.tsv", "label\tsentence\n1\tfine\n0\t \n")
        try assertFails(["classify", "train", "--train", empty, "--out", "m2"] + small, mentions: ["empty.tsv", "line 3", "empty"])
        let ragged = try text("ragged.tsv", "label\tsentence\n1\tfine\n0\tbad\textra\n")
        try assertFails(["classify", "train", "--train", ragged, "--out", "m3"] + small, mentions: ["ragged.tsv", "line 3", "3 fields"])
        let one = try text("one.tsv", "label\tsentence\n1\tfine\n1\tgood\n1\tnice\n1\tgreat\n")
        try assertFails(["classify", "train", "--train", one, "--out", "m4", "--val", one] + small, mentions: ["one class"])
        try assertFails(["classify", "train", "--train", folder.appendingPathComponent("missing.tsv").path, "--out", "m5"] + small,
                        mentions: ["missing.tsv"])
        try assertFails(["classify", "train", "--train", good, "--out", "m6", "--val-fraction", "1.5"] + small, mentions: ["--val-fraction"])
        try assertFails(["classify", "eval", folder.path, "--data", good], mentions: ["config.json"])
    }
}
