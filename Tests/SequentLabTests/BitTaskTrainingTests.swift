import Foundation
import SequentData
@testable import SequentLab
import SequentNN
import SequentTensor
import SequentTrain
import XCTest

/// Tests of `Memory/BitTaskTraining.swift`: a few steps of each model on the Trainer, the
/// scores and the pictures.
final class BitTaskTrainingTests: XCTestCase {
    private func tinyConfig(_ model: String, task: BitSequenceTask = .copy) -> BitTaskConfig {
        var config = BitTaskConfig.defaults(task: task, model: model)
        config.task.maxLength = 3
        config.task.minLength = config.task.shortestLength
        config.ntm.controllerSize = 8
        config.ntm.memorySlots = 24
        config.ntm.memoryWidth = 4
        config.lstmHidden = 8
        config.steps = 4
        config.evaluationInterval = 2
        return config
    }

    func testEveryTaskTrainsBothModelsAndScores() throws {
        for task in BitSequenceTask.allCases {
            for model in ["ntm", "lstm"] {
                var config = tinyConfig(model, task: task)
                if task == .repeatCopy { config.task.maxRepeats = 2 }
                let outcome = try BitTaskTraining.train(config, options: .init())
                XCTAssertEqual(outcome.result.step, 4)
                XCTAssertNotNil(outcome.bestBitErrors)
                let scores = try BitTaskTraining.bitErrors(outcome.model, task: config.task, lengths: [2, 4], sequences: 3, seed: 1)
                XCTAssertEqual(scores.map(\.length), [2, 4])
                XCTAssertTrue(scores.allSatisfy { $0.bitErrors.isFinite && $0.bitErrors >= 0 })
            }
        }
    }

    /// With `solvedBelowBitErrors` the run stops at the first evaluation below it and says
    /// at which step; without it every step runs and nothing is marked solved.
    func testARunStopsOnceSolved() throws {
        var config = tinyConfig("lstm")
        config.steps = 6
        let solved = try BitTaskTraining.train(config, options: .init(solvedBelowBitErrors: .infinity))
        XCTAssertEqual(solved.solvedAtStep, 2)
        XCTAssertEqual(solved.result.step, 2)
        let unsolved = try BitTaskTraining.train(config, options: .init(solvedBelowBitErrors: 0))
        XCTAssertNil(unsolved.solvedAtStep)
        XCTAssertEqual(unsolved.result.step, 6)
    }

    func testWeightingPicturesShowTheSlotsInUse() throws {
        let config = tinyConfig("ntm")
        guard case .ntm(let ntm) = try BitTaskModel(config) else { return XCTFail("not an NTM") }
        let pictures = try BitTaskTraining.weightingPictures(ntm, task: config.task, length: 3, seed: 2)
        XCTAssertEqual(pictures.write.xLabels.count, 7)
        XCTAssertFalse(pictures.read.yLabels.isEmpty)
        XCTAssertTrue(pictures.write.svg.hasPrefix("<svg"))
    }

    /// Interleaved rounds: one (NTM, LSTM) pair of positive CPU times per round.
    func testPairedStepSecondsGiveOnePairPerRound() throws {
        let ntm = try BitTaskModel(tinyConfig("ntm")), lstm = try BitTaskModel(tinyConfig("lstm"))
        let rounds = try BitTaskTraining.pairedStepSeconds(ntm, lstm, task: tinyConfig("ntm").task, length: 3, batchSize: 2, rounds: 3)
        XCTAssertEqual(rounds.count, 3)
        XCTAssertTrue(rounds.allSatisfy { $0.first > 0 && $0.second > 0 })
        XCTAssertNil(ntm.module.parameters().first?.grad, "the timing leaves no gradient behind")
    }

    func testBadSettingsAreRefused() {
        var config = tinyConfig("ntm")
        config.ntm.memorySlots = 0
        XCTAssertThrowsError(try BitTaskTraining.train(config, options: .init()))
        config = tinyConfig("gru")
        XCTAssertThrowsError(try BitTaskTraining.train(config, options: .init())) { XCTAssertTrue("\($0)".contains("--model")) }
    }
}
