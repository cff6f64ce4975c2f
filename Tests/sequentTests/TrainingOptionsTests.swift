import Foundation
import XCTest

/// `ThreadOption`: the `--threads` of every command that applies a trained model, checked
/// when the command line is parsed, before any model folder or data is read.
final class TrainingOptionsTests: XCTestCase {
    /// Each command with the arguments it needs to get past parsing (the folder and files
    /// need not exist: the thread check comes first).
    private static let commands: [[String]] = [
        ["lm", "eval", "no-model", "--text", "no-text.txt"],
        ["lm", "generate", "no-model"],
        ["classify", "eval", "no-model", "--data", "no-data.tsv"],
        ["classify", "predict", "no-model"],
        ["speech", "eval", "no-model", "--audio", "no-audio", "--label-from-filename", "{label}_*"],
        ["speech", "transcribe", "no-model", "no-audio.wav"],
        ["translate", "eval", "no-model", "--source", "no-source", "--reference", "no-reference"],
        ["translate", "predict", "no-model"],
        ["memory", "eval", "no-model"],
        ["forecast", "eval", "no-model"],
        ["forecast", "predict", "no-model"],
    ]

    func testThreadsOutOfRangeIsRefusedByEveryModelCommandBeforeReadingAnything() throws {
        for command in Self.commands {
            for threads in ["0", "-1", "100000"] {
                let run = try BuiltTool.run(command + ["--threads", threads])
                XCTAssertEqual(run.status, 64, "\(command) --threads \(threads): \(run.stderr)")
                XCTAssertTrue(run.stderr.contains("--threads: must be in 1..."), "\(command) --threads \(threads): \(run.stderr)")
                XCTAssertFalse(run.stderr.contains("no-model"), "\(command) read the folder first: \(run.stderr)")
            }
        }
    }
}
