import SequentNN
import SequentTensor
import SequentTrain
import TestSupport
import XCTest

/// What every optimizer shares: skipping parameters without a gradient, zeroGradients,
/// and driving the learning rate from a schedule.
final class OptimizerTests: XCTestCase {
    private func makeAll(_ parameters: [Parameter]) throws -> [any Optimizer] {
        [try SGD(parameters: parameters, learningRate: 0.1, momentum: 0.9),
         try Adam(parameters: parameters, learningRate: 0.1),
         try AdamW(parameters: parameters, learningRate: 0.1)]
    }

    func testParametersWithoutGradientAreNotTouched() throws {
        for optimizer in try makeAll([Parameter(Tensor([1, 2])), Parameter(Tensor([3]))]) {
            let (a, b) = (optimizer.parameters[0], optimizer.parameters[1])
            a.grad = Tensor([1, 1])
            optimizer.step()
            XCTAssertEqual(b.value.scalars, [3], "\(type(of: optimizer)) moved a parameter without gradient")
            XCTAssertNotEqual(a.value.scalars, [1, 2])
            XCTAssertFalse(optimizer.stateDictionary().keys.contains { $0.hasPrefix("1.") }, "\(type(of: optimizer))")
        }
    }

    func testZeroGradientsClearsEveryGradient() throws {
        for optimizer in try makeAll([Parameter(Tensor([1, 2])), Parameter(Tensor([3]))]) {
            for parameter in optimizer.parameters { parameter.grad = Tensor.ones(parameter.shape) }
            optimizer.zeroGradients()
            XCTAssertTrue(optimizer.parameters.allSatisfy { $0.grad == nil })
        }
    }

    func testScheduleDrivesLearningRate() throws {
        let p = Parameter(Tensor([0]))
        let sgd = try SGD(parameters: [p], learningRate: 1)
        let schedule = try StepDecay(initialLearningRate: 1, stepSize: 1, gamma: 0.5)
        for step in 0..<3 {
            sgd.learningRate = schedule.learningRate(atStep: step)
            p.grad = Tensor([-1])
            sgd.step()
        }
        XCTAssertEqual(p.value.scalars, [1.75])  // 1 + 0.5 + 0.25
    }

    func testWorksWithModuleNamedParameters() throws {
        final class TwoParameters: Module {
            let weight = Parameter(Tensor.ones([2, 3]))
            let bias = Parameter(Tensor.zeros([2]))
            var isTraining = true
            var localParameters: [(key: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }
        }
        final class Outer: Module {
            let inner = TwoParameters()
            var isTraining = true
            var submodules: [(key: String, module: any Module)] { [("fc", inner)] }
        }
        let model = Outer()
        let adam = try Adam(namedParameters: model.namedParameters(), learningRate: 0.01)
        for parameter in model.parameters() { parameter.grad = Tensor.ones(parameter.shape) }
        adam.step()
        XCTAssertEqual(Set(adam.stateDictionary().keys),
                       ["fc.weight.exp_avg", "fc.weight.exp_avg_sq", "fc.weight.step",
                        "fc.bias.exp_avg", "fc.bias.exp_avg_sq", "fc.bias.step"])
    }

    func testRepeatedKeysAreRejected() {
        let (a, b) = (Parameter(Tensor([1])), Parameter(Tensor([2])))
        XCTAssertThrowsError(try Adam(namedParameters: [("x", a), ("x", b)])) { error in
            XCTAssertEqual((error as? SequentError)?.message, "Adam: parameter key 'x' appears more than once")
        }
    }
}
