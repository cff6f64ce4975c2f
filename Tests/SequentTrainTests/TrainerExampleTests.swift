import Foundation
import SequentNN
import SequentTensor
import SequentTrain
import XCTest

/// End to end, as a user would write it: a character LSTM language model learns a generated
/// text in 30 steps, with evaluation, checkpoints, logs and the progress display.
final class TrainerExampleTests: XCTestCase {
    func testCharacterLSTMLearnsAGeneratedText() throws {
        let run = try makeTemporaryDirectory()
        var configuration = TrainerConfiguration(totalSteps: 30)
        configuration.evaluationInterval = 10
        configuration.checkpointDirectory = run.appendingPathComponent("checkpoints")
        configuration.checkpointInterval = 10
        configuration.keepLastCheckpoints = 2
        configuration.logDirectory = run.appendingPathComponent("logs")
        configuration.maxGradientNorm = 1
        var printed = ""
        configuration.progress = ProgressPrinter(isTerminal: false, logInterval: 10) { printed += $0 }
        let trainer = try TinyCharacterTask.makeTrainer(configuration)

        let result = try trainer.fit()

        XCTAssertEqual(result.reason, .completed)
        XCTAssertEqual(result.step, 30)
        let start = result.losses.prefix(3).reduce(0, +) / 3, end = result.losses.suffix(3).reduce(0, +) / 3
        XCTAssertLessThan(end, start * 0.75, "losses \(result.losses)")
        XCTAssertLessThan(result.lastEvaluation!["loss"]!, Double(start))
        XCTAssertEqual(try Checkpoint.all(in: configuration.checkpointDirectory!).map(\.lastPathComponent), ["checkpoint-20", "checkpoint-30"])
        XCTAssertEqual(printed.split(separator: "\n").filter { $0.hasPrefix("step ") }.count, 4, printed)
        XCTAssertEqual(printed.split(separator: "\n").filter { $0.hasPrefix("eval step ") }.count, 3, printed)
    }
}
