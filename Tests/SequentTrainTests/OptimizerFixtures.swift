import SequentNN
import SequentTensor
import SequentTrain
import TestSupport
import XCTest

/// Replays the trajectories of `Tests/Fixtures/optimizers.json` (made by
/// `make_optimizer_fixtures.py`): fixed initial `w` (3, 4) and `b` (4), five fixed gradients,
/// `b` without a gradient at step 2; the parameters after each step are compared with
/// PyTorch's to 1e-5 relative.
enum OptimizerFixtures {
    static let steps = 5

    /// Runs `caseName` with the optimizer `make` builds over [w, b], setting the learning rate
    /// before each step when `learningRates` is given; returns the largest relative difference.
    @discardableResult
    static func replay(
        _ caseName: String, learningRates: [Float]? = nil,
        file: StaticString = #filePath, line: UInt = #line,
        _ make: ([Parameter]) throws -> any Optimizer
    ) throws -> Float {
        let fixture = try Fixtures.load("optimizers")
        let w = Parameter(try XCTUnwrap(fixture["w"])), b = Parameter(try XCTUnwrap(fixture["b"]))
        let hasGrad = try XCTUnwrap(fixture["b_has_grad"]).scalars.map { $0 != 0 }
        let optimizer = try make([w, b])
        var worst: Float = 0
        for k in 0..<steps {
            if let learningRates { optimizer.learningRate = learningRates[k] }
            w.grad = fixture["grad.w.\(k)"]
            b.grad = hasGrad[k] ? fixture["grad.b.\(k)"] : nil
            optimizer.step()
            for (name, parameter) in [("w", w), ("b", b)] {
                let expected = try XCTUnwrap(fixture["\(caseName).\(name).\(k + 1)"], "\(caseName).\(name).\(k + 1)")
                assertClose(parameter.value, expected, relative: 1e-5, absolute: 1e-7,
                            "\(caseName): \(name) after step \(k + 1)", file: file, line: line)
                worst = max(worst, maxRelativeDifference(parameter.value, expected))
            }
        }
        print("\(caseName): max relative difference to PyTorch \(worst)")
        return worst
    }

    /// Runs five fixture steps twice: straight through, and stopped after `split` steps,
    /// saved, and resumed in a fresh optimizer over fresh parameters; asserts the final
    /// parameters are bitwise equal.
    static func assertResumesBitwise(
        split: Int, file: StaticString = #filePath, line: UInt = #line,
        _ make: ([(key: String, parameter: Parameter)]) throws -> any Optimizer
    ) throws {
        let fixture = try Fixtures.load("optimizers")
        let hasGrad = try XCTUnwrap(fixture["b_has_grad"]).scalars.map { $0 != 0 }
        func freshParameters(_ w: Tensor, _ b: Tensor) -> [(key: String, parameter: Parameter)] {
            [(key: "layer.weight", parameter: Parameter(w)), (key: "layer.bias", parameter: Parameter(b))]
        }
        func run(_ optimizer: any Optimizer, _ steps: Range<Int>) {
            let (w, b) = (optimizer.namedParameters[0].parameter, optimizer.namedParameters[1].parameter)
            for k in steps {
                w.grad = fixture["grad.w.\(k)"]
                b.grad = hasGrad[k] ? fixture["grad.b.\(k)"] : nil
                optimizer.step()
            }
        }
        let straight = try make(freshParameters(fixture["w"]!, fixture["b"]!))
        run(straight, 0..<steps)

        let first = try make(freshParameters(fixture["w"]!, fixture["b"]!))
        run(first, 0..<split)
        let saved = first.stateDictionary()
        let values = first.namedParameters.map { $0.parameter.value.detached() }
        let resumed = try make(freshParameters(values[0], values[1]))
        try resumed.loadStateDictionary(saved)
        run(resumed, split..<steps)

        for (a, b) in zip(straight.namedParameters, resumed.namedParameters) {
            XCTAssertEqual(a.parameter.value.scalars, b.parameter.value.scalars, "resumed '\(a.key)' differs", file: file, line: line)
        }
        let (straightState, resumedState) = (straight.stateDictionary(), resumed.stateDictionary())
        XCTAssertEqual(Set(straightState.keys), Set(resumedState.keys), file: file, line: line)
        for (key, tensor) in straightState {
            XCTAssertEqual(tensor.scalars, resumedState[key]?.scalars, "state '\(key)' differs", file: file, line: line)
        }
    }
}
