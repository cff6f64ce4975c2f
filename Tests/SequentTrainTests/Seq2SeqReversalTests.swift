import Foundation
import SequentNN
import SequentTensor
import SequentTrain
import XCTest

/// Attention learns the alignment of a task whose alignment is known: reversing a sequence
/// of 5 to 8 symbols from a vocabulary of 10. Output token i is source token n-1-i, so the
/// attention argmax of step i should be j = n-1-i. With the same steps, data and sizes,
/// the fixed-length-context baseline (`.none`) stays far below the attention models.
///
/// Model: bidirectional LSTM encoder (16 per direction), LSTM decoder (32), embeddings 16,
/// batches of 32 fresh random pairs, Adam with learning rate 0.01. Accuracy is per token of
/// greedy decoding on 200 held-out pairs; the hit rate is over the teacher-forced steps that
/// predict a symbol (the end-token step excluded). Release builds (CI) train 300 steps;
/// debug builds train fewer and check less, to stay fast.
final class Seq2SeqReversalTests: XCTestCase {
    #if DEBUG
    private let steps = 40
    #else
    private let steps = 300
    #endif
    private let (symbols, begin, end) = (10, 10, 11)

    /// Random source sequences of 5...8 symbols and their reversals followed by the end token.
    private func pairs(_ count: Int, _ generator: inout RandomGenerator) -> (source: [[Int]], target: [[Int]]) {
        var sources: [[Int]] = [], targets: [[Int]] = []
        for _ in 0..<count {
            let n = 5 + Int(generator.next() % 4)
            let source = (0..<n).map { _ in Int(generator.next() % UInt64(symbols)) }
            sources.append(source)
            targets.append(source.reversed() + [end])
        }
        return (sources, targets)
    }

    private struct Result {
        var loss: Float, tokenAccuracy: Double, sequenceAccuracy: Double, hitRate: Double?, greedyHitRate: Double?, seconds: Double
    }

    private func train(_ attention: Seq2Seq.Attention) throws -> Result {
        var generator = RandomGenerator(seed: 42)
        let model = try Seq2Seq(cell: .lstm, sourceVocabularySize: symbols, targetVocabularySize: symbols + 2, embeddingSize: 16,
                                hiddenSize: 16, decoderHiddenSize: 32, bidirectional: true, attention: attention,
                                beginToken: begin, endToken: end, generator: &generator)
        let optimizer = try Adam(namedParameters: model.namedParameters(), learningRate: 0.01)
        var data = RandomGenerator(seed: 7)
        let start = Date()
        var loss: Float = .nan
        for _ in 0..<steps {
            let batch = pairs(32, &data)
            let value = try model.loss(source: Seq2Seq.Batch(batch.source), target: Seq2Seq.Batch(batch.target))
            value.backward()
            // Clipping keeps the Luong variant's early steps stable (without it, whether it
            // converges in 300 steps hangs on rounding, e.g. the thread count).
            try clipGradientNorm(optimizer.parameters, maxNorm: 1)
            optimizer.step()
            optimizer.zeroGradients()
            loss = value.item
        }
        let seconds = Date().timeIntervalSince(start)

        var heldOutGenerator = RandomGenerator(seed: 99)
        let heldOut = pairs(200, &heldOutGenerator)
        let (source, target) = (try Seq2Seq.Batch(heldOut.source), try Seq2Seq.Batch(heldOut.target))
        let decoding = try model.greedyDecode(source: source, maxLength: 10)
        var correct = 0, total = 0, exact = 0
        for (b, expected) in heldOut.target.enumerated() {
            let output = decoding.sequences[b]
            for i in 0..<(expected.count - 1) {
                total += 1
                if i < output.count && output[i] == expected[i] { correct += 1 }
            }
            if output == expected { exact += 1 }
        }
        /// The share of symbol steps i whose attention argmax is n-1-i; rows are (B, T, S).
        func hitRate(_ alignment: Tensor?, limitedTo outputs: [[Int]]? = nil) -> Double? {
            guard let alignment else { return nil }
            let (T, S) = (alignment.shape[1], alignment.shape[2])
            var hits = 0, steps = 0
            for (b, sequence) in heldOut.source.enumerated() {
                let n = sequence.count
                for i in 0..<min(n, outputs?[b].count ?? n) {
                    let row = alignment.scalars[((b * T + i) * S)..<((b * T + i + 1) * S)]
                    let argmax = row.indices.max { row[$0] < row[$1] }! - (b * T + i) * S
                    steps += 1
                    if argmax == n - 1 - i { hits += 1 }
                }
            }
            return Double(hits) / Double(steps)
        }
        let forced = try withoutGradients { try model(source: source, target: target) }
        return Result(loss: loss, tokenAccuracy: Double(correct) / Double(total), sequenceAccuracy: Double(exact) / 200,
                      hitRate: hitRate(forced.alignment), greedyHitRate: hitRate(decoding.alignment, limitedTo: decoding.sequences),
                      seconds: seconds)
    }

    private func report(_ attention: Seq2Seq.Attention, _ result: Result) {
        print("""
            Seq2Seq reversal, \(attention), \(steps) steps: loss \(result.loss), token accuracy \(result.tokenAccuracy), \
            sequence accuracy \(result.sequenceAccuracy), argmax hit rate \(result.hitRate.map { "\($0)" } ?? "-") \
            (greedy \(result.greedyHitRate.map { "\($0)" } ?? "-")), training \(String(format: "%.1f", result.seconds)) s
            """)
    }

    /// Bahdanau's additive attention against the fixed-length context.
    func testAdditiveAttentionLearnsTheReversalAlignment() throws {
        let baseline = try train(.none)
        report(.none, baseline)
        let additive = try train(.additive)
        report(.additive, additive)
        #if DEBUG
        XCTAssertGreaterThan(additive.tokenAccuracy, baseline.tokenAccuracy)
        #else
        XCTAssertGreaterThan(additive.tokenAccuracy, 0.9)
        XCTAssertGreaterThan(additive.tokenAccuracy, baseline.tokenAccuracy + 0.2)
        XCTAssertGreaterThan(try XCTUnwrap(additive.hitRate), 0.8)
        XCTAssertGreaterThan(try XCTUnwrap(additive.greedyHitRate), 0.8)
        #endif
    }

    /// Luong's general score learns the same alignment.
    func testMultiplicativeAttentionLearnsTheReversalAlignment() throws {
        let general = try train(.multiplicative(.general))
        report(.multiplicative(.general), general)
        #if !DEBUG
        XCTAssertGreaterThan(general.tokenAccuracy, 0.85)
        XCTAssertGreaterThan(try XCTUnwrap(general.hitRate), 0.8)
        #endif
    }
}
