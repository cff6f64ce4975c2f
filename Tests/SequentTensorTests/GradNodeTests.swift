@testable import SequentTensor
import XCTest

/// Tests of `Autograd/GradNode.swift`: the iterative topological order and releasing.
final class GradNodeTests: XCTestCase {
    private func node(_ name: String, _ inputs: [GradNode?]) -> GradNode {
        GradNode(operation: name, outputCount: 1, inputs: inputs.map { $0.map { GradNode.Edge(node: $0, output: 0) } }) { _, needs in
            needs.map { _ in nil }
        }
    }

    func testEveryNodeComesBeforeItsInputs() {
        let leafA = GradNode(), leafB = GradNode()
        let left = node("left", [leafA, leafB])
        let right = node("right", [leafB, nil])
        let root = node("root", [left, right, left])
        let order = root.topologicallySorted()
        XCTAssertEqual(order.count, 5)
        XCTAssertTrue(order.first === root)
        func position(_ n: GradNode) -> Int { order.firstIndex { $0 === n }! }
        XCTAssertLessThan(position(left), position(leafA))
        XCTAssertLessThan(position(left), position(leafB))
        XCTAssertLessThan(position(right), position(leafB))
    }

    func testDeepChainSortsIteratively() {
        var current = GradNode()
        for _ in 0..<50_000 { current = node("step", [current]) }
        XCTAssertEqual(current.topologicallySorted().count, 50_001)
    }

    func testReleaseDropsRuleAndInputs() {
        let leaf = GradNode()
        XCTAssertTrue(leaf.isLeaf)
        XCTAssertEqual(leaf.operation, "leaf")
        let interior = node("op", [leaf])
        XCTAssertFalse(interior.isLeaf)
        XCTAssertNotNil(interior.backward)
        interior.release()
        XCTAssertNil(interior.backward)
        XCTAssertTrue(interior.inputs.isEmpty)
    }
}
