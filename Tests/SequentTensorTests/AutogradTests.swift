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

    /// An identity op that notes when its backward runs.
    private func logged(_ input: Tensor, _ name: String, into events: Events) -> Tensor {
        Tensor.recorded([input], operation: name, inputs: [input]) { gradients, _ in
            events.list.append(name)
            return [gradients[0]!]
        }[0]
    }

    private final class Events { var list: [String] = [] }

    /// The hook fires for a leaf right after the last node that feeds it, long before the
    /// leaf's own place in the walk (w2 comes first among the last product's inputs, so the
    /// depth-first order puts it after the whole chain), with the leaf's final gradient.
    func testGradientReadyFiresAsSoonAsALeafsLastFeederHasRun() {
        let w1 = Tensor([2, 3]).requiringGrad(), w2 = Tensor([5, 7]).requiringGrad()
        let events = Events()
        let early = logged(w1 * Tensor([1, 1]), "early", into: events)
        let middle = logged(early * early, "middle", into: events)
        let loss = (w2 * middle).sum()
        let names = [w1.gradientLeaf!: "w1", w2.gradientLeaf!: "w2"]
        var seen: [String: [Float]] = [:]
        loss.backward { leaf in
            let name = names[leaf]!
            events.list.append(name)
            seen[name] = (name == "w1" ? w1 : w2).grad?.scalars
        }
        XCTAssertEqual(events.list, ["w2", "middle", "early", "w1"])
        XCTAssertEqual(seen["w2"], [4, 9])    // middle = w1^2
        XCTAssertEqual(seen["w1"], [20, 42])  // 2 w1 w2
        XCTAssertEqual(w1.grad?.scalars, [20, 42])
        XCTAssertEqual(w2.grad?.scalars, [4, 9])
    }

    /// A leaf that feeds both ends of the tape is reported once, after its last use, with
    /// the sum of both paths; leaves that get no gradient and non-leaves are not reported.
    func testGradientReadyFiresOnceWithTheSumOfEveryPath() {
        let w = Tensor([3]).requiringGrad(), unused = Tensor([1]).requiringGrad()
        let events = Events()
        let inner = logged(w * Tensor([2]), "inner", into: events)
        let loss = (w * inner).sum() + (unused * 0).detached().sum()
        var calls: [GradientLeaf] = []
        loss.backward { leaf in
            calls.append(leaf)
            events.list.append("w")
        }
        XCTAssertEqual(calls, [w.gradientLeaf!])
        XCTAssertEqual(events.list, ["inner", "w"])
        XCTAssertEqual(w.grad?.scalars, [12])  // d(2 w^2)/dw
        XCTAssertNil(unused.grad)
        XCTAssertNil(inner.gradientLeaf)
    }
}
