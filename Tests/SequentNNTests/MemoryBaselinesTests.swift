import Foundation
import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Memory/MemoryBaselines.swift`.
final class MemoryBaselinesTests: XCTestCase {
    func testBinaryCrossEntropyWithLogitsMatchesItsDefinition() throws {
        // x = 0, y = 1: log 2;  x = 2, y = 0: 2 + log(1 + e^-2);  x = -3, y = 1: 3 + log(1 + e^-3);
        // x = 40, y = 1: about e^-40 (no overflow).
        let loss = try Loss.binaryCrossEntropyWithLogits(logits: Tensor([0, 2, -3, 40]), targets: Tensor([1, 0, 1, 1]))
        let expected = (log(2.0) + 2 + log(1 + exp(-2.0)) + 3 + log(1 + exp(-3.0))) / 4
        XCTAssertEqual(Double(loss.item), expected, accuracy: 1e-5)
        checkGradient([randomTensor([3, 4], lower: -3, upper: 3, seed: 2)]) { inputs in
            try! Loss.binaryCrossEntropyWithLogits(logits: inputs[0], targets: Tensor(shape: [3, 4], scalars: (0..<12).map { Float($0 % 2) }))
        }
        XCTAssertThrowsError(try Loss.binaryCrossEntropyWithLogits(logits: Tensor([0, 1]), targets: Tensor([1])))
    }

    func testBaselinesGiveOneOutputPerStepOrStory() throws {
        var generator = RandomGenerator(seed: 1)
        let sequence = try SequenceLSTM(inputSize: 3, hiddenSize: 4, layerCount: 2, outputSize: 2, generator: &generator)
        XCTAssertEqual(try sequence(Tensor.zeros([5, 2, 3])).shape, [5, 2, 2])
        let story = try StoryLSTM(vocabularySize: 6, embeddingSize: 3, hiddenSize: 4, generator: &generator)
        XCTAssertEqual(try story(tokens: [1, 2, 3, 4, 5, 0], batchSize: 2, time: 3, lengths: [3, 2]).shape, [2, 6])
    }
}
