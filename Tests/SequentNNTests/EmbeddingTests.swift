import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Embedding.swift`.
final class EmbeddingTests: XCTestCase {
    func testShapesKeysAndLookup() throws {
        var generator = RandomGenerator(seed: 1)
        let layer = Embedding(vocabularySize: 10, embeddingSize: 3, generator: &generator)
        XCTAssertEqual(layer.namedParameters().map(\.key), ["weight"])
        XCTAssertEqual(layer.weight.shape, [10, 3])
        let y = try layer([4, 0, 9, 4, 1, 2], shape: [2, 3])
        XCTAssertEqual(y.shape, [2, 3, 3])
        let rows = layer.weight.value.scalars
        XCTAssertEqual(Array(y.scalars[0..<3]), Array(rows[12..<15]))
        XCTAssertEqual(Array(y.scalars[6..<9]), Array(rows[27..<30]))
        XCTAssertEqual(try layer([7]).shape, [1, 3])
        XCTAssertEqual(try layer([], shape: [0, 5]).shape, [0, 5, 3])
    }

    func testInitialisationIsStandardNormal() {
        var generator = RandomGenerator(seed: 2)
        let layer = Embedding(vocabularySize: 200, embeddingSize: 100, generator: &generator)
        let values = layer.weight.value.scalars.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        XCTAssertEqual(mean, 0, accuracy: 0.02)
        XCTAssertEqual(variance, 1, accuracy: 0.03)
    }

    func testRepeatedIndicesAccumulateGradients() throws {
        var generator = RandomGenerator(seed: 3)
        let layer = Embedding(vocabularySize: 4, embeddingSize: 2, generator: &generator)
        try layer([1, 3, 1, 1], shape: [4]).sum().backward()
        XCTAssertEqual(layer.weight.grad!.scalars, [0, 0, 3, 3, 0, 0, 1, 1])
    }

    func testBadIndicesThrowReadableErrors() {
        var generator = RandomGenerator(seed: 4)
        let layer = Embedding(vocabularySize: 5, embeddingSize: 2, generator: &generator)
        XCTAssertThrowsError(try layer([0, 5, 1])) { error in
            XCTAssertEqual("\(error)", "Embedding: index 5 at position 1 is out of range 0..<5")
        }
        XCTAssertThrowsError(try layer([-1]))
        XCTAssertThrowsError(try layer([0, 1, 2], shape: [2, 2])) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .shapeMismatch)
        }
    }

    func testMatchesPyTorch() throws {
        let golden = try Fixtures.load("nn_embedding")
        var generator = RandomGenerator(seed: 0)
        let layer = Embedding(vocabularySize: 10, embeddingSize: 4, generator: &generator)
        try layer.loadStateDictionary(["weight": golden["weight"]!])
        let indices = golden["indices"]!
        let y = try layer(indices.scalars.map { Int($0) }, shape: indices.shape)
        assertClose(y, golden["y"]!)
        (y * golden["dy"]!).sum().backward()
        assertClose(layer.weight.grad!, golden["dweight"]!)
    }
}
