import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// The Transformer encoder of `TextClassifier`: outputs zero past each length, padding that
/// changes nothing under any pooling, PyTorch-style keys, and gradients by finite differences.
final class TransformerTextEncoderTests: XCTestCase {
    private func classifier(_ pooling: TextPooling) throws -> TextClassifier {
        var generator = RandomGenerator(seed: 5)
        let model = try TextClassifier(
            transformerWidth: 8, headCount: 2, feedForwardSize: 16, layerCount: 2, maxLength: 6, vocabularySize: 20,
            classCount: 3, pooling: pooling, dropout: 0.2, embeddingDropout: 0.2, generator: &generator)
        model.setTraining(false)
        return model
    }

    func testOutputsAreZeroPastEachLength() throws {
        var generator = RandomGenerator(seed: 1)
        let encoder = try TransformerTextEncoder(width: 8, headCount: 2, feedForwardSize: 16, layerCount: 1, maxLength: 4, generator: &generator)
        let vectors = Tensor.randomNormal([2, 4, 8], using: &generator)
        let h = try encoder(vectors, lengths: [4, 2]).scalars
        XCTAssertTrue(h[(32 + 16)..<64].allSatisfy { $0 == 0 }, "text 2's last two positions")
        XCTAssertTrue(h[0..<32].contains { $0 != 0 })
        XCTAssertThrowsError(try encoder(vectors, lengths: [5, 2]))
        XCTAssertThrowsError(try encoder(Tensor.randomNormal([1, 5, 8], using: &generator), lengths: [5]), "past maxLength")
    }

    func testPaddingDoesNotChangeAnyPooling() throws {
        for pooling in TextPooling.allCases {
            let model = try classifier(pooling)
            let alone = try model([3, 4, 5], batchSize: 1, time: 3, lengths: [3]).logits.scalars
            let padded = try model([3, 4, 5, 9, 9, 1, 2, 3, 4, 5], batchSize: 2, time: 5, lengths: [3, 5]).logits.scalars
            assertClose(Array(padded[0..<3]), alone, absolute: 1e-5, "\(pooling)")
        }
    }

    func testKeys() throws {
        let keys = Set(try classifier(.attention).stateDictionary().keys)
        for key in ["emb.weight", "enc.pos.weight", "enc.layers.0.self_attn.in_proj_weight", "enc.layers.1.linear2.bias",
                    "enc.norm.weight", "attn.query", "head.weight"] {
            XCTAssertTrue(keys.contains(key), "\(key) not in \(keys.sorted())")
        }
    }

    func testPositionGradientMatchesFiniteDifferences() throws {
        let model = try classifier(.mean)
        let positions = try XCTUnwrap(model.transformer).positions.weight
        let loss = { () throws -> Tensor in
            let (logits, _) = try model([3, 4, 5, 1, 2, 0], batchSize: 2, time: 3, lengths: [3, 2])
            return try Loss.crossEntropy(logits: logits, targets: [0, 2])
        }
        model.zeroGradients()
        try loss().backward()
        let analytic = try XCTUnwrap(positions.grad).scalars
        let base = positions.value.scalars
        let h: Float = 1e-2
        var numeric: [Float] = [], checked: [Float] = []
        // Rows 0-2 are used (row 2 by the first text only); rows 3-5 get no gradient.
        for i in [0, 5, 9, 17, 23, 30, 41] {
            var plus = base, minus = base
            plus[i] += h
            minus[i] -= h
            try positions.assign(Tensor(shape: positions.shape, scalars: plus))
            let up = try loss().scalars[0]
            try positions.assign(Tensor(shape: positions.shape, scalars: minus))
            let down = try loss().scalars[0]
            numeric.append((up - down) / (2 * h))
            checked.append(analytic[i])
        }
        try positions.assign(Tensor(shape: positions.shape, scalars: base))
        assertClose(checked, numeric, relative: 2e-2, absolute: 2e-3, "d loss / d positions")
    }
}
