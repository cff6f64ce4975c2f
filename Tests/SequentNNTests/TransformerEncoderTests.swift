import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Transformer/TransformerEncoder.swift`.
final class TransformerEncoderTests: XCTestCase {
    private let configuration = TransformerLayerConfiguration(dModel: 8, headCount: 2, dimFeedforward: 16, dropout: 0,
                                                              batchFirst: true, normFirst: true)

    func testStackAppliesLayersThenNorm() throws {
        var generator = RandomGenerator(seed: 1)
        let encoder = try TransformerEncoder(configuration, layerCount: 3, finalNorm: true, generator: &generator)
        XCTAssertEqual(encoder.namedParameters().filter { $0.key.hasSuffix("in_proj_weight") }.map(\.key),
                       ["layers.0.self_attn.in_proj_weight", "layers.1.self_attn.in_proj_weight", "layers.2.self_attn.in_proj_weight"])
        XCTAssertEqual(Array(encoder.namedParameters().map(\.key).suffix(2)), ["norm.weight", "norm.bias"])
        XCTAssertNotEqual(encoder.layers[0].linear1.weight.value.scalars, encoder.layers[1].linear1.weight.value.scalars,
                          "each layer is drawn afresh")
        let x = randomTensor([2, 5, 8], seed: 2)
        let padding = Tensor([[0, 0, 0, 0, 0], [0, 0, 0, 1, 1]])
        var expected = x
        for layer in encoder.layers { expected = try layer(expected, keyPaddingMask: padding, causal: true) }
        expected = encoder.norm!(expected)
        assertClose(try encoder(x, keyPaddingMask: padding, causal: true), expected, relative: 0, absolute: 0)

        let caches = encoder.makeCaches()
        let steps = try (0..<5).map { t in try encoder(x.slice(alongAxis: 1, t..<(t + 1)), caches: caches) }
        assertClose(Tensor.concatenate(steps, alongAxis: 1), try encoder(x, causal: true), relative: 1e-5, absolute: 1e-5)
    }

    func testErrors() throws {
        var generator = RandomGenerator(seed: 3)
        XCTAssertThrowsError(try TransformerEncoder(configuration, layerCount: 0, generator: &generator))
        let wide = try TransformerEncoderLayer(TransformerLayerConfiguration(dModel: 4, headCount: 2), generator: &generator)
        let narrow = try TransformerEncoderLayer(configuration, generator: &generator)
        XCTAssertThrowsError(try TransformerEncoder(layers: [narrow, wide])) { error in
            XCTAssertEqual((error as? SequentError)?.message, "TransformerEncoder: layers differ in dModel or batchFirst: 8 and 4")
        }
        let encoder = try TransformerEncoder(layers: [narrow])
        XCTAssertThrowsError(try encoder(Tensor.zeros([1, 2, 8]), caches: [])) { error in
            XCTAssertEqual((error as? SequentError)?.message, "TransformerEncoder: expected 1 caches (one per layer), got 0")
        }
    }
}
