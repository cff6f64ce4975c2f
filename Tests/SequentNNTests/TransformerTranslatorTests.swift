import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// The translation Transformer: cached greedy decoding equals the teacher-forced argmax, beam
/// search equals exhaustive search on a tiny model (as does Seq2Seq's), and positions past the
/// model's are refused.
final class TransformerTranslatorTests: XCTestCase {
    private func tinyTransformer(seed: UInt64 = 3) throws -> TransformerTranslator {
        var generator = RandomGenerator(seed: seed)
        let model = try TransformerTranslator(
            sourceVocabularySize: 5, targetVocabularySize: 4, dModel: 8, headCount: 2, encoderLayerCount: 1, decoderLayerCount: 1,
            dimFeedforward: 16, dropout: 0, maxPositions: 6, beginToken: 2, endToken: 3, generator: &generator)
        model.setTraining(false)
        return model
    }

    /// log p(tokens | source) by teacher forcing.
    private func logProbability(_ logits: (Seq2Seq.Batch, Seq2Seq.Batch) throws -> Tensor, source: [Int], tokens: [Int], V: Int) throws -> Float {
        let scores = try logits(try Seq2Seq.Batch([source]), try Seq2Seq.Batch([tokens])).logSoftmax(alongAxis: -1).scalars
        return tokens.enumerated().reduce(Float(0)) { $0 + scores[$1.offset * V + $1.element] }
    }

    /// Every output of at most `maxLength` tokens: finished ones end with `end`, the rest
    /// have exactly `maxLength` tokens and no `end`.
    private func allOutputs(V: Int, end: Int, maxLength: Int) -> [[Int]] {
        var result: [[Int]] = [], live: [[Int]] = [[]]
        for length in 1...maxLength {
            var next: [[Int]] = []
            for prefix in live {
                for v in 0..<V {
                    if v == end { result.append(prefix + [v]) } else { next.append(prefix + [v]) }
                }
            }
            live = next
            if length == maxLength { result += live }
        }
        return result
    }

    private func checkBeamAgainstExhaustive(
        V: Int, end: Int, source: [Int], alpha: Float, logits: (Seq2Seq.Batch, Seq2Seq.Batch) throws -> Tensor,
        beam: (Int) throws -> (tokens: [Int], score: Float)
    ) throws {
        let maxLength = 3
        var best: (tokens: [Int], score: Float) = ([], -.infinity)
        for tokens in allOutputs(V: V, end: end, maxLength: maxLength) {
            let lp = try withoutGradients { try logProbability(logits, source: source, tokens: tokens, V: V) }
            let score = alpha == 0 ? lp : lp / Float(pow(Double(5 + tokens.count) / 6, Double(alpha)))
            if score > best.score { best = (tokens, score) }
        }
        let found = try beam(maxLength)
        XCTAssertEqual(found.tokens, best.tokens)
        XCTAssertEqual(found.score, best.score, accuracy: 1e-4)
    }

    func testTransformerBeamSearchEqualsExhaustiveSearch() throws {
        for seed: UInt64 in [1, 2, 3] {
            let model = try tinyTransformer(seed: seed)
            for alpha: Float in [0, 0.6] {
                try checkBeamAgainstExhaustive(V: 4, end: 3, source: [1, 4, 2], alpha: alpha,
                                               logits: { try model(source: $0, target: $1) }) { maxLength in
                    let best = try model.beamSearch(source: [1, 4, 2], beamWidth: 64, maxLength: maxLength, lengthPenalty: alpha)[0]
                    return (best.tokens, best.score)
                }
            }
        }
    }

    func testSeq2SeqBeamSearchEqualsExhaustiveSearch() throws {
        for seed: UInt64 in [1, 2] {
            var generator = RandomGenerator(seed: seed)
            let model = try Seq2Seq(cell: .gru, sourceVocabularySize: 5, targetVocabularySize: 4, embeddingSize: 4, hiddenSize: 6,
                                    bidirectional: true, attention: .additive, beginToken: 2, endToken: 3, generator: &generator)
            model.setTraining(false)
            for alpha: Float in [0, 1] {
                try checkBeamAgainstExhaustive(V: 4, end: 3, source: [0, 4, 1], alpha: alpha,
                                               logits: { try model(source: $0, target: $1).logits }) { maxLength in
                    let best = try model.beamSearch(source: [0, 4, 1], beamWidth: 64, maxLength: maxLength, lengthPenalty: alpha)[0]
                    return (best.tokens, best.score)
                }
            }
        }
    }

    func testCachedGreedyEqualsTeacherForcedArgmax() throws {
        let model = try tinyTransformer()
        let sources = [[1, 2, 3, 4], [0, 1]]
        let decoded = try model.greedyDecode(source: try Seq2Seq.Batch(sources), maxLength: 5).sequences
        let beamOne = try model.beamSearch(source: sources[0], beamWidth: 1, maxLength: 5)[0].tokens
        XCTAssertEqual(beamOne, decoded[0])
        for (b, tokens) in decoded.enumerated() {
            let logits = try withoutGradients { try model(source: try Seq2Seq.Batch([sources[b]]), target: try Seq2Seq.Batch([tokens])) }
            let V = 4, scalars = logits.scalars
            for t in tokens.indices {
                let row = Array(scalars[(t * V)..<((t + 1) * V)])
                XCTAssertEqual(row.firstIndex(of: row.max()!), tokens[t], "sentence \(b) position \(t)")
            }
        }
    }

