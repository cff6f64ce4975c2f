import SequentTensor
import TestSupport
import XCTest

/// Tests of `Tensor.ctcLoss` and `Tensor.ctcGreedyDecode`.
final class TensorCTCTests: XCTestCase {
    /// The probability of every transcription of sequence b's first `length` steps, summed
    /// over the label paths that collapse to it (repeats merged, blanks removed): the
    /// definition, by enumerating all C^length paths.
    private func transcriptionProbabilities(_ lp: Tensor, sequence b: Int, length: Int, blank: Int) -> [[Int]: Double] {
        let (B, C) = (lp.shape[1], lp.shape[2])
        var probabilities: [[Int]: Double] = [:]
        var path = [Int](repeating: 0, count: length)
        func visit(_ t: Int, _ logProbability: Double) {
            guard t < length else {
                var collapsed: [Int] = []
                var previous = -1
                for label in path {
                    if label != blank && label != previous { collapsed.append(label) }
                    previous = label
                }
                probabilities[collapsed, default: 0] += Foundation.exp(logProbability)
                return
            }
            for c in 0..<C {
                path[t] = c
                visit(t + 1, logProbability + Double(lp.scalars[(t * B + b) * C + c]))
            }
        }
        visit(0, 0)
        return probabilities
    }

    private func bruteForceLoss(_ lp: Tensor, sequence b: Int, length: Int, target: [Int], blank: Int) -> Double {
        -Foundation.log(transcriptionProbabilities(lp, sequence: b, length: length, blank: blank)[target] ?? 0)
    }

    func testLossIsTheSumOverAllAlignments() throws {
        let lp = randomTensor([5, 4, 3], lower: -2, upper: 2, seed: 1).logSoftmax()
        // Repeated labels, an empty target, a target that fills the input, blank 0 and 2.
        for (blank, targets) in [(0, [[1], [2, 2], [], [1, 2, 1]]), (2, [[0, 1], [1, 1], [0], []])] {
            let lengths = [5, 5, 3, 5]
            let losses = try Tensor.ctcLoss(logProbabilities: lp, targets: targets, inputLengths: lengths,
                                            blank: blank, reduction: .none)
            for b in 0..<4 {
                let expected = bruteForceLoss(lp, sequence: b, length: lengths[b], target: targets[b], blank: blank)
                XCTAssertEqual(Double(losses.scalars[b]), expected, accuracy: 1e-5 * max(1, abs(expected)), "blank \(blank), sequence \(b)")
            }
        }
    }

    func testNoStepsAlignOnlyTheEmptyTarget() throws {
        let empty = Tensor(shape: [0, 2, 3], scalars: []).requiringGrad()
        let losses = try Tensor.ctcLoss(logProbabilities: empty, targets: [[], [1]], reduction: .none)
        XCTAssertEqual(losses.scalars, [0, .infinity])
        XCTAssertEqual(try Tensor.ctcLoss(logProbabilities: empty, targets: [[], [1]], zeroInfinity: true).item, 0)
        XCTAssertEqual(try Tensor.ctcGreedyDecode(logProbabilities: empty), [[], []])
    }

    func testMatchesPyTorch() throws {
        let golden = try Fixtures.load("ctc")
        // (name in make_ctc_fixtures.py, blank, reduction, zeroInfinity)
        let cases: [(String, Int, LossReduction, Bool)] = [
            ("mean", 0, .mean, false), ("sum", 0, .sum, false), ("none", 0, .none, false),
            ("blank_last", 5, .mean, false), ("zero_infinity", 0, .mean, true),
        ]
        for (name, blank, reduction, zeroInfinity) in cases {
            let flat = golden[name + "_targets"]!.scalars.map { Int($0) }
            var targets: [[Int]] = []
            var start = 0
            for length in golden[name + "_target_lengths"]!.scalars.map({ Int($0) }) {
                targets.append(Array(flat[start..<(start + length)]))
                start += length
            }
            let logits = golden["logits"]!.requiringGrad()
            let loss = try Tensor.ctcLoss(
                logProbabilities: logits.logSoftmax(), targets: targets,
                inputLengths: golden[name + "_input_lengths"]!.scalars.map { Int($0) },
                blank: blank, reduction: reduction, zeroInfinity: zeroInfinity)
            assertClose(loss, golden[name + "_loss"]!, name)
            if reduction == .none { (loss * golden[name + "_dy"]!).sum().backward() } else { loss.backward() }
            assertClose(logits.grad!, golden[name + "_dlogits"]!, "\(name) dlogits")
        }
    }

    func testGradientCheck() {
        // Log-probabilities as free inputs (not normalised): the gradient is the op's own.
        let lp = randomTensor([6, 3, 4], lower: -3, upper: -0.2, seed: 2)
        let targets = [[1, 3], [2, 2], [3]]
        for reduction in LossReduction.allCases {
            checkGradient([lp], tolerance: 2e-2) { x in
                try! Tensor.ctcLoss(logProbabilities: x[0], targets: targets, inputLengths: [6, 5, 4], reduction: reduction)
            }
        }
    }

