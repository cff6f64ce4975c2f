import Foundation
import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Memory/NeuralTuringMachine.swift`.
final class NeuralTuringMachineTests: XCTestCase {
    private let small = NeuralTuringMachineConfiguration(inputSize: 3, outputSize: 2, controllerSize: 5, memorySlots: 6,
                                                         memoryWidth: 4, readHeads: 2, shiftRange: 1, initialMemoryValue: 0.1)

    private func machine(seed: UInt64 = 3) throws -> NeuralTuringMachine {
        var generator = RandomGenerator(seed: seed)
        return try NeuralTuringMachine(configuration: small, generator: &generator)
    }

    /// The small machine with Collier and Beel's recipe, its memory at 0.1 (not 1e-6) so that
    /// content addressing has norms finite differences can resolve, and a clip value of 1 so
    /// that some heads' parameters are clipped.
    private func recipeMachine(clipValue: Float = 1) throws -> NeuralTuringMachine {
        var configuration = small.withCollierBeelRecipe()
        configuration.initialMemoryValue = 0.1
        configuration.clipValue = clipValue
        var generator = RandomGenerator(seed: 3)
        return try NeuralTuringMachine(configuration: configuration, generator: &generator)
    }

    func testGradientsOfTheInputsMatchFiniteDifferencesEndToEnd() throws {
        let ntm = try machine()
        checkGradient([randomTensor([4, 2, 3], seed: 5)], epsilon: 1e-2, tolerance: 3e-2) { inputs in
            try! ntm(inputs[0])
        }
    }

    func testGradientsOfTheParametersMatchFiniteDifferences() throws {
        try checkParameterGradients(try machine())
    }

    /// The learned initial weightings and reads (softmax and tanh of biases, broadcast over
    /// the batch) and the clipped heads: every parameter's gradient, the new ones included.
    func testGradientsOfTheParametersMatchFiniteDifferencesWithTheCollierBeelRecipe() throws {
        let ntm = try recipeMachine(clipValue: 20)
        XCTAssertEqual(Set(ntm.namedParameters().map(\.key)).isSuperset(of: ["initial_weightings", "initial_reads"]), true)
        try checkParameterGradients(ntm)
    }

    /// d loss / d theta for a few entries of every parameter, against central differences.
    private func checkParameterGradients(_ ntm: NeuralTuringMachine) throws {
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

    func testTheRecipeSetsTheForgetBiasAndLearnsAStartThatSumsToOne() throws {
        let ntm = try recipeMachine()
        let H = small.controllerSize
        let inputBias = try XCTUnwrap(ntm.controller.weights.inputBias).value.scalars
        let recurrentBias = try XCTUnwrap(ntm.controller.weights.recurrentBias).value.scalars
        XCTAssertEqual(Array(inputBias[H..<(2 * H)]), Array(repeating: 1, count: H))
        XCTAssertEqual(Array(recurrentBias[H..<(2 * H)]), Array(repeating: 0, count: H))
        XCTAssertEqual(try XCTUnwrap(ntm.initialWeightings).shape, [3, 6])
        XCTAssertEqual(try XCTUnwrap(ntm.initialReads).shape, [2, 4])
        let start = ntm.initialState(batchSize: 2)
        for weighting in start.readWeightings + [start.writeWeighting] {
            XCTAssertEqual(weighting.shape, [2, 6])
            XCTAssertEqual(weighting.scalars[0..<6].reduce(0, +), 1, accuracy: 1e-5)
            XCTAssertEqual(Array(weighting.scalars[0..<6]), Array(weighting.scalars[6..<12]))
        }
        XCTAssertTrue(start.reads.allSatisfy { $0.shape == [2, 4] && $0.scalars.allSatisfy { abs($0) < 1 && $0 != 0 } })
    }

    func testTheClipBoundsTheLogits() throws {
        let ntm = try recipeMachine(clipValue: 0.05)
        let logits = try withoutGradients { try ntm(randomTensor([5, 2, 3], seed: 4) * 50) }
        XCTAssertTrue(logits.scalars.allSatisfy { abs($0) <= 0.05 }, "\(logits.scalars)")
    }

    /// The default machine is unchanged by the recipe's options: the same parameters from the
    /// same seed, no learned start, and a configuration saved before the options existed
    /// reads back as it.
    func testTheDefaultsKeepTheFixedStartAndOldConfigurationsStillRead() throws {
        let ntm = try machine()
        XCTAssertNil(ntm.initialWeightings)
        XCTAssertFalse(ntm.namedParameters().contains { $0.key.hasPrefix("initial_") })
        XCTAssertEqual(ntm.initialState(batchSize: 1).writeWeighting.scalars, [1, 0, 0, 0, 0, 0])
        let recipe = try recipeMachine()
        XCTAssertEqual(ntm.heads.weight.value.scalars, recipe.heads.weight.value.scalars, "the recipe draws its biases after every other weight")
        let old = #"{"inputSize":3,"outputSize":2,"controllerSize":5,"memorySlots":6,"memoryWidth":4,"readHeads":2,"shiftRange":1,"initialMemoryValue":0.1}"#
        XCTAssertEqual(try JSONDecoder().decode(NeuralTuringMachineConfiguration.self, from: Data(old.utf8)), small)
        let saved = try JSONEncoder().encode(small.withCollierBeelRecipe())
        XCTAssertEqual(try JSONDecoder().decode(NeuralTuringMachineConfiguration.self, from: saved), small.withCollierBeelRecipe())
    }

    func testABadClipValueIsRefusedByName() {
        var configuration = small
        configuration.clipValue = 0
        var generator = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try NeuralTuringMachine(configuration: configuration, generator: &generator)) { error in
            XCTAssertTrue("\(error)".contains("clip value"), "\(error)")
        }
    }
}