    func testLossGradientsAndPositionLimit() throws {
        var generator = RandomGenerator(seed: 9)
        let model = try TransformerTranslator(
            sourceVocabularySize: 5, targetVocabularySize: 4, dModel: 8, headCount: 2, encoderLayerCount: 1, decoderLayerCount: 1,
            dimFeedforward: 16, dropout: 0.1, maxPositions: 4, beginToken: 2, endToken: 3, generator: &generator)
        let loss = try model.loss(source: try Seq2Seq.Batch([[1, 2], [3]]), target: try Seq2Seq.Batch([[0, 3], [1, 0, 3]]), labelSmoothing: 0.1)
        loss.backward()
        XCTAssertTrue(loss.item.isFinite)
        XCTAssertNotNil(model.head.weight.grad)
        XCTAssertThrowsError(try model.loss(source: try Seq2Seq.Batch([[1, 2, 3, 4, 0]]), target: try Seq2Seq.Batch([[3]]))) { error in
            XCTAssertTrue("\(error)".contains("positions"), "\(error)")
        }
    }

    func testCrossAttentionRowsAreDistributionsOverTheSource() throws {
        let model = try tinyTransformer()
        let decoding = try model.greedyDecode(source: try Seq2Seq.Batch([[1, 2, 3]]), maxLength: 4, keepsCrossAttention: true)
        let weights = try XCTUnwrap(decoding.crossAttention)
        XCTAssertEqual(weights.shape, [decoding.sequences[0].count, 3])
        for t in 0..<weights.shape[0] {
            XCTAssertEqual(weights.scalars[(t * 3)..<((t + 1) * 3)].reduce(0, +), 1, accuracy: 1e-5)
        }
        let perHead = try model.crossAttention(source: [1, 2, 3], tokens: [0, 1], perHead: true)
        XCTAssertEqual(perHead.shape, [2, 2, 3])
    }

    /// Any decoder layer's cross-attention: per head, whose mean is the averaged picture; the
    /// last layer by default; a layer the decoder lacks is refused by number.
    func testCrossAttentionOfEachLayerAndHead() throws {
        var generator = RandomGenerator(seed: 4)
        let model = try TransformerTranslator(
            sourceVocabularySize: 5, targetVocabularySize: 4, dModel: 8, headCount: 2, encoderLayerCount: 1, decoderLayerCount: 2,
            dimFeedforward: 16, dropout: 0, maxPositions: 6, beginToken: 2, endToken: 3, generator: &generator)
        let (source, tokens) = ([1, 2, 3, 4], [0, 1, 3])
        for layer in 0..<2 {
            let perHead = try model.crossAttention(source: source, tokens: tokens, layer: layer, perHead: true)
            let mean = try model.crossAttention(source: source, tokens: tokens, layer: layer)
            XCTAssertEqual(perHead.shape, [2, 3, 4])
            XCTAssertEqual(mean.shape, [3, 4])
            let p = perHead.scalars
            for i in 0..<12 { XCTAssertEqual(mean.scalars[i], (p[i] + p[12 + i]) / 2, accuracy: 1e-6) }
            for row in 0..<6 { XCTAssertEqual(p[(row * 4)..<((row + 1) * 4)].reduce(0, +), 1, accuracy: 1e-5) }
        }
        XCTAssertEqual(try model.crossAttention(source: source, tokens: tokens).scalars,
                       try model.crossAttention(source: source, tokens: tokens, layer: 1).scalars)
        XCTAssertNotEqual(try model.crossAttention(source: source, tokens: tokens, layer: 0).scalars,
                          try model.crossAttention(source: source, tokens: tokens, layer: 1).scalars)
        XCTAssertThrowsError(try model.crossAttention(source: source, tokens: tokens, layer: 2)) { error in
            XCTAssertTrue("\(error)".contains("layer 2") && "\(error)".contains("0..<2"), "\(error)")
        }
    }

    /// The loss computes the output layer on the real target tokens only; it equals the
    /// masked cross-entropy over every position's logits, in value and in gradients.
    func testLossOnRealTokensEqualsTheMaskedLossOverAllPositions() throws {
        let model = try tinyTransformer(seed: 11)
        let source = try Seq2Seq.Batch([[1, 2, 3], [4], [2, 2]])
        let target = try Seq2Seq.Batch([[0, 1, 3], [1, 3], [3]])
        let loss = try model.loss(source: source, target: target, labelSmoothing: 0.1)
        loss.backward()
        let gradients = model.namedParameters().map { $0.parameter.grad?.scalars ?? [] }
        model.zeroGradients()
        let targets = (0..<(3 * target.time)).map { target.tokens[$0] }
        let reference = try Loss.crossEntropy(logits: try model(source: source, target: target), targets: targets,
                                              mask: 1 - target.paddingMask, labelSmoothing: 0.1)
        reference.backward()
        XCTAssertEqual(loss.item, reference.item, accuracy: 1e-6)
        for ((name, parameter), gradient) in zip(model.namedParameters(), gradients) {
            assertClose(gradient, parameter.grad?.scalars ?? [], relative: 1e-5, absolute: 1e-6, name)
        }
    }
}
