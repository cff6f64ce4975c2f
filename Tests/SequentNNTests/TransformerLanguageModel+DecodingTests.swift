import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Transformer/TransformerLanguageModel+Decoding.swift`.
final class TransformerLanguageModelDecodingTests: XCTestCase {
    private func model(maxLength: Int = 12, dropout: Float = 0, seed: UInt64 = 1) -> TransformerLanguageModel {
        var generator = RandomGenerator(seed: seed)
        return try! TransformerLanguageModel(vocabularySize: 9, dModel: 16, layerCount: 2, headCount: 4, maxLength: maxLength,
                                             dropout: dropout, generator: &generator)
    }

    /// One token at a time through the key/value cache gives the logits of full recomputation
    /// with the causal mask, to 1e-5.
    func testOneTokenAtATimeEqualsFullRecomputation() throws {
        let lm = model(dropout: 0.1)
        lm.setTraining(false)
        let tokens = [3, 1, 4, 1, 5, 0, 2, 6, 5, 3, 5, 8]
        let full = try lm(tokens, batchSize: 1, time: tokens.count).reshaped(to: [tokens.count, 9])
        let stepper = TransformerLanguageModel.Stepper(model: lm)
        let steps = try tokens.map { try stepper.step(token: $0) }
        XCTAssertEqual(stepper.position, 12)
        assertClose(Tensor.stack(steps), full, relative: 1e-5, absolute: 1e-5)

        // A prefill and then pieces, with a batch of 2.
        let batch = TransformerLanguageModel.Stepper(model: lm, batchSize: 2)
        let other = tokens.reversed()
        let both = try lm(tokens + other, batchSize: 2, time: 12)
        let prefill = try batch.step(tokens: Array(tokens[0..<5]) + Array(other.prefix(5)), count: 5)
        let rest = try batch.step(tokens: Array(tokens[5...]) + Array(other.suffix(7)), count: 7)
        assertClose(Tensor.concatenate([prefill, rest], alongAxis: 1), both, relative: 1e-5, absolute: 1e-5)

        XCTAssertThrowsError(try stepper.step(token: 0)) { error in
            XCTAssertEqual((error as? SequentError)?.message,
                           "TransformerLanguageModel.Stepper: positions 12..<13 exceed maxLength 12; reset the stepper or feed a shorter context")
        }
        stepper.reset()
        assertClose(try stepper.step(token: 3), full.select(alongAxis: 0, index: 0), relative: 1e-5, absolute: 1e-5)
    }

    /// Greedy generation picks the argmax of full recomputation at every step.
    func testGreedyGenerationEqualsFullRecomputation() throws {
        let lm = model(seed: 2)
        var generator = RandomGenerator(seed: 3)
        let prompt = [1, 2]
        let generated = try lm.generate(prompt: prompt, count: 8, using: &generator)
        var context = prompt
        for token in generated {
            let logits = try lm(context, batchSize: 1, time: context.count).scalars.suffix(9)
            XCTAssertEqual(token, logits.indices.max { logits[$0] < logits[$1] }! - (context.count - 1) * 9)
            context.append(token)
        }
    }

    func testTemperatureSamplingIsSeeded() throws {
        let lm = model(maxLength: 6, seed: 4)
        var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5), c = RandomGenerator(seed: 6)
        // 20 tokens through a context of 6 positions: the window is rebuilt several times.
        let first = try lm.generate(prompt: [0], count: 20, sampling: .temperature(1.5), using: &a)
        XCTAssertEqual(first.count, 20)
        XCTAssertEqual(first, try lm.generate(prompt: [0], count: 20, sampling: .temperature(1.5), using: &b))
        XCTAssertNotEqual(first, try lm.generate(prompt: [0], count: 20, sampling: .temperature(1.5), using: &c))
        XCTAssertTrue(first.allSatisfy { (0..<9).contains($0) })
        XCTAssertGreaterThan(Set(first).count, 2, "a high temperature spreads the draws")
        // A very low temperature is greedy.
        var d = RandomGenerator(seed: 7)
        XCTAssertEqual(try lm.generate(prompt: [0], count: 4, sampling: .temperature(1e-4), using: &d),
                       try lm.generate(prompt: [0], count: 4, using: &d))
    }

    func testErrors() {
        let lm = model()
        var generator = RandomGenerator(seed: 8)
        XCTAssertThrowsError(try lm.generate(prompt: [], count: 3, using: &generator))
        XCTAssertThrowsError(try lm.generate(prompt: [1], count: 3, sampling: .temperature(0), using: &generator)) { error in
            XCTAssertEqual((error as? SequentError)?.message, "TransformerLanguageModel.generate: temperature must be positive, got 0.0")
        }
        XCTAssertThrowsError(try lm.generate(prompt: [9], count: 3, using: &generator))
        XCTAssertThrowsError(try TransformerLanguageModel.Stepper(model: lm, batchSize: 2).step(token: 1))
    }
}
