@testable import SequentTensor
import TestSupport
import XCTest

/// The matrix product of two rank-2 tensors by the textbook loop, in Double.
private func naiveMatmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
    var out = [Float](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n {
        var sum = 0.0
        for p in 0..<k { sum += Double(a.scalars[i * k + p]) * Double(b.scalars[p * n + j]) }
        out[i * n + j] = Float(sum)
    } }
    return Tensor(shape: [m, n], scalars: out)
}

/// Tests of `Tensor+LinearAlgebra.swift`: matmul with batch broadcasting, and linear.
final class TensorLinearAlgebraTests: XCTestCase {
    // MARK: Forward values

    func testMatmul2D() {
        let a = Tensor([[1, 2, 3], [4, 5, 6]]), b = Tensor([[7, 8], [9, 10], [11, 12]])
        let c = Tensor.matmul(a, b)
        XCTAssertEqual(c.shape, [2, 2])
        XCTAssertEqual(c.scalars, [58, 64, 139, 154])
        let odd = (randomTensor([7, 13], seed: 1), randomTensor([13, 5], seed: 2))
        assertClose(Tensor.matmul(odd.0, odd.1), naiveMatmul(odd.0, odd.1), relative: 1e-5, absolute: 1e-5)
    }

    func testMatmulBatchedAndBroadcastBatches() {
        let a = randomTensor([2, 3, 4, 5], seed: 3), b = randomTensor([3, 5, 6], seed: 4)
        let c = Tensor.matmul(a, b)
        XCTAssertEqual(c.shape, [2, 3, 4, 6])
        for i in 0..<2 { for j in 0..<3 {
            let slice = c.select(alongAxis: 0, index: i).select(alongAxis: 0, index: j)
            let expected = naiveMatmul(a.select(alongAxis: 0, index: i).select(alongAxis: 0, index: j), b.select(alongAxis: 0, index: j))
            assertClose(slice, expected, relative: 1e-5, absolute: 1e-5)
        } }
        // Batch of 1 against a batch of 3, and a 2-D left operand against a batch.
        let left = randomTensor([1, 2, 4], seed: 5), right = randomTensor([3, 4, 2], seed: 6)
        XCTAssertEqual(Tensor.matmul(left, right).shape, [3, 2, 2])
        let shared = randomTensor([2, 4], seed: 7)
        let broadcastLeft = Tensor.matmul(shared, right)
        XCTAssertEqual(broadcastLeft.shape, [3, 2, 2])
        assertClose(broadcastLeft.select(alongAxis: 0, index: 2), naiveMatmul(shared, right.select(alongAxis: 0, index: 2)), relative: 1e-5, absolute: 1e-5)
    }

    func testMatmulWithSharedRightOperand() {
        let a = randomTensor([3, 4, 5], seed: 8), w = randomTensor([5, 2], seed: 9)
        let c = Tensor.matmul(a, w)
        XCTAssertEqual(c.shape, [3, 4, 2])
        assertClose(c.select(alongAxis: 0, index: 1), naiveMatmul(a.select(alongAxis: 0, index: 1), w), relative: 1e-5, absolute: 1e-5)
    }

    func testMatrixProductTransposedOperands() {
        let a = randomTensor([2, 5, 3], seed: 10), b = randomTensor([2, 4, 5], seed: 11)
        let viaFlags = Tensor.matrixProduct(a, b, transposeA: true, transposeB: true)
        let viaCopies = Tensor.matmul(a.transposed(), b.transposed())
        assertClose(viaFlags, viaCopies, relative: 1e-5, absolute: 1e-6)
        let w = randomTensor([6, 3], seed: 12)
        assertClose(Tensor.matrixProduct(a, w, transposeB: true), Tensor.matmul(a, w.transposed()), relative: 1e-5, absolute: 1e-6)
    }

    func testMatmulWithEmptyInnerDimensionIsZero() {
        let c = Tensor.matmul(Tensor.zeros([3, 0]), Tensor.zeros([0, 2]))
        XCTAssertEqual(c.shape, [3, 2])
        XCTAssertEqual(c.scalars, [0, 0, 0, 0, 0, 0])
        let batched = Tensor.matmul(Tensor.zeros([2, 3, 0]), Tensor.zeros([2, 0, 2]))
        XCTAssertEqual(batched.scalars, [Float](repeating: 0, count: 12))
    }

    func testLinearMatchesMatmulPlusBias() {
        let x = randomTensor([2, 3, 4], seed: 13), w = randomTensor([5, 4], seed: 14), bias = randomTensor([5], seed: 15)
        let y = Tensor.linear(x, weight: w, bias: bias)
        XCTAssertEqual(y.shape, [2, 3, 5])
        assertClose(y, Tensor.matmul(x, w.transposed()) + bias, relative: 1e-5, absolute: 1e-6)
        assertClose(Tensor.linear(x, weight: w, bias: nil), Tensor.matmul(x, w.transposed()), relative: 1e-5, absolute: 1e-6)
        let vector = Tensor.linear(Tensor([1, 2]), weight: Tensor([[1, 0], [0, 1], [1, 1]]), bias: Tensor([0, 10, 100]))
        XCTAssertEqual(vector.shape, [3])
        XCTAssertEqual(vector.scalars, [1, 12, 103])
    }

