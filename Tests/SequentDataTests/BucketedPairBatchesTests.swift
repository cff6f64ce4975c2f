import SequentData
import SequentTensor
import XCTest

/// Length-bucketed batches: every pair once per epoch, little padding, bitwise resumable.
final class BucketedPairBatchesTests: XCTestCase {
    private func lengths(_ n: Int, seed: UInt64) -> ([Int], [Int]) {
        var generator = RandomGenerator(seed: seed)
        let s = (0..<n).map { _ in 1 + Int(generator.next() % 40) }
        let t = s.map { $0 + Int(generator.next() % 5) }
        return (s, t)
    }

    func testEveryPairOncePerEpoch() throws {
        let (s, t) = lengths(1003, seed: 3)
        for pool in [8, nil] as [Int?] {
            var batches = try BucketedPairBatches(sourceLengths: s, targetLengths: t, batchSize: 32, poolBatches: pool, generator: RandomGenerator(seed: 1))
            XCTAssertEqual(batches.batchesPerEpoch, 32)
            for epoch in 0..<3 {
                var seen: [Int] = []
                for _ in 0..<batches.batchesPerEpoch { seen += batches.nextBatch() }
                XCTAssertEqual(seen.sorted(), Array(0..<1003), "pool \(pool.map(String.init) ?? "all"), epoch \(epoch)")
                XCTAssertEqual(batches.position.epoch, epoch)
            }
        }
    }

    /// Padding of a whole epoch's batches: (padded source + target tokens) / real ones.
    private func paddingRatio(_ batches: inout BucketedPairBatches, _ s: [Int], _ t: [Int]) -> Double {
        var padded = 0, real = 0
        for _ in 0..<batches.batchesPerEpoch {
            let batch = batches.nextBatch()
            padded += (batch.map { s[$0] }.max()! + batch.map { t[$0] }.max()!) * batch.count
            real += batch.reduce(0) { $0 + s[$1] + t[$1] }
        }
        return Double(padded) / Double(real)
    }

    func testSortingTheWholeEpochPadsLessThanPools() throws {
        // Target lengths that vary for one source length, as real pairs do.
        var generator = RandomGenerator(seed: 11)
        let s = (0..<6400).map { _ in 1 + Int(generator.next() % 30) }
        let t = s.map { max(1, $0 + Int(generator.next() % 9) - 4) }
        var whole = try BucketedPairBatches(sourceLengths: s, targetLengths: t, batchSize: 64, generator: RandomGenerator(seed: 2))
        var pools = try BucketedPairBatches(sourceLengths: s, targetLengths: t, batchSize: 64, poolBatches: 10, generator: RandomGenerator(seed: 2))
        let wholeRatio = paddingRatio(&whole, s, t), poolRatio = paddingRatio(&pools, s, t)
        XCTAssertLessThan(wholeRatio, 1.08)
        XCTAssertLessThan(wholeRatio, poolRatio)
    }

    func testEqualLengthsMixAcrossEpochs() throws {
        // Every pair has the same lengths: only the shuffle decides who shares a batch.
        var batches = try BucketedPairBatches(sourceLengths: Array(repeating: 5, count: 64), targetLengths: Array(repeating: 6, count: 64),
                                              batchSize: 8, generator: RandomGenerator(seed: 3))
        let first = (0..<8).map { _ in Set(batches.nextBatch()) }
        let second = (0..<8).map { _ in Set(batches.nextBatch()) }
        XCTAssertNotEqual(Set(first), Set(second))
        XCTAssertEqual(second.reduce(into: Set<Int>()) { $0.formUnion($1) }, Set(0..<64))
    }

    func testBucketsWasteLittlePadding() throws {
        let (s, t) = lengths(2000, seed: 5)
        var batches = try BucketedPairBatches(sourceLengths: s, targetLengths: t, batchSize: 32, poolBatches: 50, generator: RandomGenerator(seed: 2))
        var padded = 0, real = 0
        for _ in 0..<batches.batchesPerEpoch {
            let batch = batches.nextBatch()
            let longest = batch.map { s[$0] }.max()!
            padded += longest * batch.count
            real += batch.reduce(0) { $0 + s[$1] }
        }
        // Random batches of lengths 1...40 would pad to ~2x; sorted pools pad a few percent.
        XCTAssertLessThan(Double(padded) / Double(real), 1.1)
    }

