import Foundation
import XCTest

/// `sequent translate train|predict|eval`, run as the user runs them: the built binary in a
/// child process, on a tiny parallel corpus in a temporary folder. Bad input ends with a
/// non-zero exit and one message naming the file, line or flag, never a crash.
final class TranslateCommandTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        _ = try BuiltTool.url()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("TranslateCommandTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    private func sequent(_ arguments: [String], stdin: String? = nil) throws -> BuiltTool.Run {
        try BuiltTool.run(arguments, in: folder, input: stdin)
    }

    @discardableResult
    private func text(_ name: String, _ content: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(content.utf8).write(to: url)
        return url.path
    }

    /// A toy "language": the target is the source's words in reverse order, in capitals.
    private static let corpus: (source: String, target: String) = {
        let words = ["eins", "zwei", "drei", "vier", "fünf", "sechs"]
        var sources: [String] = [], targets: [String] = []
        for i in 0..<60 {
            let sentence = (0..<(2 + i % 3)).map { words[(i * 7 + $0 * 3) % words.count] }
            sources.append(sentence.joined(separator: " ") + ".")
            targets.append(sentence.reversed().map { $0.uppercased() }.joined(separator: " ") + ".")
        }
        return (sources.joined(separator: "\n") + "\n", targets.joined(separator: "\n") + "\n")
    }()

    private let small = ["--hidden", "8", "--embedding", "8", "--batch-size", "8", "--threads", "1", "--quiet", "--steps", "30",
                         "--min-count", "1"]

    private func assertFails(_ arguments: [String], stdin: String? = nil, mentions words: [String],
                             file: StaticString = #filePath, line: UInt = #line) throws {
        assertClearError(try sequent(arguments, stdin: stdin), mentions: words, file: file, line: line)
    }

    func testTrainPredictEvalEndToEnd() throws {
        let source = try text("train.src", Self.corpus.source), target = try text("train.tgt", Self.corpus.target)
        let train = try sequent(["translate", "train", "--source", source, "--target", target, "--out", "m"] + small)
        XCTAssertEqual(train.status, 0, train.stdout + train.stderr)
        XCTAssertTrue(train.stdout.contains("BLEU"), train.stdout)
        for name in ["config.json", "model.safetensors", "tokenizer.json", "target_tokenizer.json", "report.md", "learning_curves.svg", "attention.svg", "metrics.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("m/\(name)").path), name)
        }
        let predict = try sequent(["translate", "predict", "m", "--attention-svg", "a.svg"], stdin: "eins zwei drei.\nvier fünf.\nunbekannt Wort!\n")
        XCTAssertEqual(predict.status, 0, predict.stderr)
        XCTAssertEqual(predict.stdout.split(separator: "\n", omittingEmptySubsequences: false).count, 4, predict.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("a.svg").path))
        let beam = try sequent(["translate", "predict", "m", "--beam", "3"], stdin: "eins zwei drei.\n")
        XCTAssertEqual(beam.status, 0, beam.stderr)
        let interactive = try sequent(["translate", "predict", "m", "--interactive"], stdin: "eins zwei.\n\nvier fünf.\n")
        XCTAssertEqual(interactive.status, 0, interactive.stderr)
        XCTAssertEqual(interactive.stdout.filter { $0 == "\n" }.count, 2, interactive.stdout)  // the empty line is skipped
        // --resume continues the run in the folder (here already complete) and refuses other data.
        let resumed = try sequent(["translate", "train", "--source", source, "--target", target, "--out", "m", "--resume", "--threads", "1"])
        XCTAssertEqual(resumed.status, 0, resumed.stdout + resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("resumed at step 30 of 30"), resumed.stdout)
        let fewer = try text("fewer.src", Self.corpus.source.split(separator: "\n").prefix(50).joined(separator: "\n") + "\n")
        let fewerTarget = try text("fewer.tgt", Self.corpus.target.split(separator: "\n").prefix(50).joined(separator: "\n") + "\n")
        try assertFails(["translate", "train", "--source", fewer, "--target", fewerTarget, "--out", "m", "--resume", "--threads", "1"],
                        mentions: ["--resume", "same files"])
        let eval = try sequent(["translate", "eval", "m", "--source", source, "--reference", target, "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
        XCTAssertNotNil(object?["bleu"] as? Double)
        XCTAssertNotNil(object?["chrf"] as? Double)
        XCTAssertEqual(object?["sentences"] as? Int, 60)
    }

    /// --time-limit without --steps fits the schedule's length (and its warm-up) to the limit,
    /// and the command ends within it.
    func testTimeLimitFitsTheSteps() throws {
        let source = try text("train.src", Self.corpus.source), target = try text("train.tgt", Self.corpus.target)
        let flags = ["--hidden", "8", "--embedding", "8", "--batch-size", "8", "--threads", "1", "--min-count", "1"]
        let started = Date()
        let run = try sequent(["translate", "train", "--source", source, "--target", target, "--out", "timed", "--time-limit", "4s"] + flags)
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 6)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("timed/config.json"))) as? [String: Any]
        let inner = try XCTUnwrap(config?["config"] as? [String: Any])
        let steps = try XCTUnwrap(inner["steps"] as? Int)
        XCTAssertTrue(run.stdout.contains("--time-limit:") && run.stdout.contains("so \(steps) steps"), run.stdout)
        XCTAssertGreaterThan(steps, 10, "a tiny model fits many steps in 4 s")
        XCTAssertEqual(inner["warmup_steps"] as? Int, min(200, steps / 10))
    }

    func testTransformerTrainsAndRefusesTooLongSentences() throws {
        let pairs = try text("pairs.tsv", "source\ttarget\n" + zip(Self.corpus.source.split(separator: "\n"), Self.corpus.target.split(separator: "\n"))
            .map { "\($0)\t\($1)" }.joined(separator: "\n") + "\n")
        let train = try sequent(["translate", "train", "--pairs", pairs, "--header", "--model", "transformer", "--hidden", "8", "--heads", "2",
                                 "--layers", "1", "--batch-size", "8", "--steps", "20", "--threads", "1", "--quiet", "--min-count", "1",
                                 "--max-length", "6", "--out", "t"])
        XCTAssertEqual(train.status, 0, train.stdout + train.stderr)
        let beam = try sequent(["translate", "predict", "t", "--beam", "2"], stdin: "eins zwei.\n")
        XCTAssertEqual(beam.status, 0, beam.stderr)
        // Unknown words go through the tokenizer (<unk>), greedy and beam, never a crash.
        for flags in [[], ["--beam", "2"]] {
            let unknown = try sequent(["translate", "predict", "t"] + flags, stdin: "Quokka zwei Ärger!\n")
            XCTAssertEqual(unknown.status, 0, unknown.stderr)
            XCTAssertEqual(unknown.stdout.filter { $0 == "\n" }.count, 1, unknown.stdout)
        }
        try assertFails(["translate", "predict", "t"], stdin: "eins zwei drei vier fünf sechs eins zwei drei.\n", mentions: ["line 1", "positions"])

        // --attention-head and --attention-layer choose the cross-attention map; the title says which.
        let head = try sequent(["translate", "predict", "t", "--attention-svg", "head.svg", "--attention-head", "2", "--attention-layer", "1"],
                               stdin: "eins zwei.\n")
        XCTAssertEqual(head.status, 0, head.stderr)
        let headSVG = try String(contentsOf: folder.appendingPathComponent("head.svg"), encoding: .utf8)
        XCTAssertTrue(headSVG.contains("decoder layer 1 of 1 (the last), head 2 of 2"), headSVG)
        let mean = try sequent(["translate", "predict", "t", "--attention-svg", "mean.svg"], stdin: "eins zwei.\n")
        XCTAssertEqual(mean.status, 0, mean.stderr)
        XCTAssertTrue(try String(contentsOf: folder.appendingPathComponent("mean.svg"), encoding: .utf8).contains("averaged over 2 heads"))
        try assertFails(["translate", "predict", "t", "--attention-svg", "x.svg", "--attention-head", "3"], stdin: "eins zwei.\n",
                        mentions: ["--attention-head", "head 3", "2 heads"])
        try assertFails(["translate", "predict", "t", "--attention-svg", "x.svg", "--attention-layer", "2"], stdin: "eins zwei.\n",
                        mentions: ["--attention-layer", "1 decoder layers"])
        try assertFails(["translate", "predict", "t", "--attention-svg", "x.svg", "--attention-head", "0"], stdin: "eins zwei.\n",
                        mentions: ["--attention-head"])
        try assertFails(["translate", "predict", "t", "--attention-head", "1"], stdin: "eins zwei.\n", mentions: ["--attention-head", "--attention-svg"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("x.svg").path))
    }

    /// --max-tokens: batches cut by padded tokens, kept in config.json (global, for a resume),
    /// said in the run's output; a budget below the longest pair is refused by name.
    func testMaxTokensCutsBatchesByTokens() throws {
        let source = try text("train.src", Self.corpus.source), target = try text("train.tgt", Self.corpus.target)
        let flags = ["--hidden", "8", "--embedding", "8", "--threads", "1", "--steps", "6", "--min-count", "1"]
        let run = try sequent(["translate", "train", "--source", source, "--target", target, "--out", "tokens", "--max-tokens", "24"] + flags)
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("batches of at most 24 tokens"), run.stdout)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("tokens/config.json"))) as? [String: Any]
        let inner = try XCTUnwrap(config?["config"] as? [String: Any])
        XCTAssertEqual(inner["max_tokens"] as? Int, 24)
        try assertFails(["translate", "train", "--source", source, "--target", target, "--out", "x", "--max-tokens", "2"] + flags,
                        mentions: ["--max-tokens", "longest training pair"])
        try assertFails(["translate", "train", "--source", source, "--target", target, "--out", "y", "--max-tokens", "0"] + flags,
                        mentions: ["--max-tokens"])
    }

    func testBadInputEndsWithOneClearMessage() throws {
        let source = try text("a.src", Self.corpus.source), target = try text("a.tgt", Self.corpus.target)
        let short = try text("b.tgt", "ONE.\nTWO.\n")
        try assertFails(["translate", "train", "--source", source, "--target", short, "--out", "x"] + small, mentions: ["60 lines", "has 2", "line 3"])
        let holed = try text("c.src", "eins.\n\nzwei.\n"), three = try text("c.tgt", "A.\nB.\nC.\n")
        try assertFails(["translate", "train", "--source", holed, "--target", three, "--out", "x"] + small, mentions: ["c.src", "line 2 is empty"])
        try assertFails(["translate", "train", "--source", source, "--target", target, "--out", "x", "--max-length", "3", "--refuse-long"] + small,
                        mentions: ["line 1", "--max-length 3"])
        try assertFails(["translate", "train", "--source", source, "--out", "x"] + small, mentions: ["--target"])

        let train = try sequent(["translate", "train", "--source", source, "--target", target, "--out", "m", "--attention", "none"] + small)
        XCTAssertEqual(train.status, 0, train.stdout + train.stderr)
        try assertFails(["translate", "predict", "m", "--beam", "0"], stdin: "eins.\n", mentions: ["--beam"])
        try assertFails(["translate", "predict", "m"], stdin: "eins.\n\nzwei.\n", mentions: ["stdin", "line 2 is empty"])
        try assertFails(["translate", "predict", "m", "--attention-svg", "a.svg"], stdin: "eins.\n", mentions: ["--attention-svg", "no attention"])
        try assertFails(["translate", "predict", "m", "--attention-svg", "a.svg", "--attention-head", "1"], stdin: "eins.\n",
                        mentions: ["--attention-head", "recurrent"])
        try assertFails(["translate", "eval", "m", "--source", source, "--reference", target, "--beam", "0"], mentions: ["--beam"])
        try assertFails(["translate", "eval", "m", "--source", source, "--reference", short], mentions: ["60 lines", "--reference has 2"])

        // Another task's folder is refused by name.
        let classify = folder.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: classify, withIntermediateDirectories: true)
        try Data(#"{"task":"classify","sequentVersion":"0","command":[],"created":"","config":{}}"#.utf8)
            .write(to: classify.appendingPathComponent("config.json"))
        try assertFails(["translate", "predict", "other"], stdin: "eins.\n", mentions: ["classify"])
    }
}
