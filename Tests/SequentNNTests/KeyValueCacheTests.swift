import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Transformer/KeyValueCache.swift`: cached attention against the full pass.
final class KeyValueCacheTests: XCTestCase {
    private func attention(batchFirst: Bool = true, seed: UInt64 = 1) -> MultiheadAttention {
        var generator = RandomGenerator(seed: seed)
        let mha = try! MultiheadAttention(embedDim: 12, headCount: 3, batchFirst: batchFirst, generator: &generator)
        // Nonzero biases, so that the cached path must add them too.
        try! mha.inProjectionBias!.assign(randomTensor([36], seed: seed + 100))
        return mha
    }

    func testSelfAttentionInPiecesEqualsFullCausal() throws {
        for batchFirst in [true, false] {
            let mha = attention(batchFirst: batchFirst)
            let x = randomTensor([2, 9, 12], seed: 2)
            let layout = { (t: Tensor) in batchFirst ? t : t.transposed(0, 1) }
            let full = layout(try mha(query: layout(x), key: layout(x), value: layout(x), causal: true).output)
            let cache = KeyValueCache()
            var pieces: [Tensor] = []
            for range in [0..<3, 3..<4, 4..<8, 8..<9] {
                pieces.append(layout(try mha.selfAttention(layout(x.slice(alongAxis: 1, range)), cache: cache)))
                XCTAssertEqual(cache.length, range.upperBound)
            }
            XCTAssertEqual(cache.keys?.shape, [2, 3, 9, 4])
            assertClose(Tensor.concatenate(pieces, alongAxis: 1), full, relative: 1e-5, absolute: 1e-6)
            cache.reset()
            XCTAssertEqual(cache.length, 0)
            XCTAssertNil(cache.values)
        }
    }

    func testCrossAttentionReadsTheMemoryOnce() throws {
        let mha = attention(seed: 3)
        let (query, memory) = (randomTensor([2, 4, 12], seed: 4), randomTensor([2, 6, 12], seed: 5))
        let expected = try mha(query: query, key: memory, value: memory, keyLengths: [6, 2]).output
        let cache = KeyValueCache()
        let first = try mha.crossAttention(query: query.slice(alongAxis: 1, 0..<2), memory: memory, cache: cache, keyLengths: [6, 2])
        let keys = cache.keys!
        let second = try mha.crossAttention(query: query.slice(alongAxis: 1, 2..<4), memory: memory, cache: cache, keyLengths: [6, 2])
        XCTAssertEqual(cache.keys!.scalars, keys.scalars, "the memory is projected once")
        assertClose(Tensor.concatenate([first, second], alongAxis: 1), expected, relative: 1e-5, absolute: 1e-6)
    }

    func testBatchMismatchIsAnError() throws {
        let mha = attention()
        let cache = KeyValueCache()
        _ = try mha.selfAttention(randomTensor([2, 1, 12]), cache: cache)
        XCTAssertThrowsError(try mha.selfAttention(randomTensor([3, 1, 12]), cache: cache)) { error in
            XCTAssertEqual((error as? SequentError)?.message,
                           "MultiheadAttention: the key/value cache holds a batch of 2, the input [3, 1, 12] a batch of 3")
        }
    }
}
