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

    func testRefusesWindowsOfTheWrongShape() throws {
        XCTAssertThrowsError(try model(.lstm)(Tensor(shape: [2, 4], scalars: Array(repeating: 0, count: 8)))) { error in
            XCTAssertTrue("\(error)".contains("expected windows (B, W, 3), got [2, 4]"), "\(error)")
        }
        var generator = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try ForecastingModel(architecture: .gru, featureCount: 0, outputCount: 1, hiddenSize: 4, layerCount: 1, dropout: 0, generator: &generator))
    }
}
