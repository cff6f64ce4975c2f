import Foundation
import SequentData
@testable import SequentLab
import SequentNN
import SequentTensor
import XCTest

/// Tests of `Memory/BAbITraining.swift`.
final class BAbITrainingTests: XCTestCase {
    func testBothModelsTrainOnGeneratedTasksAndScore() throws {
        let train = try BAbIDataSet.generated(tasks: [1, 8], count: 40, seed: 1)
        let test = try BAbIDataSet.generated(tasks: [1, 8], count: 20, seed: 2)
        XCTAssertEqual(train.groups.map(\.name), ["task 1", "task 8"])
        for model in ["memn2n", "lstm"] {
            var config = BAbIConfig.defaults(model: model)
            config.steps = 3
            config.batchSize = 8
            config.evaluationInterval = 3
            config.linearStartSteps = 2
            let outcome = try BAbITraining.train(config, train: train, validation: test, options: .init())
            XCTAssertEqual(outcome.config.network.vocabularySize, outcome.vocabulary.count)
            let (S, J) = (outcome.config.network.memories, outcome.config.network.sentenceLength)
            let scores = try BAbITraining.evaluate(outcome.model, vocabulary: outcome.vocabulary, examples: test.all, memories: S, sentenceLength: J)
            XCTAssertEqual(scores.questions, 40)
            XCTAssertTrue((0...1).contains(scores.accuracy))
            if case .memn2n(let network) = outcome.model {
                XCTAssertFalse(network.linearAttention)
                let picture = try BAbITraining.attentionPicture(network, vocabulary: outcome.vocabulary, example: test.all[0], memories: S, sentenceLength: J)
                XCTAssertEqual(picture.xLabels, ["hop 1", "hop 2", "hop 3"])
            }
        }
    }

    func testZeroMemorySlotsAndUnknownTasksAreRefused() {
        var config = BAbIConfig.defaults(model: "memn2n")
        config.network.memories = 0
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("memory slot")) }
        config = BAbIConfig.defaults(model: "memn2n")
        config.tasks = [5]
        XCTAssertThrowsError(try config.validate())
    }
}
