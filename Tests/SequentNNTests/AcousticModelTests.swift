import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// `AcousticModel`: shapes, log-probabilities, and streaming with the state carried, which
/// must give the log-probabilities of the whole sequence.
final class AcousticModelTests: XCTestCase {
    private func model(bidirectional: Bool, cell: RecurrentCellType = .lstm) throws -> AcousticModel {
        var generator = RandomGenerator(seed: 4)
        return try AcousticModel(cell: cell, bidirectional: bidirectional, inputSize: 6, hiddenSize: 8, layerCount: 2,
                                 classCount: 5, dropout: 0, generator: &generator)
    }

    func testOutputsAreLogProbabilitiesOfEveryStep() throws {
        let m = try model(bidirectional: true)
        m.setTraining(false)
        let x = randomTensor([7, 3, 6], seed: 2)
        let lp = try m(x, lengths: [7, 5, 1])
        XCTAssertEqual(lp.shape, [7, 3, 5])
        let values = lp.scalars
        for row in 0..<(7 * 3) {
            let sum = (0..<5).reduce(Float(0)) { $0 + exp(values[row * 5 + $1]) }
            XCTAssertEqual(sum, 1, accuracy: 1e-5)
        }
        XCTAssertEqual(Set(m.stateDictionary().keys), [
            "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
            "rnn.weight_ih_l0_reverse", "rnn.weight_hh_l0_reverse", "rnn.bias_ih_l0_reverse", "rnn.bias_hh_l0_reverse",
            "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1",
            "rnn.weight_ih_l1_reverse", "rnn.weight_hh_l1_reverse", "rnn.bias_ih_l1_reverse", "rnn.bias_hh_l1_reverse",
            "head.weight", "head.bias",
        ])
    }

    func testStreamingInPiecesGivesTheWholeSequencesLogProbabilities() throws {
        for cell in [RecurrentCellType.lstm, .gru] {
            let m = try model(bidirectional: false, cell: cell)
            m.setTraining(false)
            let T = 11
            let x = randomTensor([T, 1, 6], seed: 9)
            let whole = try withoutGradients { try m(x, lengths: [T]) }.scalars
            var streamed: [Float] = []
            var state: RecurrentState?
            var start = 0
            for size in [1, 3, 2, 5] {
                let piece = x.slice(alongAxis: 0, start..<(start + size))
                let (lp, next) = try withoutGradients { try m.stream(piece, state: state) }
                streamed += lp.scalars
                state = next
                start += size
            }
            XCTAssertEqual(streamed.count, whole.count)
            for (a, b) in zip(streamed, whole) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(cell)") }
        }
    }

    func testABidirectionalModelRefusesToStream() throws {
        let m = try model(bidirectional: true)
        XCTAssertThrowsError(try m.stream(randomTensor([2, 1, 6]), state: nil)) { error in
            XCTAssertTrue("\(error)".contains("bidirectional"), "\(error)")
        }
    }

    func testGradientsReachEveryParameterThroughCTC() throws {
        let m = try model(bidirectional: true)
        let lp = try m(randomTensor([6, 2, 6], seed: 3), lengths: [6, 4])
        let loss = try Loss.ctc(logProbabilities: lp, targets: [[1, 2, 2], [3]], inputLengths: [6, 4])
        loss.backward()
        for (key, p) in m.namedParameters() {
            let g = try XCTUnwrap(p.grad, key).scalars
            XCTAssertTrue(g.allSatisfy(\.isFinite), key)
            XCTAssertTrue(g.contains { $0 != 0 }, "\(key) got no gradient")
        }
    }
}
