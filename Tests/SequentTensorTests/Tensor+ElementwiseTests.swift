import Foundation
import SequentTensor
import TestSupport
import XCTest

/// A seeded tensor whose scalars all lie at least `margin` away from zero (for kinks at 0).
private func awayFromZero(_ shape: [Int], margin: Float = 0.2, seed: UInt64) -> Tensor {
    let t = randomTensor(shape, seed: seed)
    return Tensor(shape: shape, scalars: t.scalars.map { $0 < 0 ? $0 - margin : $0 + margin })
}

/// Applies `f` to every scalar in Double and rounds back: the reference for unary math.
private func reference(_ x: Tensor, _ f: (Double) -> Double) -> Tensor {
    Tensor(shape: x.shape, scalars: x.scalars.map { Float(f(Double($0))) })
}

/// Tests of `Tensor+Elementwise.swift`: arithmetic with broadcasting, unary math, comparisons.
final class TensorElementwiseTests: XCTestCase {
    // MARK: Forward values

    func testArithmeticSameShape() {
        let a = Tensor([[1, 2], [3, 4]]), b = Tensor([[10, 20], [30, 40]])
        XCTAssertEqual((a + b).scalars, [11, 22, 33, 44])
        XCTAssertEqual((b - a).scalars, [9, 18, 27, 36])
        XCTAssertEqual((a * b).scalars, [10, 40, 90, 160])
        XCTAssertEqual((b / a).scalars, [10, 10, 10, 10])
    }

    func testArithmeticBroadcastsRowAndColumn() {
        let matrix = Tensor([[1, 2, 3], [4, 5, 6]])
        let row = Tensor([10, 20, 30])
        let column = Tensor([[100], [200]])
        XCTAssertEqual((matrix + row).scalars, [11, 22, 33, 14, 25, 36])
        XCTAssertEqual((row + matrix).scalars, [11, 22, 33, 14, 25, 36])
        XCTAssertEqual((matrix + column).scalars, [101, 102, 103, 204, 205, 206])
        XCTAssertEqual((column - matrix).scalars, [99, 98, 97, 196, 195, 194])
        // (2,1) with (3): an outer sum of shape (2,3).
        let outer = column + row
        XCTAssertEqual(outer.shape, [2, 3])
        XCTAssertEqual(outer.scalars, [110, 120, 130, 210, 220, 230])
    }

