import Foundation
import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Memory/NeuralTuringMachine.swift`.
final class NeuralTuringMachineTests: XCTestCase {
    private func machine(seed: UInt64 = 3) throws -> NeuralTuringMachine {
        var generator = RandomGenerator(seed: seed)
        let configuration = NeuralTuringMachineConfiguration(inputSize: 3, outputSize: 2, controllerSize: 5, memorySlots: 6,
                                                             memoryWidth: 4, readHeads: 2, shiftRange: 1, initialMemoryValue: 0.1)
        return try NeuralTuringMachine(configuration: configuration, generator: &generator)
    }

    func testGradientsOfTheInputsMatchFiniteDifferencesEndToEnd() throws {
        let ntm = try machine()
        checkGradient([randomTensor([4, 2, 3], seed: 5)], epsilon: 1e-2, tolerance: 3e-2) { inputs in
            try! ntm(inputs[0])
        }
    }

    func testGradientsOfTheParametersMatchFiniteDifferences() throws {
        // d loss / d theta for a few entries of every parameter, against central differences.
        let ntm = try machine()
        let inputs = randomTensor([4, 2, 3], seed: 9)
        let weights = randomTensor([4, 2, 2], seed: 10)
        func loss() -> Double { (try! ntm(inputs) * weights).sum().scalars.map(Double.init).reduce(0, +) }
        ntm.zeroGradients()
        (try ntm(inputs) * weights).sum().backward()
        let epsilon: Float = 1e-2
        for (key, parameter) in ntm.namedParameters() {
            let analytic = parameter.grad ?? Tensor.zeros(parameter.shape)
            for element in stride(from: 0, to: parameter.value.count, by: max(1, parameter.value.count / 5)) {
                let original = parameter.value.scalars[element]
                parameter.update { $0[element] = original + epsilon }
                let plus = withoutGradients { loss() }
                parameter.update { $0[element] = original - epsilon }
                let minus = withoutGradients { loss() }
                parameter.update { $0[element] = original }
                let numeric = (plus - minus) / Double(2 * epsilon)
                let error = abs(Double(analytic.scalars[element]) - numeric) / max(1, abs(numeric))
                XCTAssertLessThan(error, 3e-2, "\(key)[\(element)]: autograd \(analytic.scalars[element]), finite difference \(numeric)")
            }
        }
    }

    func testTraceHoldsEveryStepsWeightings() throws {
        let ntm = try machine()
        let trace = NeuralTuringMachine.Trace()
        let logits = try withoutGradients { try ntm(randomTensor([5, 2, 3], seed: 1), trace: trace) }
        XCTAssertEqual(logits.shape, [5, 2, 2])
        XCTAssertEqual(trace.writeWeightings.count, 5)
        XCTAssertEqual(trace.readWeightings.count, 2)
        XCTAssertEqual(trace.readWeightings[1].count, 5)
        for step in trace.writeWeightings { XCTAssertEqual(step[0..<6].reduce(0, +), 1, accuracy: 1e-4) }
    }

    func testZeroSlotsAndTooWideShiftsAreRefusedByName() {
        var generator = RandomGenerator(seed: 1)
        for (configuration, phrase) in [
            (NeuralTuringMachineConfiguration(inputSize: 3, outputSize: 2, memorySlots: 0), "memory slots"),
            (NeuralTuringMachineConfiguration(inputSize: 3, outputSize: 2, memorySlots: 4, shiftRange: 2), "wider than the memory"),
        ] {
            XCTAssertThrowsError(try NeuralTuringMachine(configuration: configuration, generator: &generator)) { error in
                XCTAssertTrue("\(error)".contains(phrase), "\(error)")
            }
        }
    }

    func testWrongInputWidthIsAnErrorNotACrash() throws {
        XCTAssertThrowsError(try machine()(Tensor.zeros([3, 2, 5])))
    }
}
