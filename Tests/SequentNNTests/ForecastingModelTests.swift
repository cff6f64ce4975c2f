import SequentNN
import SequentTensor
import TestSupport
import XCTest

final class ForecastingModelTests: XCTestCase {
    func model(_ architecture: ForecastingModel.Architecture, features: Int = 3, outputs: Int = 5) throws -> ForecastingModel {
        var generator = RandomGenerator(seed: 1)
        return try ForecastingModel(architecture: architecture, featureCount: features, outputCount: outputs, hiddenSize: 8,
                                    layerCount: 2, dropout: 0, generator: &generator)
    }

    func testEveryArchitectureMapsWindowsToOutputs() throws {
        var generator = RandomGenerator(seed: 2)
        let x = Tensor.randomUniform([4, 6, 3], lower: -1, upper: 1, using: &generator)
        for architecture in ForecastingModel.Architecture.allCases {
            let output = try model(architecture)(x)
            XCTAssertEqual(output.shape, [4, 5], "\(architecture)")
            XCTAssertTrue(output.scalars.allSatisfy(\.isFinite))
        }
    }

    func testKeysArePyTorchs() throws {
        let lstm = try model(.lstm).stateDictionary()
        XCTAssertEqual(lstm["rnn.weight_ih_l0"]?.shape, [32, 3])
        XCTAssertEqual(lstm["rnn.weight_hh_l1"]?.shape, [32, 8])
        XCTAssertEqual(lstm["head.weight"]?.shape, [5, 8])
        let transformer = try model(.transformer).stateDictionary()
        XCTAssertEqual(transformer["input.weight"]?.shape, [8, 3])
        XCTAssertNotNil(transformer["encoder.layers.1.self_attn.in_proj_weight"])
        XCTAssertNotNil(transformer["encoder.norm.weight"])
    }

    /// The output depends on the last step through the encoder; its gradient with respect to
    /// the input windows matches central differences.
    func testGradientWithRespectToTheWindows() throws {
        var generator = RandomGenerator(seed: 3)
        let x = Tensor.randomUniform([2, 4, 3], lower: -1, upper: 1, using: &generator)
        for architecture in [ForecastingModel.Architecture.gru, .transformer] {
            let m = try model(architecture, outputs: 2)
            m.setTraining(false)
            checkGradient([x], epsilon: 1e-2, tolerance: 3e-2) { inputs in try! m(inputs[0]) }
        }
    }

    /// Outputs at every step (`--loss-every-step`): the last is the model's output, output t
    /// does not read rows after t, and its gradient matches central differences.
    func testEveryStepOutputsReadOnlyTheRowsBefore() throws {
        var generator = RandomGenerator(seed: 4)
        let x = Tensor.randomUniform([2, 4, 3], lower: -1, upper: 1, using: &generator)
        for architecture in [ForecastingModel.Architecture.lstm, .gru, .rnn] {
            let m = try model(architecture, outputs: 1)
            m.setTraining(false)
            let every = try m.everyStepOutputs(x)
            XCTAssertEqual(every.shape, [2, 4, 1])
            assertClose(every.select(alongAxis: 1, index: 3).scalars, try m(x).scalars, absolute: 1e-6)
            var changed = x.scalars
            for b in 0..<2 { for f in 0..<3 { changed[b * 12 + 3 * 3 + f] += 1 } }  // the last row of each window
            let after = try m.everyStepOutputs(Tensor(shape: [2, 4, 3], scalars: changed))
            for b in 0..<2 {
                for t in 0..<3 { XCTAssertEqual(after.scalars[b * 4 + t], every.scalars[b * 4 + t], "\(architecture): output \(t) read a later row") }
                XCTAssertNotEqual(after.scalars[b * 4 + 3], every.scalars[b * 4 + 3])
            }
        }
        let gru = try model(.gru, outputs: 1)
        gru.setTraining(false)
        checkGradient([x], epsilon: 1e-2, tolerance: 3e-2) { inputs in try! gru.everyStepOutputs(inputs[0]) }
        XCTAssertThrowsError(try model(.transformer, outputs: 1).everyStepOutputs(x)) { error in
            XCTAssertTrue("\(error)".contains("need a recurrent encoder without a highway; this is a transformer"), "\(error)")
        }
    }