    func testBroadcastOverMiddleAndLeadingAxes() {
        // (2,1,3) * (4,1): every combination, shape (2,4,3).
        let a = Tensor(shape: [2, 1, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [4, 1], scalars: [1, 10, 100, 1000])
        let product = a * b
        XCTAssertEqual(product.shape, [2, 4, 3])
        var expected: [Float] = []
        for i in 0..<2 { for j in 0..<4 { for k in 0..<3 { expected.append(a.scalars[i * 3 + k] * b.scalars[j]) } } }
        XCTAssertEqual(product.scalars, expected)
    }

    func testScalarOperands() {
        let x = Tensor([1, 2, 4])
        XCTAssertEqual((x + 1).scalars, [2, 3, 5])
        XCTAssertEqual((1 + x).scalars, [2, 3, 5])
        XCTAssertEqual((x - 1).scalars, [0, 1, 3])
        XCTAssertEqual((1 - x).scalars, [0, -1, -3])
        XCTAssertEqual((x * 2).scalars, [2, 4, 8])
        XCTAssertEqual((2 * x).scalars, [2, 4, 8])
        XCTAssertEqual((x / 2).scalars, [0.5, 1, 2])
        XCTAssertEqual((4 / x).scalars, [4, 2, 1])
        let rank0 = Tensor(3) * Tensor(4)
        XCTAssertEqual(rank0.shape, [])
        XCTAssertEqual(rank0.item, 12)
        XCTAssertEqual((Tensor(2) + x).shape, [3])
    }

    func testCompoundAssignment() {
        var x = Tensor([1, 2])
        x += Tensor([10, 10])
        XCTAssertEqual(x.scalars, [11, 12])
        x -= Tensor([1, 1])
        XCTAssertEqual(x.scalars, [10, 11])
        x *= Tensor(2)
        XCTAssertEqual(x.scalars, [20, 22])
    }

    func testEmptyTensorsCombine() {
        let empty = Tensor.zeros([0, 3])
        XCTAssertEqual((empty + empty).shape, [0, 3])
        XCTAssertEqual((empty + Tensor([1, 2, 3])).shape, [0, 3])
        XCTAssertEqual(empty.exp().shape, [0, 3])
    }

    func testMaximumAndMinimum() {
        let a = Tensor([1, 5, 3, -2]), b = Tensor([2, 4, 3, -1])
        XCTAssertEqual(Tensor.maximum(a, b).scalars, [2, 5, 3, -1])
        XCTAssertEqual(Tensor.minimum(a, b).scalars, [1, 4, 3, -2])
        XCTAssertEqual(Tensor.maximum(a, Tensor(0)).scalars, [1, 5, 3, 0])
    }

    func testTiesSendGradientToFirstOperand() {
        let a = Tensor([1, 2]).requiringGrad(), b = Tensor([1, 3]).requiringGrad()
        Tensor.maximum(a, b).sum().backward()
        XCTAssertEqual(a.grad?.scalars, [1, 0])
        XCTAssertEqual(b.grad?.scalars, [0, 1])
        let c = Tensor([1, 2]).requiringGrad(), d = Tensor([1, 3]).requiringGrad()
        Tensor.minimum(c, d).sum().backward()
        XCTAssertEqual(c.grad?.scalars, [1, 1])
        XCTAssertEqual(d.grad?.scalars, [0, 0])
    }

    func testUnaryMathAgainstFoundation() {
        let x = Tensor.arange(-6, 6, step: 0.173)
        assertClose(-x, reference(x) { -$0 }, relative: 0, absolute: 0)
        assertClose(x.exp(), reference(x, Foundation.exp), relative: 1e-6, absolute: 1e-30)
        assertClose(x.tanh(), reference(x, Foundation.tanh), relative: 1e-6, absolute: 1e-7)
        assertClose(x.sigmoid(), reference(x) { 1 / (1 + Foundation.exp(-$0)) }, relative: 1e-6, absolute: 1e-7)
        assertClose(x.abs(), reference(x) { Swift.abs($0) }, relative: 0, absolute: 0)
        assertClose(x.relu(), reference(x) { Swift.max($0, 0) }, relative: 0, absolute: 0)
        assertClose(x.gelu(), reference(x) { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) }, relative: 1e-6, absolute: 1e-7)
        assertClose(x.clamped(min: -1, max: 2), reference(x) { Swift.min(Swift.max($0, -1), 2) }, relative: 0, absolute: 0)
        let positive = Tensor.arange(0.05, 20, step: 0.37)
        assertClose(positive.log(), reference(positive, Foundation.log), relative: 1e-6, absolute: 1e-7)
        assertClose(positive.sqrt(), reference(positive) { $0.squareRoot() }, relative: 1e-6, absolute: 0)
        assertClose(positive.pow(2), reference(positive) { $0 * $0 }, relative: 1e-6, absolute: 0)
        assertClose(positive.pow(3), reference(positive) { $0 * $0 * $0 }, relative: 1e-6, absolute: 0)
        assertClose(positive.pow(0.5), reference(positive) { $0.squareRoot() }, relative: 1e-6, absolute: 0)
        assertClose(positive.pow(1), positive, relative: 0, absolute: 0)
    }

