import SequentNN
import SequentTensor
@testable import SequentTrain
import XCTest

/// Scoring a token sequence in streams gives the loss of one pass over it.
final class LanguageModelScoreTests: XCTestCase {
    func testStreamsWithCarriedStateScoreAsOnePass() throws {
        var generator = RandomGenerator(seed: 9)
        let model = try LanguageModel(.init(cell: .lstm, vocabularySize: 7, embeddingSize: 4, hiddenSize: 5, layerCount: 1, dropout: 0), generator: &generator)
        let tokens = (0..<41).map { _ in Int(generator.next() % 7) }
        // One stream read in windows of 6, state carried: the same as one window of 40.
        let scored = try LanguageModelScore.loss(model, tokens: tokens, batchSize: 1, context: 6)
        XCTAssertEqual(scored.scored, 40)
        let whole = try withoutGradients {
            try Loss.crossEntropy(logits: try model(Array(tokens.dropLast()), batchSize: 1, time: 40).logits, targets: Array(tokens.dropFirst())).item
        }
        XCTAssertEqual(scored.loss, Double(whole), accuracy: 1e-5)
    }
}
