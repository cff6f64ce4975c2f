import SequentNN
import SequentTensor
import SequentTrain
import TestSupport
import XCTest

final class SGDTests: XCTestCase {
    // Hyperparameters as in make_optimizer_fixtures.py.

    func testPlainMatchesPyTorch() throws {
        try OptimizerFixtures.replay("sgd_plain") { try SGD(parameters: $0, learningRate: 0.1) }
    }

    func testMomentumWithDampeningMatchesPyTorch() throws {
        try OptimizerFixtures.replay("sgd_momentum") { try SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, dampening: 0.1) }
    }

    func testNesterovMatchesPyTorch() throws {
        try OptimizerFixtures.replay("sgd_nesterov") { try SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, nesterov: true) }
    }

    func testWeightDecayMatchesPyTorch() throws {
        try OptimizerFixtures.replay("sgd_weight_decay") { try SGD(parameters: $0, learningRate: 0.1, momentum: 0.5, weightDecay: 0.1) }
    }

    func testPlainStepIsParameterMinusLearningRateTimesGradient() throws {
        let p = Parameter(Tensor([1, 2, 3]))
        let sgd = try SGD(parameters: [p], learningRate: 0.5)
        p.grad = Tensor([2, -4, 0])
        sgd.step()
        XCTAssertEqual(p.value.scalars, [0, 4, 3])
        XCTAssertTrue(sgd.stateDictionary().isEmpty, "no momentum, no state")
    }

    func testResumesBitwiseFromStateDictionary() throws {
        try OptimizerFixtures.assertResumesBitwise(split: 2) {
            try SGD(namedParameters: $0, learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01)
        }
    }

    func testStateDictionaryKeysUseParameterNames() throws {
        let weight = Parameter(Tensor.ones([2, 2])), bias = Parameter(Tensor.ones([2]))
        let sgd = try SGD(namedParameters: [("fc.weight", weight), ("fc.bias", bias)], learningRate: 0.1, momentum: 0.9)
        weight.grad = Tensor.ones([2, 2])
        sgd.step()
        // bias had no gradient: no buffer yet, as in PyTorch.
        XCTAssertEqual(Set(sgd.stateDictionary().keys), ["fc.weight.momentum_buffer"])
        XCTAssertEqual(sgd.stateDictionary()["fc.weight.momentum_buffer"]?.scalars, [1, 1, 1, 1])
    }

    func testRejectsInvalidHyperparameters() {
        let p = [Parameter(Tensor([1]))]
        XCTAssertThrowsError(try SGD(parameters: p, learningRate: -0.1)) { error in
            XCTAssertEqual((error as? SequentError)?.message, "SGD: learning rate must be >= 0, got -0.1")
        }
        XCTAssertThrowsError(try SGD(parameters: p, learningRate: .nan))
        XCTAssertThrowsError(try SGD(parameters: p, learningRate: 0.1, momentum: -1))
        XCTAssertThrowsError(try SGD(parameters: p, learningRate: 0.1, weightDecay: -1))
        XCTAssertThrowsError(try SGD(parameters: p, learningRate: 0.1, nesterov: true)) { error in
            XCTAssertTrue("\(error)".contains("Nesterov momentum requires momentum > 0"), "\(error)")
        }
        XCTAssertThrowsError(try SGD(parameters: p, learningRate: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true))
        XCTAssertThrowsError(try SGD(parameters: p + p, learningRate: 0.1)) { error in
            XCTAssertTrue("\(error)".contains("same object"), "\(error)")
        }
    }
}
