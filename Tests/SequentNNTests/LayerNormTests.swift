import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `LayerNorm.swift`.
final class LayerNormTests: XCTestCase {
    func testKeysAndInitialisation() {
        let layer = LayerNorm(featureCount: 6)
        XCTAssertEqual(layer.namedParameters().map(\.key), ["weight", "bias"])
        XCTAssertEqual(layer.weight!.value.scalars, [Float](repeating: 1, count: 6))
        XCTAssertEqual(layer.bias!.value.scalars, [Float](repeating: 0, count: 6))
        XCTAssertEqual(layer.epsilon, 1e-5)
        XCTAssertEqual(LayerNorm(shape: [2, 3]).weight!.shape, [2, 3])
        XCTAssertTrue(LayerNorm(featureCount: 6, elementwiseAffine: false).namedParameters().isEmpty)
        XCTAssertEqual(LayerNorm(featureCount: 6, bias: false).namedParameters().map(\.key), ["weight"])
    }

    func testOutputShapeAndTrainEvalAgree() {
        let layer = LayerNorm(featureCount: 8)
        let x = randomTensor([2, 3, 8], seed: 1)
        let training = layer(x)
        layer.setTraining(false)
        XCTAssertEqual(training.shape, [2, 3, 8])
        XCTAssertEqual(layer(x).scalars, training.scalars)
    }

    func testGradientCheckThroughTheLayer() {
        let layer = LayerNorm(featureCount: 5)
        try! layer.weight!.assign(randomTensor([5], lower: 0.5, upper: 1.5, seed: 2))
        try! layer.bias!.assign(randomTensor([5], seed: 3))
        checkGradient([randomTensor([3, 5], lower: -2, upper: 2, seed: 4), layer.weight!.value, layer.bias!.value], tolerance: 1e-2) { t in
            Tensor.layerNorm(t[0], normalizedShape: [5], weight: t[1], bias: t[2], epsilon: layer.epsilon)
        }
    }

    func testMatchesPyTorch() throws {
        let golden = try Fixtures.load("nn_layer_norm")
        // (prefix, normalized shape, elementwise affine), as in make_nn_fixtures.py.
        for (prefix, shape, affine) in [("", [8], true), ("multi_", [3, 4], true), ("noaffine_", [19], false), ("wide_", [40], true)] {
            let layer = LayerNorm(shape: shape, elementwiseAffine: affine)
            if affine {
                try layer.loadStateDictionary(["weight": golden[prefix + "weight"]!, "bias": golden[prefix + "bias"]!])
            }
            let x = golden[prefix + "x"]!.requiringGrad()
            let y = layer(x)
            assertClose(y, golden[prefix + "y"]!, "\(prefix)y")
            (y * golden[prefix + "dy"]!).sum().backward()
            assertClose(x.grad!, golden[prefix + "dx"]!, relative: 1e-4, absolute: 1e-5, "\(prefix)dx")
            if affine {
                assertClose(layer.weight!.grad!, golden[prefix + "dweight"]!, "\(prefix)dweight")
                assertClose(layer.bias!.grad!, golden[prefix + "dbias"]!, "\(prefix)dbias")
            }
        }
    }
}
