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
        var batches = try BucketedPairBatches(sourceLengths: s, targetLengths: t, batchSize: 32, poolBatches: 8, generator: RandomGenerator(seed: 1))
        for epoch in 0..<3 {
            var seen: [Int] = []
            for _ in 0..<batches.batchesPerEpoch { seen += batches.nextBatch() }
            XCTAssertEqual(seen.sorted(), Array(0..<1003), "epoch \(epoch)")
            XCTAssertEqual(batches.position.epoch, epoch)
        }
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
    }
}
