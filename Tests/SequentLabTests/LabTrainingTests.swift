@testable import SequentLab
import SequentNN
import SequentTensor
import XCTest

/// The lab's training on the Trainer: generated batches, evaluations, stops, and the sweep.
final class LabTrainingTests: XCTestCase {
    func testGeneratedBatchesReplayFromAPosition() throws {
        var batches = GeneratedBatches(generator: RandomGenerator(seed: 3)) { Int($0.next() % 1000) }
        _ = try batches.nextBatch()
        let position = batches.position
        let next = try (0..<3).map { _ in try batches.nextBatch() }
        var other = GeneratedBatches(generator: RandomGenerator(seed: 99)) { Int($0.next() % 1000) }
        try other.seek(to: position)
        XCTAssertEqual(try (0..<3).map { _ in try other.nextBatch() }, next)
    }

    func testTrainingEvaluatesAndStopsWhenAsked() throws {
        var generator = RandomGenerator(seed: 1)
        let model = try ModelFamily(.gru, inputSize: 2, outputSize: 1).model(ModelSize(width: 4), generator: &generator)
        let task = AddingProblem(length: 5)
        var heldOut = RandomGenerator(seed: 2)
        let test = task.batch(16, &heldOut)
        let training = LabTraining(learningRate: 1e-2, steps: 20, evaluationInterval: 5)
        var evaluations = 0
        let outcome = try training.run(
            model, data: GeneratedBatches(generator: RandomGenerator(seed: 3)) { task.batch(8, &$0) },
            validation: {
                evaluations += 1
                return ["loss": Double(try Loss.meanSquaredError(try model.lastStep(test.input), test.target).item)]
            },
            evaluatesAtStart: true, stop: { _ in evaluations >= 3 }
        ) { batch in (try Loss.meanSquaredError(try model.lastStep(batch.input), batch.target), 8) }
        XCTAssertEqual(outcome.evaluations.map(\.step), [0, 5, 10], "at the start, then every 5 steps until the stop")
        XCTAssertEqual(outcome.steps, 10)
        XCTAssertEqual(outcome.losses.count, 10)
        XCTAssertEqual(outcome.stepSeconds.count, 10)
    }

    func testTheSweepKeepsTheLowestLossAndCountsDivergenceAsInfinite() throws {
        let sweep = try LearningRateSweep.run("m", candidates: [1e-3, 3e-3, 1e-2]) { rate in
            if rate == 1e-2 { throw SequentError(.invalidValue, "training stopped at step 3: the loss is nan") }
            return rate == 3e-3 ? 0.5 : 0.7
        }
        XCTAssertEqual(sweep.chosen, 3e-3)
        XCTAssertEqual(sweep.trials.last?.validationLoss, .infinity)
        let table = LearningRateSweep.table([sweep], lossName: "loss")
        XCTAssertEqual(table.rows[0], ["m", "0.7", "**0.5**", "diverged", "0.003"])
    }
}
