import Foundation
import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// The encoder-decoder: shapes and masks of every configuration, padding invariance, the
/// decoders against teacher forcing, beam search ordering, and errors for bad input.
final class Seq2SeqTests: XCTestCase {
    // Source vocabulary 7, target vocabulary 9 with begin 7 and end 8.
    private let (sourceVocabulary, targetVocabulary, begin, end) = (7, 9, 7, 8)

    private func model(
        _ cell: RecurrentCellType = .gru, attention: Seq2Seq.Attention, bidirectional: Bool = false,
        layers: Int = 1, seed: UInt64 = 1
    ) throws -> Seq2Seq {
        var generator = RandomGenerator(seed: seed)
        let decoderSize = bidirectional && attention == .multiplicative(.dot) ? 8 : 6
        return try Seq2Seq(cell: cell, sourceVocabularySize: sourceVocabulary, targetVocabularySize: targetVocabulary,
                           embeddingSize: 5, hiddenSize: bidirectional ? 4 : 6, decoderHiddenSize: decoderSize,
                           encoderLayerCount: layers, bidirectional: bidirectional, attention: attention,
                           beginToken: begin, endToken: end, generator: &generator)
    }

    private let attentions: [Seq2Seq.Attention] = [.none, .additive, .multiplicative(.dot), .multiplicative(.general)]
    private let sources = try! Seq2Seq.Batch([[1, 2, 3, 4, 5], [6, 0], [3, 3, 1]])
    private let targets = try! Seq2Seq.Batch([[2, 3, 8], [1, 2, 4, 5, 8], [8]])

    /// Every cell, attention and direction: shapes, exact zeros under both masks, rows that
    /// sum to 1, and a gradient for every parameter.
    func testEveryConfiguration() throws {
        for cell in [RecurrentCellType.lstm, .gru, .rnn(.tanh)] {
            for attention in attentions {
                for bidirectional in [false, true] {
                    let name = "\(cell.name) \(attention) bidirectional \(bidirectional)"
                    let model = try model(cell, attention: attention, bidirectional: bidirectional, layers: bidirectional ? 2 : 1)
                    let output = try model(source: sources, target: targets)
                    XCTAssertEqual(output.logits.shape, [3, 5, targetVocabulary], name)
                    if attention == .none {
                        XCTAssertNil(output.alignment, name)
                    } else {
                        let alignment = try XCTUnwrap(output.alignment, name)
                        XCTAssertEqual(alignment.shape, [3, 5, 5], name)
                        for b in 0..<3 {
                            for i in 0..<5 {
                                let row = Array(alignment.scalars[((b * 5 + i) * 5)..<((b * 5 + i + 1) * 5)])
                                let inside = i < targets.lengths[b]
                                XCTAssertEqual(row.reduce(0, +), inside ? 1 : 0, accuracy: 1e-5, "\(name) row \(b), \(i)")
                                for j in sources.lengths[b]..<5 { XCTAssertEqual(row[j], 0, "\(name) masked (\(b), \(i), \(j))") }
                            }
                        }
                    }
                    let loss = try model.loss(source: sources, target: targets)
                    XCTAssertTrue(loss.item.isFinite, name)
                    loss.backward()
                    for (key, parameter) in model.namedParameters() {
                        XCTAssertNotNil(parameter.grad, "\(name): no gradient for \(key)")
                    }
                }
            }
        }
    }

    func testParameterKeys() throws {
        let keys = try model(.lstm, attention: .multiplicative(.general), bidirectional: true).namedParameters().map(\.key)
        XCTAssertEqual(keys, [
            "source_embedding.weight", "target_embedding.weight",
            "encoder.weight_ih_l0", "encoder.weight_hh_l0", "encoder.bias_ih_l0", "encoder.bias_hh_l0",
            "encoder.weight_ih_l0_reverse", "encoder.weight_hh_l0_reverse", "encoder.bias_ih_l0_reverse", "encoder.bias_hh_l0_reverse",
            "bridge_hidden.weight", "bridge_hidden.bias", "bridge_cell.weight", "bridge_cell.bias",
            "decoder.weight_ih", "decoder.weight_hh", "decoder.bias_ih", "decoder.bias_hh",
            "attention.key.weight", "combine.weight", "head.weight", "head.bias",
        ])
        let additive = try model(.gru, attention: .additive).namedParameters().map(\.key)
        XCTAssertTrue(additive.contains("attention.v") && additive.contains("attention.query.weight") && !additive.contains("bridge_hidden.weight"))
    }

