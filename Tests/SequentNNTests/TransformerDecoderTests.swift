import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Transformer/TransformerDecoder.swift`.
final class TransformerDecoderTests: XCTestCase {
    func testStackAndIncrementalDecoding() throws {
        var generator = RandomGenerator(seed: 1)
        let configuration = TransformerLayerConfiguration(dModel: 8, headCount: 2, dimFeedforward: 16, dropout: 0.2)
        let decoder = try TransformerDecoder(configuration, layerCount: 2, finalNorm: true, generator: &generator)
        decoder.setTraining(false)
        XCTAssertEqual(Array(decoder.namedParameters().map(\.key).suffix(3)), ["layers.1.norm3.bias", "norm.weight", "norm.bias"])
        // Sequence-first: (L, B, D), memory (S, B, D).
        let tgt = randomTensor([4, 2, 8], seed: 2), memory = randomTensor([3, 2, 8], seed: 3)
        var expected = tgt
        for layer in decoder.layers { expected = try layer(expected, memory: memory, targetCausal: true) }
        expected = decoder.norm!(expected)
        let full = try decoder(tgt, memory: memory, targetCausal: true)
        assertClose(full, expected, relative: 0, absolute: 0)

        let caches = decoder.makeCaches()
        let steps = try (0..<4).map { t in try decoder(tgt.slice(alongAxis: 0, t..<(t + 1)), memory: memory, caches: caches) }
        assertClose(Tensor.concatenate(steps, alongAxis: 0), full, relative: 1e-5, absolute: 1e-5)
    }
}
