import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Transformer/Transformer.swift`.
final class TransformerTests: XCTestCase {
    private func model(seed: UInt64 = 1) -> Transformer {
        var generator = RandomGenerator(seed: seed)
        return try! Transformer(dModel: 8, headCount: 2, encoderLayerCount: 2, decoderLayerCount: 1, dimFeedforward: 16,
                                dropout: 0, batchFirst: true, generator: &generator)
    }

    func testKeysAndXavierInitialisation() {
        let transformer = model()
        let keys = transformer.namedParameters().map(\.key)
        XCTAssertEqual(keys.first, "encoder.layers.0.self_attn.in_proj_weight")
        XCTAssertTrue(keys.contains("encoder.norm.weight"))
        XCTAssertTrue(keys.contains("decoder.layers.0.multihead_attn.out_proj.bias"))
        XCTAssertEqual(keys.last, "decoder.norm.bias")
        let linear1 = transformer.encoder.layers[0].linear1.weight.value  // (16, 8)
        let bound = (6 / Float(24)).squareRoot()
        XCTAssertTrue(linear1.scalars.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(linear1.scalars.map(abs).max()!, 1 / Float(8).squareRoot(), "Xavier, not Linear's U(-1/sqrt(8), 1/sqrt(8))")
    }

    func testForwardIsEncoderThenDecoder() throws {
        let transformer = model(seed: 2)
        let src = randomTensor([2, 5, 8], seed: 3), tgt = randomTensor([2, 4, 8], seed: 4)
        let padding = Tensor([[0, 0, 0, 0, 0], [0, 0, 0, 1, 1]])
        let out = try transformer(source: src, target: tgt, sourceKeyPaddingMask: padding, memoryKeyPaddingMask: padding,
                                  targetCausal: true)
        let memory = try transformer.encoder(src, keyPaddingMask: padding)
        let expected = try transformer.decoder(tgt, memory: memory, memoryKeyPaddingMask: padding, targetCausal: true)
        assertClose(out, expected, relative: 0, absolute: 0)
        XCTAssertThrowsError(try transformer(source: src, target: randomTensor([3, 4, 8]))) { error in
            XCTAssertEqual((error as? SequentError)?.message, "Transformer: src [2, 5, 8] and tgt [3, 4, 8] differ in batch size")
        }
    }

    func testSquareSubsequentMask() {
        XCTAssertEqual(Transformer.generateSquareSubsequentMask(3).scalars, [0, 1, 1, 0, 0, 1, 0, 0, 0])
    }
}
