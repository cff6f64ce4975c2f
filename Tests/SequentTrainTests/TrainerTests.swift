#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SequentNN
import SequentData
import SequentTensor
@testable import SequentTrain
import XCTest

/// The training loop: bitwise resumption, clean stops on signals, evaluation and early
/// stopping, schedule and clipping in the logs, callbacks, and readable errors.
final class TrainerTests: XCTestCase {
    typealias Task = TinyCharacterTask

    // MARK: - Resumption

    /// Train 12 steps straight; train again, stop after 5 (a checkpoint), build everything
    /// anew from another seed, resume and finish: the losses of steps 6...12, the weights and
    /// the optimizer state are bitwise those of the straight run, and the metrics log holds
    /// each step once.
    func testResumingGivesBitwiseTheLossesOfAnUninterruptedRun() throws {
        let directory = try makeTemporaryDirectory()
        let straight = try Task.makeTrainer(Task.configuration(totalSteps: 12))
        let reference = try straight.fit()
        XCTAssertEqual(reference.reason, .completed)
        XCTAssertEqual(reference.losses.count, 12)

        var configuration = Task.configuration(totalSteps: 12)
        configuration.checkpointDirectory = directory.appendingPathComponent("checkpoints")
        configuration.logDirectory = directory.appendingPathComponent("logs")
        configuration.evaluationInterval = 4
        let first = try Task.makeTrainer(configuration)
        first.callbacks.append(ClosureCallback(onStepEnd: { report, control in
            if report.step == 5 { control.requestStop() }
        }))
        let stopped = try first.fit()
        XCTAssertEqual(stopped.reason, .stopRequested)
        XCTAssertEqual(stopped.step, 5)
        XCTAssertEqual(stopped.lastCheckpoint?.lastPathComponent, "checkpoint-5")
        XCTAssertEqual(bitPatterns(stopped.losses), bitPatterns(Array(reference.losses[0..<5])))

        let resumed = try Task.makeTrainer(configuration, seed: 99)
        let checkpoint = try resumed.resume(from: configuration.checkpointDirectory!)
        XCTAssertEqual(checkpoint.trainingState.step, 5)
        XCTAssertEqual(Set(checkpoint.trainingState.randomGenerators.keys), ["data", "module:drop", "module:rnn"])
        XCTAssertEqual(resumed.step, 5)
        let rest = try resumed.fit()
        XCTAssertEqual(rest.reason, .completed)
        XCTAssertEqual(rest.startStep, 5)
        XCTAssertEqual(bitPatterns(rest.losses), bitPatterns(Array(reference.losses[5...])))
        XCTAssertTrue(bitPatterns(resumed.model.stateDictionary()) == bitPatterns(straight.model.stateDictionary()), "weights differ")
        XCTAssertTrue(bitPatterns(resumed.optimizer.stateDictionary()) == bitPatterns(straight.optimizer.stateDictionary()), "optimizer states differ")
        XCTAssertEqual(resumed.model.dropout.generator.stateWords, straight.model.dropout.generator.stateWords)

        let records = try MetricsLog.read(configuration.logDirectory!.appendingPathComponent("metrics.jsonl"))
        let trainingSteps = records.filter { $0.scalars["loss"] != nil }.map(\.step)
        XCTAssertEqual(trainingSteps, Array(1...12))
        XCTAssertEqual(records.filter { $0.scalars["eval/loss"] != nil }.map(\.step), [4, 8, 12])
        XCTAssertEqual(records.compactMap { $0.scalars["loss"] }.map { Float($0).bitPattern }, bitPatterns(reference.losses))
        let boards = try FileManager.default.contentsOfDirectory(atPath: configuration.logDirectory!.path).filter { $0.hasPrefix("events.out.tfevents.") }
        XCTAssertEqual(boards.count, 2, "one event file per run: \(boards)")
    }

