@testable import SequentLab
import SequentNN
import SequentTensor
import XCTest

/// The LSTM's forget-gate biases after each initialisation (gate order i, f, g, o).
final class ForgetGateInitialisationTests: XCTestCase {
    private func lstm(_ initialisation: ForgetGateInitialisation) throws -> RecurrentLayer {
        var generator = RandomGenerator(seed: 4)
        let layer = try RecurrentLayer(cell: .lstm, inputSize: 3, hiddenSize: 8, layerCount: 2, batchFirst: true, generator: &generator)
        try initialisation.apply(to: layer, generator: &generator)
        return layer
    }

    /// b_ih + b_hh of every layer, 4H each.
    private func biases(_ layer: RecurrentLayer) -> [[Float]] {
        layer.layers.flatMap { $0 }.map { d in zip(d.inputBias!.value.scalars, d.recurrentBias!.value.scalars).map { $0 + $1 } }
    }

    func testUnitBiasSetsTheForgetGateToOne() throws {
        let pytorch = biases(try lstm(.pytorch)), unit = biases(try lstm(.unitBias))
        for (before, after) in zip(pytorch, unit) {
            XCTAssertEqual(Array(after[8..<16]), Array(repeating: 1, count: 8), "b_f = 1")
            XCTAssertEqual(Array(after[0..<8]), Array(before[0..<8]), "the input gate as PyTorch")
            XCTAssertEqual(Array(after[16..<32]), Array(before[16..<32]), "g and o as PyTorch")
        }
        XCTAssertTrue(pytorch.allSatisfy { b in b[8..<16].allSatisfy { abs($0) <= Float(2 / 8.0.squareRoot()) } }, "PyTorch's U(-1/sqrt(H), 1/sqrt(H)) twice")
    }

    func testChronoSpreadsTheForgetBiasUpToTheLongestLag() throws {
        for b in biases(try lstm(.chrono(maximumLag: 100))) {
            for j in 0..<8 {
                XCTAssertGreaterThanOrEqual(b[8 + j], 0)
                XCTAssertLessThanOrEqual(b[8 + j], Float(log(99.0)) + 1e-5, "log(U(1, T_max - 1))")
                XCTAssertEqual(b[j], -b[8 + j], "b_i = -b_f")
            }
        }
    }

    func testOtherCellsAreLeftAsTheyAre() throws {
        var generator = RandomGenerator(seed: 4)
        let gru = try RecurrentLayer(cell: .gru, inputSize: 3, hiddenSize: 8, batchFirst: true, generator: &generator)
        let before = gru.layers[0][0].inputBias!.value.scalars
        try ForgetGateInitialisation.unitBias.apply(to: gru, generator: &generator)
        XCTAssertEqual(gru.layers[0][0].inputBias!.value.scalars, before)
    }
}
