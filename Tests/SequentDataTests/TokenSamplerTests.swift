import SequentTensor
@testable import SequentData
import XCTest

/// `TokenSampler` and `UTF8Stream`.
final class TokenSamplerTests: XCTestCase {
    private let logits: [Float] = [1.0, 3.0, 2.0, 3.0, -1.0]

    func testGreedyTakesTheFirstMaximum() throws {
        var sampler = try TokenSampler(temperature: 0, seed: 1)
        XCTAssertEqual(sampler.sample(logits), 1)
        var topOne = try TokenSampler(temperature: 1, topK: 1, seed: 1)
        XCTAssertEqual((0..<20).map { _ in topOne.sample(logits) }, Array(repeating: 1, count: 20))
        var tinyP = try TokenSampler(temperature: 1, topP: 1e-6, seed: 1)
        XCTAssertEqual(tinyP.sample(logits), 1)
    }

    func testDrawsFollowTheSoftmaxAtTheTemperature() throws {
        var sampler = try TokenSampler(temperature: 2, seed: 5)
        var counts = [Int](repeating: 0, count: logits.count)
        let n = 100_000
        for _ in 0..<n { counts[sampler.sample(logits)] += 1 }
        let weights = logits.map { exp(Double($0) / 2) }
        let total = weights.reduce(0, +)
        for v in logits.indices {
            XCTAssertEqual(Double(counts[v]) / Double(n), weights[v] / total, accuracy: 0.01)
        }
    }

    func testTopKAndTopPKeepOnlyTheMostProbable() throws {
        var topK = try TokenSampler(temperature: 1, topK: 3, seed: 2)
        let drawnK = Set((0..<2000).map { _ in topK.sample(logits) })
        XCTAssertEqual(drawnK, [1, 2, 3])
        // p = softmax: ids 1 and 3 hold 0.79 of the mass (0.40 each); top-p 0.6 keeps exactly them.
        var topP = try TokenSampler(temperature: 1, topP: 0.6, seed: 2)
        let drawnP = Set((0..<2000).map { _ in topP.sample(logits) })
        XCTAssertEqual(drawnP, [1, 3])
    }

    func testSameSeedSameDraws() throws {
        var a = try TokenSampler(temperature: 0.8, topK: 4, topP: 0.9, seed: 7)
        var b = try TokenSampler(temperature: 0.8, topK: 4, topP: 0.9, seed: 7)
        XCTAssertEqual((0..<100).map { _ in a.sample(logits) }, (0..<100).map { _ in b.sample(logits) })
    }

    func testBadSettingsNameTheFlag() {
        for (make, flag) in [({ try TokenSampler(temperature: 1, topP: 0, seed: 1) }, "--top-p"),
                             ({ try TokenSampler(temperature: 1, topP: 1.5, seed: 1) }, "--top-p"),
                             ({ try TokenSampler(temperature: -1, seed: 1) }, "--temperature"),
                             ({ try TokenSampler(temperature: .nan, seed: 1) }, "--temperature"),
                             ({ try TokenSampler(temperature: 1, topK: 0, seed: 1) }, "--top-k")] as [(() throws -> TokenSampler, String)] {
            XCTAssertThrowsError(try make()) { error in
                XCTAssertTrue((error as? SequentError)?.message.hasPrefix(flag) ?? false, "\(error)")
            }
        }
    }

    func testUTF8StreamHoldsBackIncompleteCharacters() {
        var stream = UTF8Stream()
        let bytes = Array("a€👍b".utf8)  // 1 + 3 + 4 + 1 bytes
        var out = ""
        for byte in bytes { out += stream.append([byte]) }
        out += stream.finish()
        XCTAssertEqual(out, "a€👍b")
        var split = UTF8Stream()
        XCTAssertEqual(split.append(Array(bytes[0..<3])), "a")
        XCTAssertEqual(split.append(Array(bytes[3..<6])), "€")
        XCTAssertEqual(split.append(Array(bytes[6...])), "👍b")
    }
}
