@testable import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// `BatchedBeamSearch`: many sentences' hypotheses in one decoder batch give, sentence by
/// sentence, what the search of that sentence alone gives (tokens, scores, alignments), for
/// the recurrent model and the Transformer, with per-sentence limits; and the candidate
/// selection equals a full sort.
final class BeamSearchTests: XCTestCase {
    // Sources of different lengths, so the batch is padded and sentences finish at different steps.
    private let sources = [[1, 2, 3, 4, 5, 6], [4], [2, 2, 5], [6, 1, 3, 0], [5, 4]]

    private func assertSameHypotheses(
        _ batched: [(tokens: [Int], logProbability: Float, score: Float, isFinished: Bool, alignment: Tensor?)],
        _ alone: [(tokens: [Int], logProbability: Float, score: Float, isFinished: Bool, alignment: Tensor?)],
        _ message: String
    ) {
        XCTAssertEqual(batched.map(\.tokens), alone.map(\.tokens), message)
        XCTAssertEqual(batched.map(\.isFinished), alone.map(\.isFinished), message)
        for (a, b) in zip(batched, alone) {
            XCTAssertEqual(a.logProbability, b.logProbability, accuracy: 1e-4, message)
            XCTAssertEqual(a.score, b.score, accuracy: 1e-4, message)
            XCTAssertEqual(a.alignment == nil, b.alignment == nil, message)
            if let x = a.alignment, let y = b.alignment { assertClose(x, y, relative: 1e-4, absolute: 1e-5, message) }
        }
    }

    func testSeq2SeqBatchedEqualsOneSentenceAtATime() throws {
        for attention in [Seq2Seq.Attention.none, .additive, .multiplicative(.general)] {
            var generator = RandomGenerator(seed: 11)
            let model = try Seq2Seq(cell: .gru, sourceVocabularySize: 7, targetVocabularySize: 6, embeddingSize: 5, hiddenSize: 4,
                                    decoderHiddenSize: 6, encoderLayerCount: 2, bidirectional: true, attention: attention,
                                    beginToken: 4, endToken: 5, generator: &generator)
            let limits = [7, 3, 5, 6, 1]
            for (width, alpha) in [(1, Float(0)), (3, 0.6), (5, 1)] {
                let batched = try model.beamSearch(source: try Seq2Seq.Batch(sources), beamWidth: width, maxLengths: limits, lengthPenalty: alpha)
                XCTAssertEqual(batched.count, sources.count)
                for (b, source) in sources.enumerated() {
                    let alone = try model.beamSearch(source: source, beamWidth: width, maxLength: limits[b], lengthPenalty: alpha)
                    XCTAssertFalse(alone.isEmpty)
                    XCTAssertTrue(batched[b].allSatisfy { $0.tokens.count <= limits[b] })
                    assertSameHypotheses(batched[b].map { ($0.tokens, $0.logProbability, $0.score, $0.isFinished, $0.alignment) },
                                         alone.map { ($0.tokens, $0.logProbability, $0.score, $0.isFinished, $0.alignment) },
                                         "\(attention) k \(width) sentence \(b)")
                }
            }
        }
    }

    func testTransformerBatchedEqualsOneSentenceAtATime() throws {
        var generator = RandomGenerator(seed: 5)
        let model = try TransformerTranslator(
            sourceVocabularySize: 7, targetVocabularySize: 6, dModel: 8, headCount: 2, encoderLayerCount: 1, decoderLayerCount: 2,
            dimFeedforward: 16, dropout: 0.1, maxPositions: 8, beginToken: 4, endToken: 5, generator: &generator)
        let limits = [9, 3, 5, 6, 1]  // 9 is past the positions: cut to 8
        for (width, alpha) in [(1, Float(0)), (4, 0.6)] {
            let batched = try model.beamSearch(source: try Seq2Seq.Batch(sources), beamWidth: width, maxLengths: limits, lengthPenalty: alpha)
            for (b, source) in sources.enumerated() {
                let alone = try model.beamSearch(source: source, beamWidth: width, maxLength: limits[b], lengthPenalty: alpha)
                XCTAssertTrue(batched[b].allSatisfy { $0.tokens.count <= min(limits[b], 8) })
                assertSameHypotheses(batched[b].map { ($0.tokens, $0.logProbability, $0.score, $0.isFinished, nil) },
                                     alone.map { ($0.tokens, $0.logProbability, $0.score, $0.isFinished, nil) }, "k \(width) sentence \(b)")
            }
        }
        XCTAssertTrue(model.isTraining, "the search restores training mode")
        // Width 1 is greedy decoding, batch for batch.
        let greedy = try model.greedyDecode(source: try Seq2Seq.Batch(sources), maxLength: 6).sequences
        XCTAssertEqual(try model.beamSearch(source: try Seq2Seq.Batch(sources), beamWidth: 1, maxLength: 6).map { $0[0].tokens }, greedy)
        XCTAssertThrowsError(try model.beamSearch(source: try Seq2Seq.Batch(sources), beamWidth: 2, maxLengths: [3])) { error in
            XCTAssertTrue("\(error)".contains("1 maximum lengths for 5 sentences"), "\(error)")
        }
        XCTAssertThrowsError(try model.beamSearch(source: try Seq2Seq.Batch(sources), beamWidth: 0, maxLength: 3)) { error in
            XCTAssertTrue("\(error)".contains("beam width"), "\(error)")
        }
    }

    func testBestCandidatesEqualAFullSort() {
        var generator = RandomGenerator(seed: 2)
        for (beams, vocabulary, count) in [(1, 7, 3), (3, 11, 6), (5, 40, 10), (2, 3, 6)] {
            // Coarse values, so that ties occur and their order is checked.
            let values = (0..<(beams * vocabulary)).map { _ in Float(Int(generator.nextUniform() * 8)) }
            let expected = values.enumerated().sorted { $0.element > $1.element || ($0.element == $1.element && $0.offset < $1.offset) }
                .prefix(count)
            let found = bestCandidates(count: count, beams: beams, vocabulary: vocabulary) { r, v in values[r * vocabulary + v] }
            XCTAssertEqual(found.map(\.index), expected.map(\.offset))
            XCTAssertEqual(found.map(\.value), expected.map(\.element))
        }
    }
}
