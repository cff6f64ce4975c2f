import Foundation
import SequentNN
import SequentTensor
import SequentTrain
import TestSupport
import XCTest

final class AdamTests: XCTestCase {
    // Hyperparameters as in make_optimizer_fixtures.py.

    func testAdamMatchesPyTorch() throws {
        try OptimizerFixtures.replay("adam") { try Adam(parameters: $0, learningRate: 0.01) }
    }

    func testAdamWithCoupledWeightDecayMatchesPyTorch() throws {
        try OptimizerFixtures.replay("adam_weight_decay") {
            try Adam(parameters: $0, learningRate: 0.01, betas: (0.8, 0.99), epsilon: 1e-6, weightDecay: 0.1)
        }
    }

    func testAdamWMatchesPyTorch() throws {
        try OptimizerFixtures.replay("adamw") { try AdamW(parameters: $0, learningRate: 0.01) }
    }

    func testAdamWFollowsLearningRateChangedBetweenSteps() throws {
        try OptimizerFixtures.replay("adamw_varying_lr", learningRates: [0.02, 0.02, 0.01, 0.005, 0.0025]) {
            try AdamW(parameters: $0, learningRate: 0.02, weightDecay: 0.5)
        }
    }

    func testFirstStepMovesEachElementByLearningRateAgainstTheGradientSign() throws {
        // At t = 1, m_hat = g and sqrt(v_hat) = |g|, so the step is lr * g / (|g| + eps).
        let p = Parameter(Tensor([1, 1, 1]))
        let adam = try Adam(parameters: [p], learningRate: 0.1)
        p.grad = Tensor([3, -0.5, 0])
        adam.step()
        assertClose(p.value, Tensor([0.9, 1.1, 1]), relative: 1e-6, absolute: 1e-7)
    }

    func testStepCountIsPerParameterAndSkipsMissingGradients() throws {
        let a = Parameter(Tensor([1])), b = Parameter(Tensor([1]))
        let adam = try Adam(namedParameters: [("a", a), ("b", b)])
        a.grad = Tensor([1])
        adam.step()
        b.grad = Tensor([1])
        adam.step()
        let state = adam.stateDictionary()
        XCTAssertEqual(state["a.step"]?.item, 2)
        XCTAssertEqual(state["b.step"]?.item, 1)
        XCTAssertEqual(state["a.step"]?.shape, [])
        XCTAssertEqual(Set(state.keys), ["a.step", "a.exp_avg", "a.exp_avg_sq", "b.step", "b.exp_avg", "b.exp_avg_sq"])
    }

    func testAdamResumesBitwiseFromStateDictionary() throws {
        try OptimizerFixtures.assertResumesBitwise(split: 3) { try Adam(namedParameters: $0, learningRate: 0.01, weightDecay: 0.1) }
    }

    func testAdamWResumesBitwiseFromStateDictionary() throws {
        try OptimizerFixtures.assertResumesBitwise(split: 2) { try AdamW(namedParameters: $0, learningRate: 0.01) }
    }

    func testLoadStateDictionaryRejectsBadStateAndChangesNothing() throws {
        let p = Parameter(Tensor([1, 2]))
        let adam = try Adam(namedParameters: [("p", p)])
        p.grad = Tensor([1, 1])
        adam.step()
        let good = adam.stateDictionary()

        var missing = good
        missing["p.exp_avg_sq"] = nil
        XCTAssertThrowsError(try adam.loadStateDictionary(missing)) { error in
            XCTAssertTrue("\(error)".contains("'p.exp_avg_sq' is missing"), "\(error)")
        }
        var wrongShape = good
        wrongShape["p.exp_avg"] = Tensor([1, 2, 3])
        XCTAssertThrowsError(try adam.loadStateDictionary(wrongShape)) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .shapeMismatch)
        }
        var extra = good
        extra["q.exp_avg"] = Tensor([0, 0])
        XCTAssertThrowsError(try adam.loadStateDictionary(extra)) { error in
            XCTAssertTrue("\(error)".contains("unexpected tensor 'q.exp_avg'"), "\(error)")
        }
        var badStep = good
        badStep["p.step"] = Tensor(1.5)
        XCTAssertThrowsError(try adam.loadStateDictionary(badStep))
        XCTAssertEqual(adam.stateDictionary()["p.exp_avg"]?.scalars, good["p.exp_avg"]?.scalars)

        // An empty state means "never stepped": the next step is a first step again.
        try adam.loadStateDictionary([:])
        XCTAssertTrue(adam.stateDictionary().isEmpty)
    }

    func testRejectsInvalidHyperparameters() {
        let p = [Parameter(Tensor([1]))]
        XCTAssertThrowsError(try Adam(parameters: p, learningRate: -1)) { error in
            XCTAssertEqual((error as? SequentError)?.message, "Adam: learning rate must be >= 0, got -1.0")
        }
        XCTAssertThrowsError(try Adam(parameters: p, betas: (1, 0.999)))
        XCTAssertThrowsError(try Adam(parameters: p, betas: (0.9, -0.1)))
        XCTAssertThrowsError(try Adam(parameters: p, epsilon: -1e-8))
        XCTAssertThrowsError(try AdamW(parameters: p, weightDecay: -0.01)) { error in
            XCTAssertTrue("\(error)".hasPrefix("AdamW: weight decay"), "\(error)")
        }
    }

    func testAdamWDefaultsMatchPyTorch() throws {
        let adamW = try AdamW(parameters: [Parameter(Tensor([1]))])
        XCTAssertEqual(adamW.learningRate, 1e-3)
        XCTAssertEqual(adamW.weightDecay, 0.01)
        XCTAssertTrue(adamW.decouplesWeightDecay)
        let adam = try Adam(parameters: [Parameter(Tensor([1]))])
        XCTAssertEqual(adam.weightDecay, 0)
        XCTAssertFalse(adam.decouplesWeightDecay)
        XCTAssertEqual(adam.betas.0, 0.9)
        XCTAssertEqual(adam.betas.1, 0.999)
        XCTAssertEqual(adam.epsilon, 1e-8)
    }
}
