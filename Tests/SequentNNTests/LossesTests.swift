import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Losses.swift`.
final class LossesTests: XCTestCase {
    private func ints(_ tensor: Tensor) -> [Int] { tensor.scalars.map { Int($0) } }

    func testCrossEntropyMatchesPyTorch() throws {
        let golden = try Fixtures.load("nn_cross_entropy")
        let targets = ints(golden["targets"]!), ignored = ints(golden["ignored_targets"]!)
        // (name in make_nn_fixtures.py, targets, ignore index, label smoothing, reduction)
        let cases: [(String, [Int], Int?, Float, Loss.Reduction)] = [
            ("mean", targets, nil, 0, .mean), ("sum", targets, nil, 0, .sum), ("none", targets, nil, 0, .none),
            ("ignore_mean", ignored, -100, 0, .mean), ("ignore_sum", ignored, -100, 0, .sum),
            ("smooth_mean", targets, nil, 0.1, .mean), ("smooth_ignore_mean", ignored, -100, 0.2, .mean),
            ("smooth_none", ignored, -100, 0.2, .none),
        ]
        for (name, t, ignoreIndex, smoothing, reduction) in cases {
            let logits = golden["logits"]!.requiringGrad()
            let loss = try Loss.crossEntropy(logits: logits, targets: t, ignoreIndex: ignoreIndex,
                                             labelSmoothing: smoothing, reduction: reduction)
            assertClose(loss, golden[name + "_loss"]!, name)
            if reduction == .none { (loss * golden[name + "_dy"]!).sum().backward() } else { loss.backward() }
            assertClose(logits.grad!, golden[name + "_dlogits"]!, "\(name) dlogits")
        }
    }

    func testCrossEntropyOnBatchTimeClassLogitsMatchesPyTorch() throws {
        let golden = try Fixtures.load("nn_cross_entropy")
        let logits = golden["btc_logits"]!.requiringGrad()
        XCTAssertEqual(logits.shape, [2, 4, 7])
        let loss = try Loss.crossEntropy(logits: logits, targets: ints(golden["btc_targets"]!))
        assertClose(loss, golden["btc_loss"]!)
        loss.backward()
        assertClose(logits.grad!, golden["btc_dlogits"]!)
    }

    func testMaskIsTheSameAsIgnoringPositions() throws {
        let logits = randomTensor([2, 3, 5], lower: -2, upper: 2, seed: 1)
        let targets = [0, 4, 1, 2, 3, 3]
        let mask = Tensor([[1, 1, 0], [1, 0, 0]])
        for reduction in Loss.Reduction.allCases {
            let masked = try Loss.crossEntropy(logits: logits, targets: targets, mask: mask, reduction: reduction)
            let ignored = try Loss.crossEntropy(logits: logits, targets: [0, 4, -1, 2, -1, -1], ignoreIndex: -1, reduction: reduction)
            assertClose(masked, ignored, relative: 1e-6, "\(reduction)")
        }
        XCTAssertEqual(try Loss.crossEntropy(logits: logits, targets: targets, reduction: .none).shape, [2, 3])
    }

    func testCrossEntropyGradientCheckWithMaskAndSmoothing() {
        let mask = Tensor([1, 0, 1, 1])
        checkGradient([randomTensor([4, 6], lower: -3, upper: 3, seed: 2)], tolerance: 1e-2) { x in
            try! Loss.crossEntropy(logits: x[0], targets: [5, 1, 0, 3], mask: mask, labelSmoothing: 0.1)
        }
    }

    func testAllIgnoredIsZeroWithZeroGradient() throws {
        let logits = randomTensor([2, 3], seed: 3).requiringGrad()
        let loss = try Loss.crossEntropy(logits: logits, targets: [0, 1], mask: Tensor.zeros([2]))
        XCTAssertEqual(loss.item, 0)
        loss.backward()
        XCTAssertEqual(logits.grad!.scalars, [0, 0, 0, 0, 0, 0])
    }

    func testCrossEntropyErrors() {
        let logits = Tensor.zeros([2, 3, 4])
        XCTAssertThrowsError(try Loss.crossEntropy(logits: logits, targets: [0, 1, 2, 3, 4, 0])) { error in
            XCTAssertEqual("\(error)", "crossEntropy: target 4 at row 4 is out of range 0..<4")
        }
        XCTAssertThrowsError(try Loss.crossEntropy(logits: logits, targets: [0, 1, 2])) { error in
            XCTAssertEqual("\(error)", "crossEntropy: logits [2, 3, 4] need 6 targets (one per row), got 3")
        }
        XCTAssertThrowsError(try Loss.crossEntropy(logits: logits, targets: [0, 0, 0, 0, 0, 0], mask: Tensor.ones([6]))) { error in
            XCTAssertEqual("\(error)", "crossEntropy: mask [6] does not match logits [2, 3, 4] without the class axis")
        }
    }

    func testRegressionLossesMatchPyTorch() throws {
        let golden = try Fixtures.load("nn_regression")
        for (name, loss) in [("mse", Loss.meanSquaredError), ("l1", Loss.meanAbsoluteError)] {
            for reduction in Loss.Reduction.allCases {
                let key = "\(name)_\(reduction.rawValue)"
                let prediction = golden["prediction"]!.requiringGrad(), target = golden["target"]!.requiringGrad()
                let value = try loss(prediction, target, reduction)
                assertClose(value, golden[key + "_loss"]!, key)
                if reduction == .none { (value * golden[key + "_dy"]!).sum().backward() } else { value.backward() }
                assertClose(prediction.grad!, golden[key + "_dprediction"]!, "\(key) dprediction")
                assertClose(target.grad!, golden[key + "_dtarget"]!, "\(key) dtarget")
            }
        }
    }

    func testRegressionLossesRejectDifferentShapes() {
        XCTAssertThrowsError(try Loss.meanSquaredError(Tensor.zeros([2, 3]), Tensor.zeros([3, 2]))) { error in
            XCTAssertEqual("\(error)", "meanSquaredError: prediction [2, 3] and target [3, 2] differ")
        }
        XCTAssertThrowsError(try Loss.meanAbsoluteError(Tensor.zeros([2]), Tensor.zeros([2, 1])))
    }
}