    func testLinearRowsSplitBetweenThreads() {
        // 150 rows on 2 threads: each thread multiplies and adds the bias to its own rows.
        let x = randomTensor([150, 7], seed: 16), w = randomTensor([5, 7], seed: 17), bias = randomTensor([5], seed: 18)
        let y = Parallelism.withThreads(2) { Tensor.linear(x, weight: w, bias: bias) }
        assertClose(y, naiveMatmul(x, w.transposed()) + bias, relative: 1e-5, absolute: 1e-6)
    }

    func testFeedForwardWithoutGradientsMatchesComposedLayers() {
        let w1 = randomTensor([9, 6], seed: 20), b1 = randomTensor([9], seed: 21)
        let w2 = randomTensor([4, 9], seed: 22), b2 = randomTensor([4], seed: 23)
        // 3 rows run on one thread, 2 x 75 rows in a block per thread.
        for shape in [[3, 6], [2, 75, 6]] {
            let x = randomTensor(shape, seed: 24)
            for activation in Activation.allCases {
                for (bias1, bias2) in [(b1, b2), (nil, nil)] as [(Tensor?, Tensor?)] {
                    let fused = Parallelism.withThreads(2) {
                        withoutGradients {
                            Tensor.feedForward(x, weight1: w1, bias1: bias1, activation: activation, weight2: w2, bias2: bias2)
                        }
                    }
                    let composed = Tensor.linear(activation(Tensor.linear(x, weight: w1, bias: bias1)), weight: w2, bias: bias2)
                    XCTAssertEqual(fused.shape, Array(shape.dropLast()) + [4])
                    assertClose(fused, composed, relative: 1e-5, absolute: 1e-6, "\(activation) \(shape) bias \(bias1 != nil)")
                }
            }
        }
    }

    func testLinearWithNoInputFeaturesGivesBias() {
        // Regression: rows were counted as x.count / In, which is 0 when In is 0, and the
        // output was left uninitialized instead of holding the bias (or zeros).
        let x = Tensor.zeros([3, 0]), w = Tensor.zeros([2, 0])
        XCTAssertEqual(Tensor.linear(x, weight: w, bias: Tensor([4, 5])).scalars, [4, 5, 4, 5, 4, 5])
        XCTAssertEqual(Tensor.linear(x, weight: w, bias: nil).scalars, [0, 0, 0, 0, 0, 0])
    }

    // MARK: Gradients

    func testMatmulGradients() {
        checkGradient([randomTensor([3, 4], seed: 1), randomTensor([4, 5], seed: 2)]) { Tensor.matmul($0[0], $0[1]) }
        checkGradient([randomTensor([2, 3, 4], seed: 3), randomTensor([2, 4, 2], seed: 4)]) { Tensor.matmul($0[0], $0[1]) }
        // Broadcast batches in both directions.
        checkGradient([randomTensor([2, 1, 3, 4], seed: 5), randomTensor([3, 4, 2], seed: 6)]) { Tensor.matmul($0[0], $0[1]) }
        checkGradient([randomTensor([3, 4], seed: 7), randomTensor([2, 4, 3], seed: 8)]) { Tensor.matmul($0[0], $0[1]) }
        checkGradient([randomTensor([1, 3, 4], seed: 9), randomTensor([2, 4, 3], seed: 10)]) { Tensor.matmul($0[0], $0[1]) }
        // A batch times one shared 2-D matrix (the stacked-rows fast path).
        checkGradient([randomTensor([2, 3, 4], seed: 11), randomTensor([4, 5], seed: 12)]) { Tensor.matmul($0[0], $0[1]) }
        // Only one side needs a gradient.
        let constant = randomTensor([4, 2], seed: 13)
        checkGradient([randomTensor([3, 4], seed: 14)]) { Tensor.matmul($0[0], constant) }
        checkGradient([randomTensor([2, 3], seed: 15)]) { Tensor.matmul(constant, $0[0]) }
    }

    func testLinearGradients() {
        let w = randomTensor([3, 4], seed: 2), bias = randomTensor([3], seed: 3)
        checkGradient([randomTensor([5, 4], seed: 1), w, bias]) { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
        checkGradient([randomTensor([5, 4], seed: 4), w]) { Tensor.linear($0[0], weight: $0[1], bias: nil) }
        checkGradient([randomTensor([2, 3, 4], seed: 5), w, bias]) { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
        checkGradient([randomTensor([4], seed: 6), w, bias]) { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
        // Constant weight: only the input and bias need gradients.
        checkGradient([randomTensor([2, 4], seed: 7), bias]) { Tensor.linear($0[0], weight: w, bias: $0[1]) }
    }

    func testFeedForwardGradients() {
        // Recording gradients, feedForward is the composition of its layers. (GELU only: central
        // differences at epsilon 1e-2 straddle ReLU's kink; relu() has a check of its own.)
        for activation in [Activation.gelu] {
            checkGradient([randomTensor([2, 3, 4], seed: 8), randomTensor([6, 4], seed: 9), randomTensor([6], seed: 10),
                           randomTensor([3, 6], seed: 11), randomTensor([3], seed: 12)]) {
                Tensor.feedForward($0[0], weight1: $0[1], bias1: $0[2], activation: activation, weight2: $0[3], bias2: $0[4])
            }
        }
    }
}
