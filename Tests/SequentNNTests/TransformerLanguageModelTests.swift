import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Transformer/TransformerLanguageModel.swift`.
final class TransformerLanguageModelTests: XCTestCase {
    /// The GPT of torch_rnn_bench.py at V 11, D 8, 2 layers, 2 heads, T 8: same keys, same logits.
    func testMatchesTorchBenchGPT() throws {
        let f = try Fixtures.load("transformer/gpt")
        var generator = RandomGenerator(seed: 1)
        let lm = try TransformerLanguageModel(vocabularySize: 11, dModel: 8, layerCount: 2, headCount: 2, maxLength: 8,
                                              generator: &generator)
        let pytorchKeys = Set(f.keys).subtracting(["tokens", "logits"])
        XCTAssertEqual(Set(lm.namedParameters().map(\.key)), pytorchKeys)
        try loadPyTorchParameters(lm, from: f)
        let tokens = f["tokens"]!.scalars.map { Int($0) }
        let logits = try lm(tokens, batchSize: 2, time: 6)
        assertClose(logits, f["logits"]!, relative: 1e-4, absolute: 1e-5)
        print("gpt logits: max relative difference \(maxRelativeDifference(logits, f["logits"]!)), max absolute \(zip(logits.scalars, f["logits"]!.scalars).map { abs($0 - $1) }.max()!)")
    }

    func testStructure() throws {
        var generator = RandomGenerator(seed: 2)
        let lm = try TransformerLanguageModel(vocabularySize: 5, dModel: 8, layerCount: 1, headCount: 2, maxLength: 4,
                                              generator: &generator)
        XCTAssertEqual(lm.namedParameters().map(\.key), [
            "emb.weight", "pos.weight",
            "enc.layers.0.self_attn.in_proj_weight", "enc.layers.0.self_attn.in_proj_bias",
            "enc.layers.0.self_attn.out_proj.weight", "enc.layers.0.self_attn.out_proj.bias",
            "enc.layers.0.linear1.weight", "enc.layers.0.linear1.bias", "enc.layers.0.linear2.weight", "enc.layers.0.linear2.bias",
            "enc.layers.0.norm1.weight", "enc.layers.0.norm1.bias", "enc.layers.0.norm2.weight", "enc.layers.0.norm2.bias",
            "ln.weight", "ln.bias", "head.weight", "head.bias",
        ])
        let configuration = lm.encoder.layers[0].configuration
        XCTAssertEqual(configuration.dimFeedforward, 32)
        XCTAssertEqual(configuration.activation, .gelu)
        XCTAssertTrue(configuration.normFirst && configuration.batchFirst)
        XCTAssertNil(lm.encoder.norm)
        // Causal: the logits at position 0 do not depend on later tokens.
        let a = try lm([1, 2, 3], batchSize: 1, time: 3), b = try lm([1, 4, 0], batchSize: 1, time: 3)
        XCTAssertEqual(Array(a.scalars[0..<5]), Array(b.scalars[0..<5]))
        XCTAssertNotEqual(Array(a.scalars[5..<10]), Array(b.scalars[5..<10]))
        XCTAssertThrowsError(try lm([0, 1, 2, 3, 4], batchSize: 1, time: 5)) { error in
            XCTAssertEqual((error as? SequentError)?.message,
                           "LearnedPositionalEmbedding: positions 0..<5 exceed the 4 learned positions (0..<4)")
        }
    }

    /// A few plain gradient steps on one batch lower the loss: the gradients flow everywhere.
    func testGradientsReachEveryParameter() throws {
        var generator = RandomGenerator(seed: 3)
        let lm = try TransformerLanguageModel(vocabularySize: 7, dModel: 8, layerCount: 2, headCount: 2, maxLength: 6,
                                              generator: &generator)
        let tokens = [1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5], targets = [2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6]
        var losses: [Float] = []
        for _ in 0..<5 {
            lm.zeroGradients()
            let loss = try Loss.crossEntropy(logits: try lm(tokens, batchSize: 2, time: 6), targets: targets)
            loss.backward()
            losses.append(loss.item)
            for parameter in lm.parameters() {
                let grad = try XCTUnwrap(parameter.grad).scalars
                parameter.update { values in
                    for i in values.indices { values[i] -= 0.1 * grad[i] }
                }
            }
        }
        XCTAssertLessThan(losses.last!, losses.first!)
    }
}
