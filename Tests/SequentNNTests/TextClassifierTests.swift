import SequentNN
import SequentTensor
import TestSupport
import XCTest

final class TextClassifierTests: XCTestCase {
    private func model(_ pooling: TextPooling, bidirectional: Bool = true, cell: RecurrentCellType = .lstm) throws -> TextClassifier {
        var generator = RandomGenerator(seed: 11)
        let model = try TextClassifier(
            cell: cell, bidirectional: bidirectional, vocabularySize: 20, embeddingSize: 6, hiddenSize: 5, layerCount: 1,
            classCount: 3, pooling: pooling, dropout: 0.3, embeddingDropout: 0.3, generator: &generator)
        model.setTraining(false)
        return model
    }

    func testAttentionWeightsSumToOneOverRealTokensAndAreZeroOnPadding() throws {
        let classifier = try model(.attention)
        let tokens = [3, 4, 5, 6, 7, 1, 2, 0, 0, 0, 9, 0, 0, 0, 0]  // lengths 5, 2, 1 in (3, 5)
        let (logits, attention) = try classifier(tokens, batchSize: 3, time: 5, lengths: [5, 2, 1])
        XCTAssertEqual(logits.shape, [3, 3])
        let weights = try XCTUnwrap(attention)
        XCTAssertEqual(weights.shape, [3, 5])
        let w = weights.scalars
        for (row, length) in [5, 2, 1].enumerated() {
            let real = w[(row * 5)..<(row * 5 + length)]
            XCTAssertEqual(real.reduce(0, +), 1, accuracy: 1e-5)
            XCTAssertTrue(real.allSatisfy { $0 > 0 })
            XCTAssertTrue(w[(row * 5 + length)..<(row * 5 + 5)].allSatisfy { $0 == 0 }, "padding gets no weight")
        }
    }

    func testPaddingDoesNotChangeAnyPooling() throws {
        for pooling in TextPooling.allCases {
            for bidirectional in [true, false] {
                let classifier = try model(pooling, bidirectional: bidirectional, cell: .gru)
                let alone = try classifier([3, 4], batchSize: 1, time: 2, lengths: [2]).logits.scalars
                let padded = try classifier([3, 4, 8, 8, 1, 2, 3, 4], batchSize: 2, time: 4, lengths: [2, 4]).logits.scalars
                assertClose(Array(padded[0..<3]), alone, absolute: 1e-5, "\(pooling) bidirectional \(bidirectional)")
            }
        }
    }

    func testBadLengthsAreRefused() throws {
        let classifier = try model(.mean)
        XCTAssertThrowsError(try classifier([1, 2], batchSize: 1, time: 2, lengths: [0]))
        XCTAssertThrowsError(try classifier([1, 2], batchSize: 1, time: 2, lengths: [3]))
    }

    func testAttentionPoolingGradientMatchesFiniteDifferences() throws {
        let classifier = try model(.attention)
        let query = try XCTUnwrap(classifier.attentionQuery)
        let loss = { () throws -> Tensor in
            let (logits, _) = try classifier([3, 4, 5, 1, 2, 0], batchSize: 2, time: 3, lengths: [3, 2])
            return try Loss.crossEntropy(logits: logits, targets: [0, 2])
        }
        classifier.zeroGradients()
        try loss().backward()
        let analytic = try XCTUnwrap(query.grad).scalars
        var numeric: [Float] = []
        let base = query.value.scalars
        let h: Float = 1e-2
        for i in base.indices {
            var plus = base, minus = base
            plus[i] += h
            minus[i] -= h
            try query.assign(Tensor(shape: query.shape, scalars: plus))
            let up = try loss().scalars[0]
            try query.assign(Tensor(shape: query.shape, scalars: minus))
            let down = try loss().scalars[0]
            numeric.append((up - down) / (2 * h))
        }
        try query.assign(Tensor(shape: query.shape, scalars: base))
        assertClose(analytic, numeric, relative: 1e-2, absolute: 2e-3, "d loss / d query")
    }

    func testTokenTablePathMatchesTheEmbedThenProjectPath() throws {
        // 4 x 6 = 24 tokens >= V = 20 takes the E W_ih^T table path; one text at a time (6 < 20) embeds first.
        let classifier = try model(.attention)
        let texts = [[1, 2, 3, 4, 5, 6], [7, 8, 9], [10, 11, 12, 13, 14], [15]]
        var tokens: [Int] = []
        for text in texts { tokens += text + Array(repeating: 0, count: 6 - text.count) }
        let together = try classifier(tokens, batchSize: 4, time: 6, lengths: texts.map(\.count)).logits.scalars
        for (i, text) in texts.enumerated() {
            let alone = try classifier(text, batchSize: 1, time: text.count, lengths: [text.count]).logits.scalars
            assertClose(Array(together[(3 * i)..<(3 * i + 3)]), alone, absolute: 1e-5, "text \(i)")
        }
    }
}