    /// Dropout (token vectors and between encoder layers) acts in training only: the weights
    /// are those of the same seed without dropout, evaluation mode gives the same logits,
    /// training mode different ones with gradients, and decoding never drops.
    func testDropoutActsInTrainingOnly() throws {
        func make(_ dropout: Float) throws -> Seq2Seq {
            var generator = RandomGenerator(seed: 8)
            return try Seq2Seq(cell: .lstm, sourceVocabularySize: sourceVocabulary, targetVocabularySize: targetVocabulary,
                               embeddingSize: 5, hiddenSize: 4, decoderHiddenSize: 6, encoderLayerCount: 2, bidirectional: true,
                               attention: .additive, dropout: dropout, beginToken: begin, endToken: end, generator: &generator)
        }
        let plain = try make(0), dropped = try make(0.5)
        XCTAssertEqual(dropped.dropout, 0.5)
        XCTAssertEqual(plain.dropout, 0)
        XCTAssertEqual(dropped.namedParameters().map(\.key), plain.namedParameters().map(\.key))
        for (a, b) in zip(plain.namedParameters(), dropped.namedParameters()) { XCTAssertEqual(a.parameter.value.scalars, b.parameter.value.scalars, a.key) }
        let reference = try plain(source: sources, target: targets).logits
        let training = try dropped(source: sources, target: targets).logits
        XCTAssertGreaterThan(zip(training.scalars, reference.scalars).map { abs($0 - $1) }.max()!, 1e-3, "training mode drops")
        let loss = try dropped.loss(source: sources, target: targets)
        loss.backward()
        XCTAssertTrue(dropped.namedParameters().allSatisfy { $0.parameter.grad != nil })
        let greedy = try dropped.greedyDecode(source: sources, maxLength: 6)
        XCTAssertTrue(dropped.isTraining, "decoding restores training mode")
        XCTAssertEqual(greedy.sequences, try plain.greedyDecode(source: sources, maxLength: 6).sequences)
        XCTAssertEqual(try dropped.beamSearch(source: sources, beamWidth: 2, maxLength: 6).map { $0[0].tokens },
                       try plain.beamSearch(source: sources, beamWidth: 2, maxLength: 6).map { $0[0].tokens })
        dropped.setTraining(false)
        assertClose(try dropped(source: sources, target: targets).logits, reference, relative: 0, absolute: 0)
        XCTAssertThrowsError(try make(1))
    }

    /// A sentence pair gives the same logits and weights alone and padded inside a batch.
    func testPaddingChangesNothing() throws {
        for attention in attentions {
            let model = try model(.lstm, attention: attention, bidirectional: true)
            let batch = try model(source: sources, target: targets)
            let alone = try model(source: Seq2Seq.Batch([sources.sequence(1)]), target: Seq2Seq.Batch([targets.sequence(1)]))
            assertClose(alone.logits.reshaped(to: [5, targetVocabulary]), batch.logits.select(alongAxis: 0, index: 1),
                        relative: 1e-5, absolute: 1e-5, "\(attention)")
            if let alignment = batch.alignment {
                assertClose(alone.alignment!.reshaped(to: [5, 2]), alignment.select(alongAxis: 0, index: 1).slice(alongAxis: 1, 0..<2),
                            relative: 1e-5, absolute: 1e-6, "\(attention)")
            }
        }
    }

    /// A model whose head favours the end token more and more, so that outputs stop at
    /// different lengths.
    private func stoppingModel(attention: Seq2Seq.Attention, seed: UInt64 = 2) throws -> Seq2Seq {
        let model = try model(.lstm, attention: attention, seed: seed)
        model.head.bias!.update { $0[end] += 0.5 }
        return model
    }

