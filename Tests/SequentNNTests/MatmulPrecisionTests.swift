import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Inference at `MatmulPrecision.bfloat16` stays close to Float: the accuracy the `infer`
/// benchmark rows at bfloat16 rely on (language models of the benchmark's shapes, smaller).
final class MatmulPrecisionTests: XCTestCase {
    /// The largest logit difference relative to the largest logit, and the share of
    /// positions whose most likely next token is unchanged.
    private func agreement(_ exact: Tensor, _ reduced: Tensor) -> (worst: Float, sameChoice: Double) {
        let vocabulary = exact.shape.last!
        let (e, r) = (exact.scalars, reduced.scalars)
        let scale = e.map(abs).max()!
        let worst = zip(e, r).map { abs($0 - $1) }.max()! / scale
        var same = 0
        for row in 0..<(e.count / vocabulary) {
            let range = row * vocabulary..<(row + 1) * vocabulary
            let best = { (x: [Float]) in range.max { x[$0] < x[$1] }! }
            if best(e) == best(r) { same += 1 }
        }
        return (worst, Double(same) / Double(e.count / vocabulary))
    }

    func testRecurrentLanguageModelsAtBFloat16() throws {
        for cell in [RecurrentCellType.rnn(.tanh), .lstm, .gru] {
            var generator = RandomGenerator(seed: 31)
            let model = try RecurrentLanguageModel(.init(cell: cell, vocabularySize: 65, embeddingSize: 64, hiddenSize: 128,
                                                         layerCount: 2), generator: &generator)
            let tokens = (0..<(8 * 40)).map { ($0 * 7 + $0 / 3) % 65 }
            let exact = try withoutGradients { try model(tokens, batchSize: 8, time: 40).logits }
            let reduced = try GEMM.withPrecision(.bfloat16) { try withoutGradients { try model(tokens, batchSize: 8, time: 40).logits } }
            let (worst, sameChoice) = agreement(exact, reduced)
            print("bfloat16 matmuls, \(cell): largest relative logit difference \(worst), same greedy choice \(sameChoice)")
            XCTAssertLessThan(worst, 0.02, "\(cell)")
            XCTAssertGreaterThan(sameChoice, 0.95, "\(cell)")
        }
    }

    func testTransformerLanguageModelAtBFloat16() throws {
        var generator = RandomGenerator(seed: 32)
        let model = try TransformerLanguageModel(vocabularySize: 65, dModel: 64, layerCount: 2, headCount: 4, maxLength: 32,
                                                 generator: &generator)
        let tokens = (0..<(4 * 32)).map { ($0 * 5 + $0 / 7) % 65 }
        let exact = try withoutGradients { try model(tokens, batchSize: 4, time: 32) }
        let reduced = try GEMM.withPrecision(.bfloat16) { try withoutGradients { try model(tokens, batchSize: 4, time: 32) } }
        let (worst, sameChoice) = agreement(exact, reduced)
        print("bfloat16 matmuls, Transformer: largest relative logit difference \(worst), same greedy choice \(sameChoice)")
        XCTAssertLessThan(worst, 0.02)
        XCTAssertGreaterThan(sameChoice, 0.95)
    }
}
