import Foundation
import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Memory/EndToEndMemoryNetwork.swift`.
final class EndToEndMemoryNetworkTests: XCTestCase {
    private func network(temporal: Bool = true) throws -> EndToEndMemoryNetwork {
        var generator = RandomGenerator(seed: 4)
        return try EndToEndMemoryNetwork(configuration: EndToEndMemoryNetworkConfiguration(
            vocabularySize: 7, embeddingSize: 4, hops: 2, memories: 3, sentenceLength: 3, temporalEncoding: temporal), generator: &generator)
    }

    // B = 2, S = 3, J = 3; the second story has two statements.
    let stories = [1, 2, 3, 4, 5, 0, 6, 1, 0, 2, 3, 0, 4, 4, 4, 0, 0, 0]
    let questions = [1, 5, 0, 6, 2, 3]
    let mask: [Float] = [1, 1, 1, 1, 1, 0]

    func testPositionEncodingFollowsThePaper() throws {
        // l_kj = (1 - j/J) - (k/d)(1 - 2j/J), J = 3, d = 4: j = 1, k = 1 gives 2/3 - (1/4)(1/3).
        let l = try network().positionEncoding
        XCTAssertEqual(l.shape, [3, 4])
        XCTAssertEqual(l.scalars[0], 2.0 / 3 - 0.25 / 3, accuracy: 1e-6)
        XCTAssertEqual(l.scalars[2 * 4 + 3], 0 - 1 * (1 - 2), accuracy: 1e-6)
    }

    func testAttentionIsADistributionOverFilledMemories() throws {
        let (logits, attention) = try network()(stories: stories, questions: questions, memoryMask: mask, batchSize: 2)
        XCTAssertEqual(logits.shape, [2, 7])
        XCTAssertEqual(attention.count, 2)
        for hop in attention {
            XCTAssertEqual(hop.scalars[0..<3].reduce(0, +), 1, accuracy: 1e-5)
            XCTAssertEqual(hop.scalars[5], 0)
        }
    }

    func testParameterGradientsMatchFiniteDifferences() throws {
        for linear in [false, true] {
            let net = try network()
            net.linearAttention = linear
            let weights = randomTensor([2, 7], seed: 3)
            func loss() -> Double { (try! net(stories: stories, questions: questions, memoryMask: mask, batchSize: 2).logits * weights).sum().scalars.map(Double.init).reduce(0, +) }
            net.zeroGradients()
            (try net(stories: stories, questions: questions, memoryMask: mask, batchSize: 2).logits * weights).sum().backward()
            for (key, parameter) in net.namedParameters() {
                let analytic = parameter.grad ?? Tensor.zeros(parameter.shape)
                for element in stride(from: 0, to: parameter.value.count, by: 3) {
                    let original = parameter.value.scalars[element]
                    parameter.update { $0[element] = original + 1e-2 }
                    let plus = withoutGradients { loss() }
                    parameter.update { $0[element] = original - 1e-2 }
                    let minus = withoutGradients { loss() }
                    parameter.update { $0[element] = original }
                    let numeric = (plus - minus) / 2e-2
                    XCTAssertEqual(Double(analytic.scalars[element]), numeric, accuracy: 2e-2 * max(1, abs(numeric)), "\(key)[\(element)], linear \(linear)")
                }
            }
        }
    }

    func testBadSizesAndCountsAreErrors() throws {
        var generator = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try EndToEndMemoryNetwork(configuration: EndToEndMemoryNetworkConfiguration(vocabularySize: 5, memories: 0), generator: &generator)) {
            XCTAssertTrue("\($0)".contains("memory slots"))
        }
        XCTAssertThrowsError(try network()(stories: [1, 2], questions: questions, memoryMask: mask, batchSize: 2))
        XCTAssertThrowsError(try network()(stories: stories.map { _ in 9 }, questions: questions, memoryMask: mask, batchSize: 2))
    }
}
