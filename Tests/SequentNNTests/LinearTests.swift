import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Linear.swift`.
final class LinearTests: XCTestCase {
    func testShapesAndStateDictionaryKeys() {
        var generator = RandomGenerator(seed: 1)
        let layer = Linear(inputSize: 5, outputSize: 3, generator: &generator)
        XCTAssertEqual(layer.namedParameters().map(\.key), ["weight", "bias"])
        XCTAssertEqual(layer.weight.shape, [3, 5])
        XCTAssertEqual(layer.bias?.shape, [3])
        XCTAssertEqual(layer(Tensor.zeros([2, 4, 5])).shape, [2, 4, 3])
        XCTAssertEqual(layer(Tensor.zeros([5])).shape, [3])
        let noBias = Linear(inputSize: 5, outputSize: 3, bias: false, generator: &generator)
        XCTAssertEqual(Array(noBias.stateDictionary().keys), ["weight"])
        XCTAssertNil(noBias.bias)
    }

    func testInitialisationIsPyTorchsUniformRange() {
        var generator = RandomGenerator(seed: 2)
        let layer = Linear(inputSize: 64, outputSize: 200, generator: &generator)
        let bound: Float = 1 / 8
        for tensor in [layer.weight.value, layer.bias!.value] {
            XCTAssertTrue(tensor.scalars.allSatisfy { $0 >= -bound && $0 <= bound })
            // Spread over the whole range, not a smaller one.
            XCTAssertGreaterThan(tensor.scalars.max()!, 0.9 * bound)
            XCTAssertLessThan(tensor.scalars.min()!, -0.9 * bound)
        }
        XCTAssertEqual(Double(layer.weight.value.mean().item), 0, accuracy: 0.01)
    }

    func testSameSeedGivesTheSameLayer() {
        var a = RandomGenerator(seed: 3), b = RandomGenerator(seed: 3)
        let first = Linear(inputSize: 4, outputSize: 2, generator: &a)
        let second = Linear(inputSize: 4, outputSize: 2, generator: &b)
        XCTAssertEqual(first.weight.value.scalars, second.weight.value.scalars)
        XCTAssertEqual(first.bias!.value.scalars, second.bias!.value.scalars)
    }

    func testGradientCheck() {
        var generator = RandomGenerator(seed: 4)
        let layer = Linear(inputSize: 3, outputSize: 2, generator: &generator)
        checkGradient([randomTensor([4, 3], seed: 5), layer.weight.value, layer.bias!.value]) { t in
            Tensor.linear(t[0], weight: t[1], bias: t[2])
        }
    }

    func testMatchesPyTorch() throws {
        let golden = try Fixtures.load("nn_linear")
        var generator = RandomGenerator(seed: 0)
        for (prefix, hasBias) in [("", true), ("nobias_", false)] {
            let layer = Linear(inputSize: 5, outputSize: 4, bias: hasBias, generator: &generator)
            var state = ["weight": golden[prefix + "weight"]!]
            if hasBias { state["bias"] = golden["bias"]! }
            try layer.loadStateDictionary(state)
            let x = golden[prefix + "x"]!.requiringGrad()
            let y = layer(x)
            assertClose(y, golden[prefix + "y"]!, "\(prefix)y")
            (y * golden[prefix + "dy"]!).sum().backward()
            assertClose(x.grad!, golden[prefix + "dx"]!, "\(prefix)dx")
            assertClose(layer.weight.grad!, golden[prefix + "dweight"]!, "\(prefix)dweight")
            if hasBias { assertClose(layer.bias!.grad!, golden["dbias"]!, "dbias") }
        }
    }
}