    func testUnreachableTargetIsInfiniteWithNaNGradientUnlessZeroInfinity() throws {
        let logits = randomTensor([4, 2, 3], seed: 3)
        // [1, 1] needs three steps (1, blank, 1); the second sequence has two.
        let targets = [[1, 2], [1, 1]]
        for zeroInfinity in [false, true] {
            let x = logits.requiringGrad()
            let losses = try Tensor.ctcLoss(logProbabilities: x.logSoftmax(), targets: targets, inputLengths: [4, 2],
                                            reduction: .none, zeroInfinity: zeroInfinity)
            XCTAssertTrue(losses.scalars[0].isFinite)
            XCTAssertEqual(losses.scalars[1], zeroInfinity ? 0 : .infinity)
            losses.sum().backward()
            let grad = x.grad!.scalars
            for t in 0..<4 {
                for c in 0..<3 {
                    XCTAssertTrue(grad[(t * 2) * 3 + c].isFinite, "sequence 0, t \(t)")
                    let second = grad[(t * 2 + 1) * 3 + c]
                    if zeroInfinity || t >= 2 { XCTAssertEqual(second, 0, "t \(t)") } else { XCTAssertTrue(second.isNaN, "t \(t)") }
                }
            }
        }
    }

    func testBadInputNamesTheProblem() {
        let lp = randomTensor([4, 2, 3], seed: 4).logSoftmax()
        func message(_ body: () throws -> Tensor) -> String {
            do { _ = try body(); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message { try Tensor.ctcLoss(logProbabilities: Tensor([[1, 2]]), targets: [[1]]) }.contains("(T, B, C)"))
        XCTAssertTrue(message { try Tensor.ctcLoss(logProbabilities: lp, targets: [[1]]) }.contains("need 2 targets"))
        XCTAssertTrue(message { try Tensor.ctcLoss(logProbabilities: lp, targets: [[1], [0]]) }.contains("label 0"))
        XCTAssertTrue(message { try Tensor.ctcLoss(logProbabilities: lp, targets: [[3], [1]]) }.contains("label 3"))
        XCTAssertTrue(message { try Tensor.ctcLoss(logProbabilities: lp, targets: [[1], [1]], blank: 3) }.contains("blank 3"))
        XCTAssertTrue(message { try Tensor.ctcLoss(logProbabilities: lp, targets: [[1], [1]], inputLengths: [4]) }.contains("need 2 input lengths"))
        XCTAssertTrue(message { try Tensor.ctcLoss(logProbabilities: lp, targets: [[1], [1]], inputLengths: [5, 1]) }.contains("input length 5"))
        var scalars = lp.scalars
        scalars[7] = .nan
        XCTAssertTrue(message { try Tensor.ctcLoss(logProbabilities: Tensor(shape: lp.shape, scalars: scalars), targets: [[1], [1]]) }.contains("NaN"))
    }

    func testBeamSearchWithAFullBeamFindsTheMostProbableTranscriptions() throws {
        let lp = randomTensor([5, 2, 3], lower: -2, upper: 2, seed: 5).logSoftmax()
        let lengths = [5, 4]
        for blank in [0, 2] {
            // Wide enough to keep every prefix: the search is then exact.
            let found = try Tensor.ctcBeamSearch(logProbabilities: lp, inputLengths: lengths, blank: blank, beamWidth: 1000)
            for b in 0..<2 {
                let exact = transcriptionProbabilities(lp, sequence: b, length: lengths[b], blank: blank)
                XCTAssertEqual(found[b].count, exact.count, "blank \(blank), sequence \(b)")
                for (rank, hypothesis) in found[b].enumerated() {
                    XCTAssertEqual(Double(hypothesis.logProbability), Foundation.log(exact[hypothesis.labels]!), accuracy: 1e-5)
                    if rank > 0 { XCTAssertGreaterThanOrEqual(found[b][rank - 1].logProbability, hypothesis.logProbability) }
                }
                let best = exact.max { $0.value < $1.value }!.key
                XCTAssertEqual(found[b][0].labels, best, "blank \(blank), sequence \(b)")
            }
        }
        let narrow = try Tensor.ctcBeamSearch(logProbabilities: lp, beamWidth: 3)
        XCTAssertEqual(narrow.map(\.count), [3, 3])
        XCTAssertThrowsError(try Tensor.ctcBeamSearch(logProbabilities: lp, beamWidth: 0))
    }

    func testGreedyDecodeMergesRepeatsAndDropsBlanks() throws {
        // Best classes per step, sequence 0: 1 1 0 2 2 0 2; sequence 1: 0 3 3 3 1 1 1.
        let best = [[1, 1, 0, 2, 2, 0, 2], [0, 3, 3, 3, 1, 1, 1]]
        var scalars = [Float](repeating: -5, count: 7 * 2 * 4)
        for t in 0..<7 {
            for b in 0..<2 { scalars[(t * 2 + b) * 4 + best[b][t]] = -0.1 }
        }
        let lp = Tensor(shape: [7, 2, 4], scalars: scalars)
        XCTAssertEqual(try Tensor.ctcGreedyDecode(logProbabilities: lp), [[1, 2, 2], [3, 1]])
        XCTAssertEqual(try Tensor.ctcGreedyDecode(logProbabilities: lp, inputLengths: [4, 1]), [[1, 2], []])
        XCTAssertEqual(try Tensor.ctcGreedyDecode(logProbabilities: lp, blank: 3), [[1, 0, 2, 0, 2], [0, 1]])
    }
}