    /// Greedy decoding equals teacher forcing on its own output: the same tokens are the
    /// argmax and the same attention weights come out.
    func testGreedyAgreesWithTeacherForcing() throws {
        for attention in attentions {
            let model = try stoppingModel(attention: attention)
            let decoding = try model.greedyDecode(source: sources, maxLength: 6)
            let forced = try model(source: sources, target: Seq2Seq.Batch(decoding.sequences))
            let T = decoding.sequences.map(\.count).max()!
            let argmax = forced.logits.argmax(alongAxis: 2).scalars.map { Int($0) }
            for (b, sequence) in decoding.sequences.enumerated() {
                XCTAssertTrue(sequence.last == end || sequence.count == 6, "\(attention): \(sequence)")
                XCTAssertFalse(sequence.dropLast().contains(end))
                XCTAssertEqual(Array(argmax[(b * T)..<(b * T + sequence.count)]), sequence, "\(attention)")
            }
            if let alignment = decoding.alignment {
                assertClose(alignment, forced.alignment!, relative: 1e-5, absolute: 1e-6, "\(attention)")
            } else {
                XCTAssertNil(forced.alignment)
            }
        }
    }

    func testGreedyEqualsBeamSearchWithWidthOne() throws {
        for attention in attentions {
            let model = try stoppingModel(attention: attention)
            let greedy = try model.greedyDecode(source: sources, maxLength: 6)
            for alpha: Float in [0, 0.7] {
                let beams = try model.beamSearch(source: sources, beamWidth: 1, maxLength: 6, lengthPenalty: alpha)
                for b in 0..<sources.batchSize {
                    XCTAssertEqual(beams[b].count, 1)
                    XCTAssertEqual(beams[b][0].tokens, greedy.sequences[b], "\(attention) sentence \(b)")
                    if let alignment = greedy.alignment {
                        let rows = greedy.sequences[b].count
                        assertClose(beams[b][0].alignment!,
                                    alignment.select(alongAxis: 0, index: b).slice(alongAxis: 0, 0..<rows).slice(alongAxis: 1, 0..<sources.lengths[b]),
                                    relative: 1e-5, absolute: 1e-6)
                    }
                }
            }
        }
    }

    /// Beam search returns at most k hypotheses, best first by the normalised score; each
    /// log-probability and alignment is what teacher forcing gives for its tokens.
    func testBeamSearchRanksByNormalisedScore() throws {
        for attention in attentions {
            let model = try stoppingModel(attention: attention, seed: 4)
            for alpha: Float in [0, 0.6, 1] {
                let source = sources.sequence(0)
                let hypotheses = try model.beamSearch(source: source, beamWidth: 4, maxLength: 5, lengthPenalty: alpha)
                XCTAssertFalse(hypotheses.isEmpty)
                XCTAssertLessThanOrEqual(hypotheses.count, 4)
                for (a, b) in zip(hypotheses, hypotheses.dropFirst()) { XCTAssertGreaterThanOrEqual(a.score, b.score, "\(attention) alpha \(alpha)") }
                XCTAssertEqual(Set(hypotheses.map(\.tokens)).count, hypotheses.count, "distinct hypotheses")
                for hypothesis in hypotheses {
                    let penalty = alpha == 0 ? 1 : Float(pow((5 + Double(hypothesis.tokens.count)) / 6, Double(alpha)))
                    XCTAssertEqual(hypothesis.score, hypothesis.logProbability / penalty, accuracy: 1e-5)
                    XCTAssertEqual(hypothesis.isFinished, hypothesis.tokens.last == end)
                    let target = try Seq2Seq.Batch([hypothesis.tokens])
                    let forced = try model(source: Seq2Seq.Batch([source]), target: target)
                    let negativeLogLikelihood = try Loss.crossEntropy(logits: forced.logits, targets: hypothesis.tokens, reduction: .sum)
                    XCTAssertEqual(hypothesis.logProbability, -negativeLogLikelihood.item, accuracy: 1e-4)
                    if let alignment = hypothesis.alignment {
                        assertClose(alignment, forced.alignment!.squeezed(at: 0), relative: 1e-5, absolute: 1e-6)
                    }
                }
            }
        }
    }