    func testUnaryMathSpecialValues() {
        let x = Tensor([0, -0.0, .infinity, -.infinity, .nan])
        XCTAssertEqual(x.exp().scalars[0...3], [1, 1, .infinity, 0])
        XCTAssertTrue(x.exp().scalars[4].isNaN)
        XCTAssertEqual(x.tanh().scalars[0...3], [0, 0, 1, -1])
        XCTAssertTrue(x.tanh().scalars[4].isNaN)
        XCTAssertEqual(x.sigmoid().scalars[0...3], [0.5, 0.5, 1, 0])
        XCTAssertTrue(x.sigmoid().scalars[4].isNaN)
        XCTAssertEqual(x.relu().scalars[0...3], [0, 0, .infinity, 0])
        XCTAssertEqual(Tensor([-3, 3]).abs().scalars, [3, 3])
        XCTAssertEqual(Tensor([0]).log().scalars, [-.infinity])
    }

    func testComparisons() {
        let a = Tensor([1, 2, 3]), b = Tensor([2, 2, 2])
        XCTAssertEqual((a .== b).scalars, [0, 1, 0])
        XCTAssertEqual((a .!= b).scalars, [1, 0, 1])
        XCTAssertEqual((a .< b).scalars, [1, 0, 0])
        XCTAssertEqual((a .<= b).scalars, [1, 1, 0])
        XCTAssertEqual((a .> b).scalars, [0, 0, 1])
        XCTAssertEqual((a .>= b).scalars, [0, 1, 1])
        // Broadcasting, and comparisons never record on the tape.
        let column = Tensor([[1], [3]]).requiringGrad()
        let mask = column .> Tensor([0, 2])
        XCTAssertEqual(mask.shape, [2, 2])
        XCTAssertEqual(mask.scalars, [1, 0, 1, 1])
        XCTAssertFalse(mask.requiresGrad)
    }

    func testHasNonFinite() {
        XCTAssertFalse(Tensor([1, 2]).hasNonFinite)
        XCTAssertTrue(Tensor([1, .nan]).hasNonFinite)
        XCTAssertTrue(Tensor([-.infinity]).hasNonFinite)
    }

    // MARK: Gradients of binary operations

    func testAddGradientBroadcastingBothWays() {
        checkGradient([randomTensor([2, 3], seed: 1), randomTensor([3], seed: 2)]) { $0[0] + $0[1] }
        checkGradient([randomTensor([3], seed: 3), randomTensor([2, 3], seed: 4)]) { $0[0] + $0[1] }
        checkGradient([randomTensor([2, 1, 4], seed: 5), randomTensor([3, 1], seed: 6)]) { $0[0] + $0[1] }
        checkGradient([randomTensor([2, 3], seed: 7), randomTensor([], seed: 8)]) { $0[0] + $0[1] }
        checkGradient([randomTensor([], seed: 9), randomTensor([], seed: 10)]) { $0[0] + $0[1] }
    }

    func testSubtractGradientBroadcastingBothWays() {
        checkGradient([randomTensor([2, 3], seed: 1), randomTensor([2, 1], seed: 2)]) { $0[0] - $0[1] }
        checkGradient([randomTensor([1, 3], seed: 3), randomTensor([4, 2, 3], seed: 4)]) { $0[0] - $0[1] }
        checkGradient([randomTensor([], seed: 5), randomTensor([3], seed: 6)]) { $0[0] - $0[1] }
    }

    func testMultiplyGradientBroadcastingBothWays() {
        checkGradient([randomTensor([2, 3], seed: 1), randomTensor([3], seed: 2)]) { $0[0] * $0[1] }
        checkGradient([randomTensor([4, 1], seed: 3), randomTensor([2, 1, 5], seed: 4)]) { $0[0] * $0[1] }
        checkGradient([randomTensor([], seed: 5), randomTensor([2, 2], seed: 6)]) { $0[0] * $0[1] }
        checkGradient([randomTensor([], seed: 7), randomTensor([], seed: 8)]) { $0[0] * $0[1] }
        // The same tensor on both sides: d(x*x)/dx = 2x.
        checkGradient([randomTensor([5], seed: 9)]) { $0[0] * $0[0] }
    }

