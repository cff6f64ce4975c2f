import SequentTensor
import TestSupport
import XCTest

/// Tests of `Tensor+Loss.swift`: the fused cross-entropy.
final class TensorLossTests: XCTestCase {
    private func targets(_ rows: Int, classes: Int, seed: UInt64) -> [Int] {
        var generator = RandomGenerator(seed: seed)
        return (0..<rows).map { _ in Int(generator.next() % UInt64(classes)) }
    }

    func testPerRowLossesMatchNaiveReference() throws {
        // 65 classes: four full vectors and a one-lane tail (the character-level LM shape).
        for (rows, c) in [(50, 65), (9, 16), (4, 1), (3, 100)] {
            let logits = randomTensor([rows, c], lower: -8, upper: 8, seed: UInt64(c))
            let t = targets(rows, classes: c, seed: 3)
            for smoothing: Float in [0, 0.1] {
                let losses = try Tensor.crossEntropy(logits: logits, targets: t, labelSmoothing: smoothing, reduction: .none)
                let reference = Tensor.crossEntropyNaive(logits: logits, targets: t, labelSmoothing: smoothing)
                assertClose(losses, Tensor(reference), relative: 1e-5, absolute: 1e-5, "rows \(rows), C \(c), eps \(smoothing)")
            }
        }
    }

    func testMatchesComposedLogSoftmaxAndGather() throws {
        let logits = randomTensor([2, 3, 7], lower: -4, upper: 4, seed: 4)
        let t = targets(6, classes: 7, seed: 5)
        let fused = try Tensor.crossEntropy(logits: logits, targets: t)
        let picked = logits.logSoftmax().gather(alongAxis: -1, indices: Tensor(shape: [2, 3, 1], scalars: t.map(Float.init)))
        assertClose(fused, -picked.mean(), relative: 1e-5)
        XCTAssertEqual(fused.shape, [])
        XCTAssertEqual(try Tensor.crossEntropy(logits: logits, targets: t, reduction: .none).shape, [2, 3])
    }

    func testGradientCheckForEveryReduction() {
        let logits = randomTensor([4, 6], lower: -3, upper: 3, seed: 6)
        let t = [5, 0, 2, 2]
        for reduction in LossReduction.allCases {
            checkGradient([logits], tolerance: 1e-2) { x in
                try! Tensor.crossEntropy(logits: x[0], targets: t, reduction: reduction)
            }
        }
    }

    func testGradientCheckWithIgnoreIndexSmoothingAndWeights() {
        let logits = randomTensor([5, 4], lower: -3, upper: 3, seed: 7)
        let t = [1, -100, 3, 0, -100]
        checkGradient([logits], tolerance: 1e-2) { x in
            try! Tensor.crossEntropy(logits: x[0], targets: t, ignoreIndex: -100, labelSmoothing: 0.2)
        }
        checkGradient([logits], tolerance: 1e-2) { x in
            try! Tensor.crossEntropy(logits: x[0], targets: [1, 2, 3, 0, 1], weights: [1, 0, 0.5, 2, 1], reduction: .mean)
        }
        checkGradient([logits], tolerance: 1e-2) { x in
            try! Tensor.crossEntropy(logits: x[0], targets: t, ignoreIndex: -100, weights: [1, 1, 0, 1, 1],
                                     labelSmoothing: 0.1, reduction: .none)
        }
    }

    func testIgnoredRowsDoNotCountInTheMean() throws {
        let logits = randomTensor([4, 3], seed: 8)
        let all = try Tensor.crossEntropy(logits: logits, targets: [0, 1, 2, 1], reduction: .none)
        let mean = try Tensor.crossEntropy(logits: logits, targets: [0, -1, 2, -1], ignoreIndex: -1)
        XCTAssertEqual(mean.item, (all.scalars[0] + all.scalars[2]) / 2, accuracy: 1e-6)
    }

    func testAllIgnoredGivesZeroLossAndZeroGradient() throws {
        let logits = randomTensor([3, 4], seed: 9).requiringGrad()
        let loss = try Tensor.crossEntropy(logits: logits, targets: [-100, -100, -100], ignoreIndex: -100)
        XCTAssertEqual(loss.item, 0)
        loss.backward()
        XCTAssertEqual(logits.grad!.scalars, [Float](repeating: 0, count: 12))
        // Masked rows are never read: infinities there do not leak into the result.
        let masked = Tensor(shape: [2, 2], scalars: [1, 2, .infinity, -.infinity])
        XCTAssertTrue(try Tensor.crossEntropy(logits: masked, targets: [0, 1], weights: [1, 0]).item.isFinite)
    }

    func testLargeLogitsStayFinite() throws {
        let logits = Tensor([[1000, 0, -1000], [-1000, 1000, 999]])
        let losses = try Tensor.crossEntropy(logits: logits, targets: [0, 2], reduction: .none)
        assertClose(losses, Tensor([0, 1.3132616]), relative: 1e-5)
    }

    func testErrorsNameTheProblem() {
        let logits = Tensor.zeros([2, 3])
        XCTAssertThrowsError(try Tensor.crossEntropy(logits: logits, targets: [0, 3])) { error in
            XCTAssertEqual("\(error)", "crossEntropy: target 3 at row 1 is out of range 0..<3")
        }
        XCTAssertThrowsError(try Tensor.crossEntropy(logits: logits, targets: [-1, 0], ignoreIndex: -100)) { error in
            XCTAssertEqual("\(error)", "crossEntropy: target -1 at row 0 is out of range 0..<3 (ignore index -100)")
        }
        XCTAssertThrowsError(try Tensor.crossEntropy(logits: logits, targets: [0])) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .shapeMismatch)
        }
        XCTAssertThrowsError(try Tensor.crossEntropy(logits: logits, targets: [0, 1], weights: [1]))
        XCTAssertThrowsError(try Tensor.crossEntropy(logits: logits, targets: [0, 1], weights: [1, -1]))
        XCTAssertThrowsError(try Tensor.crossEntropy(logits: logits, targets: [0, 1], labelSmoothing: 1.5))
        XCTAssertThrowsError(try Tensor.crossEntropy(logits: Tensor.zeros([2, 0]), targets: [0, 0]))
    }
}
