import Foundation
import XCTest

/// `sequent speech train|eval|transcribe|make-sequences`, run as the user runs them: the built
/// binary in a child process, on tone "words" written as WAV files in a temporary folder.
/// Bad input ends with a clear message or a named skip, never a crash.
final class SpeechCommandTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        _ = try BuiltTool.url()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("SpeechCommandTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    private func sequent(_ arguments: [String], stdin: Data? = nil) throws -> BuiltTool.Run {
        try BuiltTool.run(arguments, in: folder, inputBytes: stdin)
    }

    private func assertFails(_ arguments: [String], mentions words: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        assertClearError(try sequent(arguments), mentions: words, file: file, line: line)
    }

    // MARK: - Data

    /// Tone "words": each a 0.12 s tone of its own frequency at 8 kHz.
    private static let frequencies: [String: Double] = ["lo": 300, "mid": 900, "hi": 2200]

    /// 16-bit PCM samples of `words` with 0.05-0.1 s of near-silence around them.
    static func utterance(_ words: [String], seed: Int) -> [Int16] {
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        func next() -> Double { state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return Double(state >> 11) / Double(1 << 53) }
        func pause() -> [Int16] { (0..<(400 + Int(next() * 400))).map { _ in Int16((next() - 0.5) * 40) } }
        var samples = pause()
        for word in words {
            let f = frequencies[word]! * (0.97 + 0.06 * next())
            samples += (0..<960).map { n in Int16(9000 * sin(2 * .pi * f * Double(n) / 8000) * sin(.pi * Double(n) / 960)) }
            samples += pause()
        }
        return samples
    }

    /// A 16-bit PCM mono WAV file.
    static func wav(_ samples: [Int16], rate: Int = 8000) -> Data {
        func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        func le16(_ v: Int) -> [UInt8] { (0..<2).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        let data = samples.flatMap { le16(Int(UInt16(bitPattern: $0))) }
        var bytes = Array("RIFF".utf8) + le32(36 + data.count) + Array("WAVEfmt ".utf8)
        bytes += le32(16) + le16(1) + le16(1) + le32(rate) + le32(rate * 2) + le16(2) + le16(16)
        bytes += Array("data".utf8) + le32(data.count) + data
        return Data(bytes)
    }

    /// 60 utterances of 1-3 tone words in `audio/`, with transcripts.tsv.
    private func makeCorpus(_ name: String = "audio", count: Int = 60) throws -> URL {
        let audio = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: audio, withIntermediateDirectories: true)
        let words = ["lo", "mid", "hi"]
        var tsv = "path\ttext\n"
        for i in 0..<count {
            let said = (0...(i % 3)).map { words[(i * 7 + $0 * 5 + i / 3) % 3] }
            let file = "u\(i).wav"
            try Self.wav(Self.utterance(said, seed: i)).write(to: audio.appendingPathComponent(file))
            tsv += "\(file)\t\(said.joined(separator: " "))\n"
        }
        try Data(tsv.utf8).write(to: audio.appendingPathComponent("transcripts.tsv"))
        return audio
    }

    private let small = ["--hidden", "24", "--layers", "1", "--mel-bins", "16", "--stack", "3", "--batch-size", "8",
                         "--threads", "1", "--quiet", "--units", "words", "--dropout", "0", "--no-spec-augment"]

    // MARK: - Tests

    func testTrainEvalTranscribeAndStreamEqualToOffline() throws {
        let audio = try makeCorpus()
        let train = try sequent(["speech", "train", "--audio", audio.path, "--transcripts", audio.appendingPathComponent("transcripts.tsv").path,
                                 "--model", "lstm", "--steps", "150", "--learning-rate", "0.01", "--out", "m"] + small)
        XCTAssertEqual(train.status, 0, train.stderr)
        for name in ["config.json", "model.safetensors", "tokenizer.json", "report.md", "metrics.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("m/\(name)").path), name)
        }

        let eval = try sequent(["speech", "eval", "m", "--audio", audio.path, "--transcripts", audio.appendingPathComponent("transcripts.tsv").path,
                                "--json", "--threads", "1"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let metrics = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        for key in ["wer", "cer", "accuracy", "utterances"] { XCTAssertNotNil(metrics[key], key) }
        XCTAssertEqual(metrics["utterances"] as? Int, 60)
        XCTAssertLessThan(try XCTUnwrap(metrics["wer"] as? Double), 0.2, eval.stdout)

        let file = audio.appendingPathComponent("u5.wav").path
        let offline = try sequent(["speech", "transcribe", "m", file, "--threads", "1"])
        XCTAssertEqual(offline.status, 0, offline.stderr)
        let line = offline.stdout.trimmingCharacters(in: .newlines)
        XCTAssertTrue(line.hasPrefix(file + "\t"), line)
        let transcript = String(line.dropFirst(file.count + 1))
        XCTAssertFalse(transcript.isEmpty)

        let json = try sequent(["speech", "transcribe", "m", file, "--json", "--beam", "4", "--threads", "1"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let tokens = try XCTUnwrap(object["tokens"] as? [[String: Any]])
        XCTAssertEqual(tokens.map { $0["token"] as? String ?? "" }.joined(separator: " "), object["transcript"] as? String)
        var previousEnd = 0.0
        for token in tokens {
            let start = try XCTUnwrap(token["start"] as? Double), end = try XCTUnwrap(token["end"] as? Double)
            XCTAssertTrue(start >= previousEnd - 1e-9 && end > start, "\(tokens)")
            XCTAssertTrue((0...1).contains(try XCTUnwrap(token["probability"] as? Double)))
            previousEnd = end
        }

        // The same file as raw PCM on standard input: the last streamed line is the offline transcript.
        let pcm = try Data(contentsOf: URL(fileURLWithPath: file)).dropFirst(44)
        let streamed = try sequent(["speech", "transcribe", "m", "--stream", "--chunk-ms", "30", "--threads", "1"], stdin: Data(pcm))
        XCTAssertEqual(streamed.status, 0, streamed.stderr)
        let lines = streamed.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        XCTAssertEqual(lines.last, transcript, streamed.stdout)
        XCTAssertGreaterThan(lines.count, 1, "the transcript grows as the audio comes: \(lines)")
    }

    /// A run stopped after step 20 and continued with --resume ends with the same weights,
    /// bit for bit, as the run that was never stopped; other flags are refused by name.
    func testResumeContinuesBitwise() throws {
        let audio = try makeCorpus()
        let common = ["speech", "train", "--audio", audio.path, "--transcripts", audio.appendingPathComponent("transcripts.tsv").path,
                      "--model", "gru", "--steps", "40", "--learning-rate", "0.01"] + small
        let whole = try BuiltTool.run(common + ["--out", "whole"], in: folder)
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let stopped = try BuiltTool.run(common + ["--out", "parts"], in: folder, environment: ["SEQUENT_STOP_AT_STEP": "20"])
        XCTAssertEqual(stopped.status, 0, stopped.stderr)
        XCTAssertTrue(stopped.stdout.contains("stopped after step 20 of 40"), stopped.stdout)
        let different = try BuiltTool.run(common.map { $0 == "0.01" ? "0.02" : $0 } + ["--out", "parts", "--resume"], in: folder)
        XCTAssertNotEqual(different.status, 0)
        XCTAssertTrue(different.stderr.contains("--resume") && different.stderr.contains("do not reproduce"), different.stderr)
        let resumed = try BuiltTool.run(common + ["--out", "parts", "--resume"], in: folder)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let latest = { (name: String) throws -> Data in
            let checkpoints = self.folder.appendingPathComponent("\(name)/checkpoints")
            let steps = try FileManager.default.contentsOfDirectory(atPath: checkpoints.path).filter { $0.hasPrefix("checkpoint-") }.sorted()
            return try Data(contentsOf: checkpoints.appendingPathComponent("\(try XCTUnwrap(steps.last))/model.safetensors"))
        }
        XCTAssertEqual(try latest("parts"), try latest("whole"), "the resumed run's last checkpoint differs from the uninterrupted run's")
    }

    func testBadFilesAreSkippedByNameAndCounted() throws {
        let audio = try makeCorpus(count: 30)
        try Data("not audio".utf8).write(to: audio.appendingPathComponent("u0.wav"))
        var cut = Self.wav(Self.utterance(["lo"], seed: 1))
        cut = cut.prefix(cut.count / 2)
        try cut.write(to: audio.appendingPathComponent("u1.wav"))
        try Self.wav([1, 2, 3]).write(to: audio.appendingPathComponent("u2.wav"))           // shorter than a frame
        try Self.wav(Self.utterance(["lo"], seed: 3).prefix(300 + 240).map { $0 }).write(to: audio.appendingPathComponent("u3.wav"))
        let train = try sequent(["speech", "train", "--audio", audio.path, "--transcripts", audio.appendingPathComponent("transcripts.tsv").path,
                                 "--model", "gru", "--steps", "2", "--out", "m"] + small)
        XCTAssertEqual(train.status, 0, train.stderr)
        for name in ["u0.wav", "u1.wav", "u2.wav"] { XCTAssertTrue(train.stderr.contains(name), "\(name) not named in: \(train.stderr)") }
        XCTAssertTrue(train.stderr.contains("not a readable audio file"), train.stderr)
        XCTAssertTrue(train.stderr.contains("header declares"), train.stderr)
        XCTAssertTrue(train.stderr.contains("shorter than one"), train.stderr)
        XCTAssertTrue(train.stderr.contains("skipped 4 files") || train.stderr.contains("skipped 3 files"), train.stderr)
        XCTAssertFalse(train.stderr.contains("Fatal error"), train.stderr)

        // Eval with a word the model never saw: counted as errors, said once.
        var tsv = try String(contentsOf: audio.appendingPathComponent("transcripts.tsv"), encoding: .utf8)
        tsv = tsv.replacingOccurrences(of: "u10.wav\t", with: "u10.wav\tzebra ")
        try Data(tsv.utf8).write(to: audio.appendingPathComponent("other.tsv"))
        let eval = try sequent(["speech", "eval", "m", "--audio", audio.path, "--transcripts", audio.appendingPathComponent("other.tsv").path, "--threads", "1"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stderr.contains("never saw") && eval.stderr.contains("zebra"), eval.stderr)

        // A bidirectional model cannot stream.
        let bi = try sequent(["speech", "train", "--audio", audio.path, "--transcripts", audio.appendingPathComponent("transcripts.tsv").path,
                              "--model", "bigru", "--steps", "1", "--out", "bi"] + small)
        XCTAssertEqual(bi.status, 0, bi.stderr)
        try assertFails(["speech", "transcribe", "bi", "--stream"], mentions: ["bigru", "lstm or gru"])
    }

    func testClipsTooShortForTheirTranscriptAreSkippedByName() throws {
        let audio = try makeCorpus(count: 20)
        var tsv = try String(contentsOf: audio.appendingPathComponent("transcripts.tsv"), encoding: .utf8)
        tsv += "u0.wav\t" + Array(repeating: "lo hi", count: 40).joined(separator: " ") + "\n"
        try Data(tsv.utf8).write(to: audio.appendingPathComponent("long.tsv"))
        let train = try sequent(["speech", "train", "--audio", audio.path, "--transcripts", audio.appendingPathComponent("long.tsv").path,
                                 "--model", "gru", "--steps", "1", "--out", "m"] + small)
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(train.stderr.contains("too few for the 80 CTC needs"), train.stderr)
    }

    func testFolderAndFlagErrorsAreClear() throws {
        let empty = folder.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        try assertFails(["speech", "train", "--audio", empty.path, "--label-from-filename", "{label}_*", "--out", "m"], mentions: ["holds no audio files"])
        try assertFails(["speech", "train", "--audio", "missing", "--label-from-filename", "{label}_*", "--out", "m"], mentions: ["no such folder"])
        try assertFails(["speech", "train", "--audio", empty.path, "--out", "m"], mentions: ["--transcripts", "--label-from-filename"])
        try assertFails(["speech", "train", "--audio", empty.path, "--label-from-filename", "*_*", "--out", "m"], mentions: ["{label}"])
        try assertFails(["speech", "transcribe", "nowhere", "x.wav"], mentions: ["nowhere"])
        let audio = try makeCorpus(count: 6)
        // Only non-audio files in the folder: every one skipped by name, then a clear error.
        for i in 0..<6 { try Data("text".utf8).write(to: audio.appendingPathComponent("u\(i).wav")) }
        try assertFails(["speech", "train", "--audio", audio.path, "--transcripts", audio.appendingPathComponent("transcripts.tsv").path, "--out", "m"] + small,
                        mentions: ["u0.wav", "no readable audio"])
    }

    func testMakeSequencesWritesUtterancesTranscriptsAndRecipe() throws {
        let source = folder.appendingPathComponent("digits")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        for (i, word) in ["lo", "mid", "hi"].enumerated() {
            for take in 0..<3 {
                try Self.wav(Self.utterance([word], seed: 10 * i + take)).write(to: source.appendingPathComponent("\(word)_spk_\(take).wav"))
            }
        }
        let run = try sequent(["speech", "make-sequences", "--audio", source.path, "--label-from-filename", "{label}_*", "--takes", "0-1",
                               "--count", "5", "--seed", "3", "--out", "seq"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let out = folder.appendingPathComponent("seq")
        let tsv = try String(contentsOf: out.appendingPathComponent("transcripts.tsv"), encoding: .utf8)
        let lines = tsv.split(separator: "\n").dropFirst()
        XCTAssertEqual(lines.count, 5)
        for line in lines {
            let parts = line.split(separator: "\t")
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(String(parts[0])).path))
            XCTAssertTrue((2...7).contains(parts[1].split(separator: " ").count), String(line))
        }
        let recipe = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("recipe.json"))) as? [String: Any])
        XCTAssertEqual(recipe["seed"] as? Int, 3)
        XCTAssertEqual(recipe["takes"] as? String, "0-1")
        XCTAssertEqual(recipe["source_files"] as? Int, 6)
    }
}