    /// A wider beam never ranks its best hypothesis below the greedy one when both finish
    /// and the score is the plain log-probability.
    func testWiderBeamFindsAtLeastTheGreedyProbability() throws {
        let model = try stoppingModel(attention: .additive, seed: 6)
        for b in 0..<sources.batchSize {
            let greedy = try model.beamSearch(source: sources.sequence(b), beamWidth: 1, maxLength: 8)[0]
            let wide = try model.beamSearch(source: sources.sequence(b), beamWidth: 5, maxLength: 8)[0]
            if greedy.isFinished && wide.isFinished {
                XCTAssertGreaterThanOrEqual(wide.logProbability, greedy.logProbability - 1e-5)
            }
        }
    }

    func testBadInputThrowsSequentError() throws {
        let model = try model(attention: .additive)
        func expectError(_ text: String, _ body: () throws -> Void, line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) { error in
                XCTAssertTrue(error is SequentError, "\(error)", line: line)
                XCTAssertTrue("\(error)".contains(text), "\(error) does not mention \(text)", line: line)
            }
        }
        expectError("empty") { _ = try Seq2Seq.Batch([[1], []]) }
        expectError("empty") { _ = try Seq2Seq.Batch([]) }
        expectError("outside 1...3") { _ = try Seq2Seq.Batch(tokens: [1, 2, 3, 4, 5, 6], lengths: [3, 4], time: 3) }
        expectError("outside 1...3") { _ = try Seq2Seq.Batch(tokens: [1, 2, 3, 4, 5, 6], lengths: [0, 3], time: 3) }
        expectError("do not fill") { _ = try Seq2Seq.Batch(tokens: [1, 2, 3], lengths: [2, 2], time: 2) }
        expectError("source token 7") { _ = try model(source: Seq2Seq.Batch([[1, 7]]), target: Seq2Seq.Batch([[1]])) }
        expectError("source token -1") { _ = try model.greedyDecode(source: Seq2Seq.Batch([[-1]]), maxLength: 3) }
        expectError("target token 9") { _ = try model.loss(source: Seq2Seq.Batch([[1]]), target: Seq2Seq.Batch([[9]])) }
        expectError("2 source and 1 target") { _ = try model(source: Seq2Seq.Batch([[1], [2]]), target: Seq2Seq.Batch([[1]])) }
        expectError("empty") { _ = try model.beamSearch(source: [], beamWidth: 2, maxLength: 3) }
        expectError("beam width") { _ = try model.beamSearch(source: [1], beamWidth: 0, maxLength: 3) }
        expectError("maximum output length") { _ = try model.greedyDecode(source: Seq2Seq.Batch([[1]]), maxLength: 0) }
        expectError("alpha") { _ = try model.beamSearch(source: [1], beamWidth: 2, maxLength: 3, lengthPenalty: -1) }
        var generator = RandomGenerator(seed: 1)
        expectError("end token 9") {
            _ = try Seq2Seq(cell: .gru, sourceVocabularySize: 7, targetVocabularySize: 9, embeddingSize: 4, hiddenSize: 4,
                            attention: .none, beginToken: 0, endToken: 9, generator: &generator)
        }
        expectError("dot score") {
            _ = try Seq2Seq(cell: .gru, sourceVocabularySize: 7, targetVocabularySize: 9, embeddingSize: 4, hiddenSize: 4,
                            bidirectional: true, attention: .multiplicative(.dot), beginToken: 0, endToken: 1, generator: &generator)
        }
        // Padding is never read, so it may hold any value.
        let padded = try Seq2Seq.Batch(tokens: [1, 2, -5, 3, 99, 99], lengths: [2, 1], time: 3)
        XCTAssertNoThrow(try model.loss(source: padded, target: padded))
    }
}
