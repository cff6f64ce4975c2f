import SequentTensor
import TestSupport
import XCTest

/// Layer normalization composed from primitive operations: an independent reference for
/// the fused operation's forward pass and gradients.
private func composedLayerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, epsilon: Float) -> Tensor {
    let mean = x.mean(alongAxis: -1, keepingDimensions: true)
    let centered = x - mean
    let variance = (centered * centered).mean(alongAxis: -1, keepingDimensions: true)
    var y = centered / (variance + epsilon).sqrt()
    if let weight { y = y * weight }
    if let bias { y = y + bias }
    return y
}

/// Tests of `Tensor+Normalization.swift`: the fused layer normalization.
final class TensorNormalizationTests: XCTestCase {
    func testForwardMatchesNaiveReference() {
        // Row lengths below, at and past the 16- and 32-lane loops; rows past one block of 64.
        for (rows, c) in [(7, 37), (5, 256), (130, 16), (3, 1), (2, 33)] {
            let x = randomTensor([rows, c], lower: -3, upper: 5, seed: UInt64(c))
            let weight = randomTensor([c], lower: 0.5, upper: 1.5, seed: 2)
            let bias = randomTensor([c], seed: 3)
            for (w, b) in [(weight, bias), (nil, nil), (weight, nil), (nil, bias)] as [(Tensor?, Tensor?)] {
                let fused = Tensor.layerNorm(x, normalizedShape: [c], weight: w, bias: b, epsilon: 1e-5)
                let reference = Tensor.layerNormNaive(x, normalizedShape: [c], weight: w, bias: b, epsilon: 1e-5)
                assertClose(fused, reference, relative: 1e-4, absolute: 1e-5, "rows \(rows), C \(c)")
            }
        }
    }

    func testNormalizedRowsHaveZeroMeanAndUnitVariance() {
        let x = randomTensor([4, 64], lower: 10, upper: 20, seed: 4)
        let y = Tensor.layerNorm(x, normalizedShape: [64], epsilon: 0)
        assertClose(y.mean(alongAxis: 1), Tensor.zeros([4]), relative: 0, absolute: 1e-5)
        assertClose((y * y).mean(alongAxis: 1), Tensor.ones([4]), relative: 0, absolute: 1e-4)
    }

    func testGradientCheckWithAffine() {
        let x = randomTensor([3, 5], lower: -2, upper: 2, seed: 5)
        let weight = randomTensor([5], lower: 0.5, upper: 1.5, seed: 6)
        let bias = randomTensor([5], seed: 7)
        checkGradient([x, weight, bias], epsilon: 1e-2, tolerance: 1e-2) { t in
            Tensor.layerNorm(t[0], normalizedShape: [5], weight: t[1], bias: t[2])
        }
    }

    func testGradientCheckWithoutAffineAndWithWeightOnly() {
        let x = randomTensor([2, 3, 4], lower: -2, upper: 2, seed: 8)
        checkGradient([x], tolerance: 1e-2) { t in Tensor.layerNorm(t[0], normalizedShape: [3, 4]) }
        let weight = randomTensor([4], lower: 0.5, upper: 1.5, seed: 9)
        checkGradient([x, weight], tolerance: 1e-2) { t in Tensor.layerNorm(t[0], normalizedShape: [4], weight: t[1]) }
        let bias = randomTensor([4], seed: 10)
        checkGradient([x, bias], tolerance: 1e-2) { t in Tensor.layerNorm(t[0], normalizedShape: [4], bias: t[1]) }
    }

    func testGradientsMatchComposedPrimitivesOnLargeInput() {
        // 150 rows: three blocks of 50 rows for the weight and bias gradients.
        let x = randomTensor([150, 33], lower: -3, upper: 3, seed: 11)
        let weight = randomTensor([33], lower: 0.5, upper: 1.5, seed: 12)
        let bias = randomTensor([33], seed: 13)
        let dy = randomTensor([150, 33], seed: 14)
        func gradients(_ f: (Tensor, Tensor, Tensor) -> Tensor) -> [Tensor] {
            let leaves = [x, weight, bias].map { $0.requiringGrad() }
            (f(leaves[0], leaves[1], leaves[2]) * dy).sum().backward()
            return leaves.map { $0.grad! }
        }
        let fused = gradients { Tensor.layerNorm($0, normalizedShape: [33], weight: $1, bias: $2) }
        let composed = gradients { composedLayerNorm($0, weight: $1, bias: $2, epsilon: 1e-5) }
        for (index, (a, e)) in zip(fused, composed).enumerated() {
            assertClose(a, e, relative: 1e-3, absolute: 1e-4, "input \(index)")
        }
    }

    func testManyRowsUseAtMostMaximumBlocks() {
        // 10_000 rows: 64 blocks of about 156 rows; compare with the composed primitives.
        let x = randomTensor([10_000, 3], seed: 16).requiringGrad()
        let weight = Tensor.ones([3]).requiringGrad()
        let dy = randomTensor([10_000, 3], seed: 17)
        (Tensor.layerNorm(x, normalizedShape: [3], weight: weight) * dy).sum().backward()
        let fusedWeightGradient = weight.grad!
        weight.grad = nil
        (composedLayerNorm(x, weight: weight, bias: nil, epsilon: 1e-5) * dy).sum().backward()
        assertClose(fusedWeightGradient, weight.grad!, relative: 1e-3, absolute: 1e-3)
    }

    func testGradientsDoNotDependOnThreadCount() {
        let x = randomTensor([1000, 64], seed: 15).requiringGrad()
        let weight = Tensor.ones([64]).requiringGrad()
        func weightGradient() -> [Float] {
            weight.grad = nil
            Tensor.layerNorm(x, normalizedShape: [64], weight: weight).sum().backward()
            return weight.grad!.scalars
        }
        let oneThread = Parallelism.withThreads(1) { weightGradient() }
        XCTAssertEqual(oneThread, Parallelism.withThreads(2) { weightGradient() })
    }

    func testConstantRowGivesZerosNotNaN() {
        let y = Tensor.layerNorm(Tensor.full([2, 8], value: 3), normalizedShape: [8])
        XCTAssertEqual(y.scalars, [Float](repeating: 0, count: 16))
    }
}