    /// A checkpoint saved by a model without dropout cannot resume one with dropout: the
    /// error names the generator, and the trainer is left as it was.
    func testResumingWithoutAGeneratorStateNamesItAndChangesNothing() throws {
        let directory = try makeTemporaryDirectory()
        var configuration = Task.configuration(totalSteps: 2)
        configuration.checkpointDirectory = directory
        let trainer = try Task.makeTrainer(configuration)
        _ = try trainer.fit()
        let path = try XCTUnwrap(Checkpoint.latest(in: directory)).appendingPathComponent("training_state.json")
        var state = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any]
        var generators = state["random_generators"] as! [String: Any]
        generators["module:drop"] = nil
        state["random_generators"] = generators
        try JSONSerialization.data(withJSONObject: state).write(to: path)

        let fresh = try Task.makeTrainer(configuration, seed: 5)
        let before = bitPatterns(fresh.model.stateDictionary())
        XCTAssertThrowsError(try fresh.resume(from: directory)) { error in
            XCTAssertTrue("\(error)".contains("'module:drop'") && "\(error)".contains("training_state.json"), "\(error)")
        }
        XCTAssertEqual(bitPatterns(fresh.model.stateDictionary()), before)
        XCTAssertEqual(fresh.step, 0)
    }

    // MARK: - Signals

    /// SIGINT and SIGTERM sent to the process during a step stop the run after that step,
    /// with its checkpoint; the previous signal actions are back afterwards. While `fit` runs
    /// the signals are blocked on the computing thread and taken by another one.
    func testSignalsStopAfterTheCurrentStepWithACheckpoint() throws {
        for (number, atStep) in [(SIGINT, 3), (SIGTERM, 2)] {
            let directory = try makeTemporaryDirectory()
            var configuration = Task.configuration(totalSteps: 10)
            configuration.checkpointDirectory = directory
            configuration.checkpointInterval = 100
            var lines: [String] = []
            configuration.progress = ProgressPrinter(isTerminal: false, logInterval: 100) { lines.append($0) }
            let before = currentHandler(number)
            let trainer = try Task.makeTrainer(configuration)
            trainer.callbacks.append(ClosureCallback(onStepEnd: { report, _ in
                guard report.step == atStep else { return }
                var mask = sigset_t()
                pthread_sigmask(SIG_BLOCK, nil, &mask)
                XCTAssertEqual(sigismember(&mask, number), 1, "blocked on the thread that computes")
                let received = StopSignals.receivedCount
                kill(getpid(), number)
                while StopSignals.receivedCount == received { usleep(100) }
            }))
            let result = try trainer.fit()
            XCTAssertEqual(result.reason, .interrupted(signal: number))
            XCTAssertTrue(result.wasInterrupted)
            XCTAssertEqual(result.step, atStep)
            XCTAssertEqual(try Checkpoint.load(from: directory).trainingState.step, atStep)
            XCTAssertEqual(result.lastCheckpoint?.lastPathComponent, "checkpoint-\(atStep)")
            XCTAssertTrue(lines.contains { $0.contains("received: stopping after step \(atStep)") }, "\(lines)")
            XCTAssertEqual(lines.last, "saved \(result.lastCheckpoint!.path)\n")
            XCTAssertEqual(currentHandler(number), before, "signal \(number): the previous action is restored")
        }
    }

    /// The handler address of `signal`'s current action.
    private func currentHandler(_ signal: Int32) -> UInt {
        var action = sigaction()
        sigaction(signal, nil, &action)
        return unsafeBitCast(action.__sigaction_handler.sa_handler, to: UInt.self)
    }

    // MARK: - Evaluation and early stopping

    /// Scripted validation values: with patience 2 and minDelta 0.05 the run stops at the
    /// second evaluation in a row that does not beat the best by 0.05, and says so.
    func testEarlyStoppingStopsAfterPatienceEvaluationsWithoutImprovement() throws {
        let directory = try makeTemporaryDirectory()
        var configuration = Task.configuration(totalSteps: 30)
        configuration.evaluationInterval = 2
        configuration.earlyStopping = try EarlyStopping(metric: "error", mode: .minimize, patience: 2, minDelta: 0.05)
        configuration.checkpointDirectory = directory
        let trainer = try Task.makeTrainer(configuration)
        var script: [Double] = [0.9, 0.8, 0.78, 0.7, 0.69, 0.68, 0.1]
        trainer.validation = { _ in ["error": script.removeFirst()] }
        var improvements: [Bool] = []
        trainer.callbacks.append(ClosureCallback(onEvaluation: { report, _ in improvements.append(report.improved) }))
        let result = try trainer.fit()
        XCTAssertEqual(result.reason, .earlyStopped)
        XCTAssertEqual(improvements, [true, true, false, true, false, false])
        XCTAssertEqual(result.step, 12)
        XCTAssertEqual(result.bestMetric, 0.7)
        XCTAssertEqual(result.bestStep, 8)
        let state = try Checkpoint.load(from: directory).trainingState
        XCTAssertEqual(state.step, 12)
        XCTAssertEqual(state.bestMetric, 0.7)
        XCTAssertEqual(state.values["best_step"], 8)
        XCTAssertEqual(state.values["evaluations_without_improvement"], 2)

        // Resumed, it keeps the best value and the count: one more evaluation without
        // improvement stops it again (patience is counted across the resume).
        let resumed = try Task.makeTrainer(configuration, seed: 3)
        try resumed.resume(from: directory)
        XCTAssertEqual(resumed.bestMetric, 0.7)
        XCTAssertEqual(resumed.evaluationsWithoutImprovement, 2)
    }

    func testMaximizeModeAndMissingMetric() throws {
        let rule = try EarlyStopping(metric: "accuracy", mode: .maximize, patience: 1, minDelta: 0.01)
        XCTAssertTrue(rule.improves(0.5, on: nil))
        XCTAssertTrue(rule.improves(0.52, on: 0.5))
        XCTAssertFalse(rule.improves(0.505, on: 0.5))
        XCTAssertFalse(rule.improves(.nan, on: 0.5))
        XCTAssertThrowsError(try EarlyStopping(metric: "x", patience: 0))
        XCTAssertThrowsError(try EarlyStopping(metric: "x", patience: 1, minDelta: -1))

        var configuration = Task.configuration(totalSteps: 4)
        configuration.evaluationInterval = 2
        configuration.earlyStopping = rule
        let trainer = try Task.makeTrainer(configuration)
        XCTAssertThrowsError(try trainer.fit()) { error in
            XCTAssertTrue("\(error)".contains("'accuracy'") && "\(error)".contains("[\"loss\"]"), "\(error)")
        }
    }

    // MARK: - What each step logs

    /// The learning rate of step k is the schedule's rate at k, the gradient norm is logged
    /// before clipping, evaluation metrics go under `eval/`, and the callbacks run in order.
    func testLogsCarryScheduleClippingAndEvaluationAndCallbacksRunInOrder() throws {
        let directory = try makeTemporaryDirectory()
        var configuration = Task.configuration(totalSteps: 6)
        configuration.logDirectory = directory.appendingPathComponent("logs")
        configuration.checkpointDirectory = directory.appendingPathComponent("checkpoints")
        configuration.checkpointInterval = 3
        configuration.keepLastCheckpoints = 1
        configuration.evaluationInterval = 3
        configuration.maxGradientNorm = 0.01  // small enough that every step clips
        let trainer = try Task.makeTrainer(configuration)
        var events: [String] = []
        trainer.callbacks.append(ClosureCallback(
            onStepEnd: { report, _ in events.append("step \(report.step)") },
            onEvaluation: { report, _ in events.append("eval \(report.step)") },
            onCheckpoint: { url, step, _ in events.append("checkpoint \(step) \(url.lastPathComponent)") },
            onEnd: { result in events.append("end \(result.step)") }))
        let result = try trainer.fit()
        XCTAssertEqual(events, ["step 1", "step 2", "step 3", "eval 3", "checkpoint 3 checkpoint-3",
                                "step 4", "step 5", "step 6", "eval 6", "checkpoint 6 checkpoint-6", "end 6"])
        XCTAssertEqual(try Checkpoint.all(in: configuration.checkpointDirectory!).map(\.lastPathComponent), ["checkpoint-6"])

        let records = try MetricsLog.read(configuration.logDirectory!.appendingPathComponent("metrics.jsonl"))
        let steps = records.filter { $0.scalars["loss"] != nil }
        XCTAssertEqual(steps.map(\.step), Array(1...6))
        for record in steps {
            XCTAssertEqual(Float(record.scalars["learning_rate"]!), trainer.schedule!.learningRate(atStep: record.step - 1))
            XCTAssertGreaterThan(record.scalars["gradient_norm"]!, 0.01)
            XCTAssertGreaterThan(record.scalars["tokens_per_s"]!, 0)
            XCTAssertNotNil(record.scalars["step_s"])
        }
        XCTAssertEqual(records.filter { $0.scalars["eval/loss"] != nil }.map(\.step), [3, 6])
        XCTAssertEqual(result.lastEvaluation?.keys.sorted(), ["loss"])
        XCTAssertEqual(bitPatterns(result.losses), records.compactMap { $0.scalars["loss"] }.map { Float($0).bitPattern })

        // A new run into the same log directory would mix two runs: it is refused by name.
        var again = configuration
        again.checkpointDirectory = nil
        XCTAssertThrowsError(try Task.makeTrainer(again).fit()) { error in
            XCTAssertTrue("\(error)".contains("holds the logs of another run"), "\(error)")
        }
    }

    // MARK: - Errors

    func testInvalidConfigurationsAndLossesAreNamed() throws {
        XCTAssertThrowsError(try Task.makeTrainer(Task.configuration(totalSteps: 0))) { error in
            XCTAssertTrue("\(error)".contains("totalSteps"), "\(error)")
        }
        var configuration = Task.configuration(totalSteps: 3)
        configuration.checkpointInterval = 0
        XCTAssertThrowsError(try Task.makeTrainer(configuration)) { XCTAssertTrue("\($0)".contains("checkpointInterval"), "\($0)") }
        configuration = Task.configuration(totalSteps: 3)
        configuration.earlyStopping = try EarlyStopping(metric: "loss", patience: 1)
        XCTAssertThrowsError(try Task.makeTrainer(configuration, validation: false).fit()) {
            XCTAssertTrue("\($0)".contains("validation"), "\($0)")
        }

        let trainer = try Task.makeTrainer(Task.configuration(totalSteps: 3))
        let diverging = try Trainer(
            model: trainer.model, optimizer: trainer.optimizer, data: trainer.data, configuration: Task.configuration(totalSteps: 3),
            loss: { model, batch in
                let (loss, count) = try Task.loss(model, batch)
                return (loss * Tensor(Float.nan), count)
            })
        XCTAssertThrowsError(try diverging.fit()) { error in
            // The step, what went wrong, and the likely cause.
            for part in ["stopped at step 1", "the loss is nan", "learning rate"] {
                XCTAssertTrue("\(error)".contains(part), "\(error)")
            }
        }
        let wide = try Trainer(
            model: trainer.model, optimizer: trainer.optimizer, data: trainer.data, configuration: Task.configuration(totalSteps: 3),
            loss: { _, _ in (Tensor([1, 2]), 1) })
        XCTAssertThrowsError(try wide.fit()) { XCTAssertTrue("\($0)".contains("one number"), "\($0)") }
        XCTAssertThrowsError(try trainer.saveCheckpoint()) { XCTAssertTrue("\($0)".contains("checkpointDirectory"), "\($0)") }
    }

    /// A model whose recurrent layer drops out between layers has that generator
    /// checkpointed, so its resume is bitwise too.
    func testRecurrentDropoutGeneratorIsCheckpointed() throws {
        var generator = RandomGenerator(seed: 1)
        let model = try RecurrentLanguageModel(.init(cell: .gru, vocabularySize: 5, embeddingSize: 3, hiddenSize: 4, layerCount: 2, dropout: 0.2), generator: &generator)
        let optimizer = try SGD(namedParameters: model.namedParameters(), learningRate: 0.1)
        let data = try ShuffledBatches([[0, 1, 2, 3]], batchSize: 1, generator: generator)
        var configuration = TrainerConfiguration(totalSteps: 1)
        var lines: [String] = []
        configuration.progress = ProgressPrinter(isTerminal: false) { lines.append($0) }
        let trainer = try Trainer(model: model, optimizer: optimizer, data: data, configuration: configuration) { model, batch in
            let tokens = batch[0]
            let (logits, _) = try model(Array(tokens.dropLast()), batchSize: 1, time: 3)
            return (try Loss.crossEntropy(logits: logits, targets: Array(tokens.dropFirst())), 3)
        }
        _ = try trainer.fit()
        XCTAssertEqual(trainer.trainingState().randomGenerators["module:rnn"]?.words, model.recurrent.generator.stateWords)
    }

    // MARK: - Time limit and --resume

    /// A time limit already spent stops the run after its first step, with the reason
    /// `.timeLimit` and a checkpoint that `resumeFromLatest` continues bitwise.
    func testTimeLimitStopsCleanlyAndResumeFromLatestContinues() throws {
        let directory = try makeTemporaryDirectory()
        let reference = try Task.makeTrainer(Task.configuration(totalSteps: 6)).fit()
        var configuration = Task.configuration(totalSteps: 6)
        configuration.checkpointDirectory = directory.appendingPathComponent("checkpoints")
        configuration.timeLimit = try TimeLimit(seconds: 1, start: MetricsClock.system.monotonicSeconds() - 10)
        let limited = try Task.makeTrainer(configuration)
        let stopped = try limited.fit()
        XCTAssertEqual(stopped.reason, .timeLimit)
        XCTAssertEqual(stopped.step, 1)
        XCTAssertEqual(stopped.lastCheckpoint?.lastPathComponent, "checkpoint-1")

        configuration.timeLimit = nil
        let resumed = try Task.makeTrainer(configuration, seed: 7)
        let checkpoint = try resumed.resumeFromLatest(in: configuration.checkpointDirectory!)
        XCTAssertEqual(checkpoint?.trainingState.step, 1)
        let rest = try resumed.fit()
        XCTAssertEqual(rest.reason, .completed)
        XCTAssertEqual(bitPatterns(stopped.losses + rest.losses), bitPatterns(reference.losses))
    }

    /// --resume with no checkpoint is an error naming the folder; a run that may start
    /// afresh (an ensemble member never reached) gets nil.
    func testResumeFromLatestWithoutACheckpoint() throws {
        let empty = try makeTemporaryDirectory().appendingPathComponent("checkpoints")
        let trainer = try Task.makeTrainer(Task.configuration(totalSteps: 2))
        XCTAssertThrowsError(try trainer.resumeFromLatest(in: empty)) { error in
            XCTAssertTrue("\(error)".contains(empty.path) && "\(error)".contains("--resume"), "\(error)")
        }
        XCTAssertNil(try trainer.resumeFromLatest(in: empty, required: false))
        XCTAssertEqual(trainer.step, 0)
    }

    /// `secondsPerStep` times a throwaway model without touching the trainer's.
    func testSecondsPerStepLeavesTheTrainerAlone() throws {
        let trainer = try Task.makeTrainer(Task.configuration(totalSteps: 2))
        let before = bitPatterns(trainer.model.stateDictionary())
        var generator = RandomGenerator(seed: 5)
        let seconds = try Trainer<TinyCharacterModel, ShuffledBatches<Int>>.secondsPerStep(
            probe: try TinyCharacterModel(Task.config, generator: &generator), data: trainer.data, learningRate: 0.01, timedSteps: 2,
            loss: Task.loss)
        XCTAssertGreaterThan(seconds, 0)
        XCTAssertTrue(bitPatterns(trainer.model.stateDictionary()) == before)
        XCTAssertEqual(trainer.data.position.index, 0)
    }
}
