import Foundation
@testable import SequentTensor
import TestSupport
import XCTest

/// Tests of `Autograd/Tensor+Autograd.swift`: leaves, accumulation, detaching, gradient mode.
final class AutogradTests: XCTestCase {
    func testLeafGradientOfSimpleExpression() {
        let x = Tensor([1, 2, 3]).requiringGrad()
        (x * x * 3).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [6, 12, 18])
        XCTAssertEqual(x.grad?.shape, [3])
    }

    func testGradientsAccumulateOverTwoBackwardCalls() {
        let x = Tensor([1, -2]).requiringGrad()
        (x * 2).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [2, 2])
        // A fresh graph: its gradient is added to the one already held.
        (x * x).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [4, -2])
        // Clearing works through the non-mutating setter.
        x.grad = nil
        (x * 5).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [5, 5])
    }

    func testDetachedBlocksGradient() {
        let x = Tensor([1, 2]).requiringGrad()
        let y = x * x.detached()
        XCTAssertFalse(x.detached().requiresGrad)
        y.sum().backward()
        XCTAssertEqual(x.grad?.scalars, [1, 2])  // only the non-detached factor
        let constant = (x.detached() * 3)
        XCTAssertFalse(constant.requiresGrad)
    }

    func testWithoutGradientsRecordsNothing() {
        let x = Tensor([1, 2]).requiringGrad()
        XCTAssertTrue(GradientMode.isRecording)
        let y = withoutGradients { () -> Tensor in
            XCTAssertFalse(GradientMode.isRecording)
            return (x * 2).exp().sum()
        }
        XCTAssertTrue(GradientMode.isRecording)
        XCTAssertFalse(y.requiresGrad)
        XCTAssertEqual(Double(y.item), Foundation.exp(2.0) + Foundation.exp(4.0), accuracy: 1e-3)
        // Operations on tensors that need no gradient record nothing either.
        XCTAssertFalse((Tensor([1]) * Tensor([2])).requiresGrad)
    }

    func testTensorUsedTwiceGetsSummedGradient() {
        let x = Tensor([3]).requiringGrad()
        let y = x.exp() + x.sigmoid() + x
        y.sum().backward()
        let s = 1 / (1 + Foundation.exp(-3.0))
        XCTAssertEqual(Double(x.grad!.item), Foundation.exp(3.0) + s * (1 - s) + 1, accuracy: 1e-4)
        // A diamond: an interior node read by two branches.
        let a = Tensor([0.5, -1]).requiringGrad()
        let h = a.tanh()
        (h * h + h).sum().backward()
        let expected = a.scalars.map { v -> Float in let t = Foundation.tanh(v); return (2 * t + 1) * (1 - t * t) }
        assertClose(a.grad!, Tensor(expected), relative: 1e-5, absolute: 1e-6)
    }

    func testDeepChainDoesNotOverflowTheStack() {
        let x = Tensor([1, 2]).requiringGrad()
        var y = x
        for _ in 0..<20_000 { y = y + 1 }
        XCTAssertEqual(y.scalars, [20_001, 20_002])
        y.sum().backward()
        XCTAssertEqual(x.grad?.scalars, [1, 1])
    }

    func testDeepChainCanBeDroppedWithoutBackward() {
        // Regression: a long tape never back-propagated (an evaluation pass with parameters
        // that require gradients) was freed recursively, one stack frame chain per node.
        let x = Tensor([1]).requiringGrad()
        do {
            var y = x
            for _ in 0..<100_000 { y = y * 1 }
            XCTAssertTrue(y.requiresGrad)
        }
        XCTAssertNil(x.grad)
    }

    func testBackwardWithExplicitGradient() {
        let x = Tensor([[1, 2], [3, 4]]).requiringGrad()
        let y = x * 3
        y.backward(gradient: Tensor([[1, 0], [0, 2]]))
        XCTAssertEqual(x.grad?.scalars, [3, 0, 0, 6])
        // From a leaf itself: its gradient is the seed.
        let leaf = Tensor([1, 2]).requiringGrad()
        leaf.backward(gradient: Tensor([5, 6]))
        XCTAssertEqual(leaf.grad?.scalars, [5, 6])
        let scalar = Tensor(2).requiringGrad()
        scalar.backward()
        XCTAssertEqual(scalar.grad?.scalars, [1])
    }

    func testRequiresGradToggling() {
        var x = Tensor([1, 2])
        XCTAssertFalse(x.requiresGrad)
        x.requiresGrad = true
        XCTAssertTrue(x.requiresGrad)
        XCTAssertNil(x.grad)
        (x * 2).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [2, 2])
        // Setting true again keeps the same leaf and its gradient.
        x.requiresGrad = true
        XCTAssertEqual(x.grad?.scalars, [2, 2])
        x.requiresGrad = false
        XCTAssertFalse(x.requiresGrad)
        XCTAssertNil(x.grad)
        XCTAssertFalse((x * 2).requiresGrad)
        // requiringGrad() always starts a new leaf with no gradient.
        let fresh = Tensor([1]).requiringGrad()
        fresh.backward(gradient: Tensor([1]))
        XCTAssertNil(fresh.requiringGrad().grad)
    }

    func testCopiesOfALeafShareItsGradient() {
        let x = Tensor([1]).requiringGrad()
        let copy = x
        (copy * 4).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [4])
    }

    func testOnlyInputsThatNeedGradientsGetThem() {
        let a = Tensor([2]).requiringGrad(), b = Tensor([3])
        (a * b).sum().backward()
        XCTAssertEqual(a.grad?.scalars, [3])
        XCTAssertNil(b.grad)
    }
}