    func testDivideGradientBroadcastingBothWays() {
        let denominator = randomTensor([3], lower: 0.5, upper: 2, seed: 2)
        checkGradient([randomTensor([2, 3], seed: 1), denominator]) { $0[0] / $0[1] }
        checkGradient([randomTensor([3], seed: 3), randomTensor([2, 3], lower: 0.5, upper: 2, seed: 4)]) { $0[0] / $0[1] }
        checkGradient([randomTensor([], seed: 5), randomTensor([2, 1], lower: -2, upper: -0.5, seed: 6)]) { $0[0] / $0[1] }
    }

    func testScalarOperandGradients() {
        checkGradient([randomTensor([3, 2], seed: 1)]) { 2 + $0[0] * 3 - 1 }
        checkGradient([randomTensor([3, 2], lower: 0.5, upper: 2, seed: 2)]) { 1 / $0[0] + $0[0] / 4 - (5 - $0[0]) }
    }

    func testMaximumMinimumGradients() {
        // a and b differ by at least 0.2 everywhere, so no tie is crossed by the step.
        let a = randomTensor([3, 4], seed: 1)
        let b = Tensor(shape: [3, 4], scalars: a.scalars.enumerated().map { $0.offset % 2 == 0 ? $0.element + 0.3 : $0.element - 0.3 })
        checkGradient([a, b]) { Tensor.maximum($0[0], $0[1]) }
        checkGradient([a, b]) { Tensor.minimum($0[0], $0[1]) }
        // Broadcast against a scalar threshold far from every value.
        checkGradient([awayFromZero([2, 5], seed: 3), Tensor(0)]) { Tensor.maximum($0[0], $0[1]) }
        checkGradient([awayFromZero([2, 5], seed: 4), Tensor(0)]) { Tensor.minimum($0[0], $0[1]) }
    }

    // MARK: Gradients of unary operations

    func testUnaryGradients() {
        let x = randomTensor([3, 5], lower: -2, upper: 2, seed: 11)
        let positive = randomTensor([3, 5], lower: 0.5, upper: 2, seed: 12)
        checkGradient([x]) { -$0[0] }
        checkGradient([x]) { $0[0].exp() }
        checkGradient([positive]) { $0[0].log() }
        checkGradient([positive]) { $0[0].sqrt() }
        checkGradient([x]) { $0[0].pow(2) }
        checkGradient([x]) { $0[0].pow(3) }
        checkGradient([positive]) { $0[0].pow(0.5) }
        checkGradient([x]) { $0[0].pow(1) }
        checkGradient([x]) { $0[0].tanh() }
        checkGradient([x]) { $0[0].sigmoid() }
        checkGradient([x]) { $0[0].gelu() }
    }

    func testKinkedUnaryGradientsAwayFromKinks() {
        let x = awayFromZero([4, 5], seed: 13)
        checkGradient([x]) { $0[0].abs() }
        checkGradient([x]) { $0[0].relu() }
        // Values near the clamp bounds +-0.5 moved away from them.
        let y = Tensor(shape: [4, 5], scalars: x.scalars.map { Swift.abs(Swift.abs($0) - 0.5) < 0.05 ? $0 * 1.3 : $0 })
        checkGradient([y]) { $0[0].clamped(min: -0.5, max: 0.5) }
    }

    func testKinkGradientConventions() {
        let x = Tensor([-1, 0, 2]).requiringGrad()
        x.abs().sum().backward()
        XCTAssertEqual(x.grad?.scalars, [-1, 0, 1])
        let y = Tensor([-1, 0, 2]).requiringGrad()
        y.relu().sum().backward()
        XCTAssertEqual(y.grad?.scalars, [0, 0, 1])
        let z = Tensor([-2, -1, 0, 1, 2]).requiringGrad()
        z.clamped(min: -1, max: 1).sum().backward()
        XCTAssertEqual(z.grad?.scalars, [0, 1, 1, 1, 0])
    }

    func testGradientsThroughLongRowsWithTails() {
        // 37 = 2 * 16 + 5 lanes: the zero-padded tail of the SIMD loops.
        checkGradient([randomTensor([2, 37], seed: 14)]) { $0[0].tanh() * $0[0].sigmoid() }
    }
}