    func testRefusesWindowsOfTheWrongShape() throws {
        XCTAssertThrowsError(try model(.lstm)(Tensor(shape: [2, 4], scalars: Array(repeating: 0, count: 8)))) { error in
            XCTAssertTrue("\(error)".contains("expected windows (B, W, 3), got [2, 4]"), "\(error)")
        }
        var generator = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try ForecastingModel(architecture: .gru, featureCount: 0, outputCount: 1, hiddenSize: 4, layerCount: 1, dropout: 0, generator: &generator))
    }

    /// The pinball loss by hand: e = target - prediction, tau e when e >= 0, (tau - 1) e when
    /// e < 0, averaged over every element; quantile q of step h is output h * Q + q.
    func testPinballLossByHand() throws {
        let prediction = Tensor(shape: [1, 6], scalars: [1, 2, 3, 4, 5, 6])
        let target = Tensor(shape: [1, 6], scalars: [2, 2, 2, 3, 3, 3])
        let loss = try ForecastingModel.pinballLoss(prediction, target, quantiles: [0.05, 0.5, 0.95])
        // e = 1, 0, -1, -1, -2, -3 with tau = 0.05, 0.5, 0.95, 0.05, 0.5, 0.95.
        let expected: Float = (0.05 * 1 + 0 + 0.05 * 1 + 0.95 * 1 + 0.5 * 2 + 0.05 * 3) / 6
        XCTAssertEqual(loss.item, expected, accuracy: 1e-6)
        XCTAssertThrowsError(try ForecastingModel.pinballLoss(prediction, target, quantiles: [0.1, 0.5, 0.9, 0.95])) { error in
            XCTAssertTrue("\(error)".contains("pinballLoss: expected prediction and target (B, H x 4)"), "\(error)")
        }
    }

    /// Central differences against the gradient of the prediction, every element at least
    /// 0.1 away from the loss's kink (e = 0).
    func testPinballLossGradientCheck() {
        let target = randomTensor([3, 6], lower: -1, upper: 1, seed: 5)
        var offsets = randomTensor([3, 6], lower: 0.1, upper: 1, seed: 6).scalars
        for i in offsets.indices where i % 2 == 0 { offsets[i] = -offsets[i] }
        let prediction = Tensor(shape: [3, 6], scalars: zip(target.scalars, offsets).map { $0 + $1 })
        checkGradient([prediction], epsilon: 1e-2, tolerance: 1e-2) { x in
            try! ForecastingModel.pinballLoss(x[0], target, quantiles: [0.1, 0.5, 0.9])
        }
    }

    /// The highway adds x[:, :, 0] W_hw^T + b_hw to the encoder's head, under its own keys;
    /// windows of another length are refused.
    func testHighwayAddsALinearAutoregressionOfTheSeries() throws {
        var generator = RandomGenerator(seed: 1)
        let model = try ForecastingModel(architecture: .gru, featureCount: 2, outputCount: 3, hiddenSize: 4, layerCount: 1,
                                         dropout: 0, highwayWindow: 5, generator: &generator)
        let keys = model.namedParameters().map(\.key)
        XCTAssertTrue(keys.contains("highway.weight") && keys.contains("highway.bias"), "\(keys)")
        let x = randomTensor([2, 5, 2], seed: 4)
        let withHighway = try model(x).scalars
        let series = x.scalars.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)  // x[:, :, 0], (2, 5)
        let w = try XCTUnwrap(model.highway).weight.value.scalars, b = try XCTUnwrap(model.highway?.bias).value.scalars
        var generator2 = RandomGenerator(seed: 1)
        let plain = try ForecastingModel(architecture: .gru, featureCount: 2, outputCount: 3, hiddenSize: 4, layerCount: 1,
                                         dropout: 0, generator: &generator2)
        let encoderOnly = try plain(x).scalars  // same draws: the highway's come after the head's
        for row in 0..<2 {
            for o in 0..<3 {
                let linear = (0..<5).map { w[o * 5 + $0] * series[row * 5 + $0] }.reduce(0, +) + b[o]
                XCTAssertEqual(withHighway[row * 3 + o], encoderOnly[row * 3 + o] + linear, accuracy: 1e-5)
            }
        }
        XCTAssertThrowsError(try model(randomTensor([2, 4, 2], seed: 5))) { error in
            XCTAssertTrue("\(error)".contains("expected windows (B, 5, 2), got [2, 4, 2]"), "\(error)")
        }
    }
}