    func testSeekRebuildsTheSameOrder() throws {
        let (s, t) = lengths(300, seed: 7)
        var a = try BucketedPairBatches(sourceLengths: s, targetLengths: t, batchSize: 16, poolBatches: 4, generator: RandomGenerator(seed: 9))
        for _ in 0..<25 { _ = a.nextBatch() }
        var b = try BucketedPairBatches(sourceLengths: s, targetLengths: t, batchSize: 16, poolBatches: 4, generator: RandomGenerator(seed: 4))
        try b.seek(to: a.position)
        for _ in 0..<40 { XCTAssertEqual(a.nextBatch(), b.nextBatch()) }
    }

    func testBadSizesAreRefused() {
        XCTAssertThrowsError(try BucketedPairBatches(sourceLengths: [1], targetLengths: [], batchSize: 1, generator: RandomGenerator(seed: 1)))
        XCTAssertThrowsError(try BucketedPairBatches(sourceLengths: [1], targetLengths: [1], batchSize: 0, generator: RandomGenerator(seed: 1)))
        // A pair of 9 target tokens in batches of at most 8; tokens with pools.
        XCTAssertThrowsError(try BucketedPairBatches(sourceLengths: [3, 2], targetLengths: [9, 2], batchSize: 4, maxTokens: 8, generator: RandomGenerator(seed: 1)))
        XCTAssertThrowsError(try BucketedPairBatches(sourceLengths: [3], targetLengths: [3], batchSize: 4, poolBatches: 2, maxTokens: 8, generator: RandomGenerator(seed: 1)))
    }

    /// --max-tokens: every pair once per epoch, no batch above the budget (pairs x the longest
    /// pair's max(source, target)) or the pair cap, short pairs many to a batch, and a
    /// bitwise resume.
    func testMaxTokensCutsBatchesByPaddedTokens() throws {
        let (s, t) = lengths(1003, seed: 11)
        let length = { (pair: Int) in max(s[pair], t[pair]) }
        for (maxTokens, cap) in [(256, 1003), (256, 12), (44, 1003)] {
            var batches = try BucketedPairBatches(sourceLengths: s, targetLengths: t, batchSize: cap, maxTokens: maxTokens, generator: RandomGenerator(seed: 2))
            let perEpoch = batches.batchesPerEpoch
            for epoch in 0..<2 {
                var seen: [Int] = [], pairsOfShortest = 0, pairsOfLongest = Int.max
                for _ in 0..<perEpoch {
                    let batch = batches.nextBatch()
                    let longest = batch.map(length).max()!
                    XCTAssertLessThanOrEqual(batch.count * longest, maxTokens)
                    XCTAssertLessThanOrEqual(batch.count, cap)
                    if longest <= 5 { pairsOfShortest = max(pairsOfShortest, batch.count) }
                    if longest >= 40 { pairsOfLongest = min(pairsOfLongest, batch.count) }
                    seen += batch
                }
                XCTAssertEqual(seen.sorted(), Array(0..<1003), "max tokens \(maxTokens), cap \(cap), epoch \(epoch)")
                XCTAssertEqual(batches.batchesPerEpoch, perEpoch, "the sorted lengths, and so the cut, are the same every epoch")
                if cap > 1003 / 2 { XCTAssertGreaterThan(pairsOfShortest, pairsOfLongest) }
            }
        }
        var a = try BucketedPairBatches(sourceLengths: s, targetLengths: t, batchSize: 1003, maxTokens: 128, generator: RandomGenerator(seed: 3))
        for _ in 0..<(a.batchesPerEpoch + 5) { _ = a.nextBatch() }
        var b = try BucketedPairBatches(sourceLengths: s, targetLengths: t, batchSize: 1003, maxTokens: 128, generator: RandomGenerator(seed: 8))
        try b.seek(to: a.position)
        for _ in 0..<20 { XCTAssertEqual(a.nextBatch(), b.nextBatch()) }
    }
}
