import SequentTensor
@testable import SequentData
import XCTest

/// `ShardedBatches`: the ranks' shares of every global batch are disjoint and together the
/// batch, so an epoch gives every example to exactly one rank; the position is the global
/// source's, so a run resumes with another number of ranks.
final class ShardedBatchesTests: XCTestCase {
    func testSharesPartitionEveryGlobalBatch() throws {
        let global = try ShuffledBatches(Array(0..<24), batchSize: 6, dropsLast: true, generator: RandomGenerator(seed: 3))
        var reference = global
        var shards = try (0..<3).map { try ShardedBatches(global, rank: $0, shardCount: 3) }
        var seen: [Int] = []
        for step in 0..<8 {  // two epochs of 4 batches
            let whole = reference.nextBatch()
            let parts = try shards.indices.map { try shards[$0].nextBatch() }
            XCTAssertEqual(parts.map(\.count), [2, 2, 2])
            XCTAssertEqual(parts.flatMap { $0 }, whole, "step \(step): the shares side by side are the global batch")
            if step < 4 { seen += whole }
            XCTAssertTrue(shards.allSatisfy { $0.position == shards[0].position }, "every rank stands at the same position")
            XCTAssertEqual(shards[0].position, reference.position)
        }
        XCTAssertEqual(seen.sorted(), Array(0..<24), "an epoch covers every example once")
    }

    func testTokenWindowsShareStreams() throws {
        let tokens = (0..<400).map { $0 % 37 }
        let windows = try TokenWindows(tokens: tokens, batchSize: 4, time: 8, order: .streams, generator: RandomGenerator(seed: 5))
        var reference = windows
        var first = try ShardedBatches(windows, rank: 0, shardCount: 2)
        var second = try ShardedBatches(windows, rank: 1, shardCount: 2)
        for _ in 0..<5 {
            let whole = reference.nextBatch()
            let a = try first.nextBatch(), b = try second.nextBatch()
            XCTAssertEqual(a.batchSize, 2)
            XCTAssertEqual(a.inputs + b.inputs, whole.inputs)
            XCTAssertEqual(a.targets + b.targets, whole.targets)
            XCTAssertEqual(a.startsStreams, whole.startsStreams)
        }
    }

    /// A position reached by 2 ranks continues on 4 ranks (or 1) with the same global batches.
    func testPositionResumesWithAnotherNumberOfRanks() throws {
        let global = try ShuffledBatches(Array(0..<40), batchSize: 8, dropsLast: true, generator: RandomGenerator(seed: 11))
        var two = try ShardedBatches(global, rank: 1, shardCount: 2)
        for _ in 0..<7 { _ = try two.nextBatch() }
        var reference = global
        try reference.seek(to: two.position)
        let expected = reference.nextBatch()
        var four = try (0..<4).map { try ShardedBatches(global, rank: $0, shardCount: 4) }
        for index in four.indices { try four[index].seek(to: two.position) }
        XCTAssertEqual(try four.indices.flatMap { try four[$0].nextBatch() }, expected)
    }

    func testUndividedBatchesAndBadRanksAreRefused() throws {
        let global = try ShuffledBatches(Array(0..<10), batchSize: 3, generator: RandomGenerator(seed: 1))
        var shard = try ShardedBatches(global, rank: 0, shardCount: 2)
        XCTAssertThrowsError(try shard.nextBatch()) {
            XCTAssertTrue("\($0)".contains("batch of 3 rows does not divide among 2 ranks"), "\($0)")
        }
        XCTAssertThrowsError(try ShardedBatches(global, rank: 2, shardCount: 2)) {
            XCTAssertTrue("\($0)".contains("rank 2 is outside 0..<2"), "\($0)")
        }
    }

    /// `UnevenShardedBatches`: shares of batches whose rows do not divide (10 pairs in
    /// batches of 4: 4, 4, 2) differ by at most a row, side by side are the batch, and a
    /// batch of fewer rows than ranks leaves the first ranks empty shares.
    func testUnevenSharesPartitionEveryBatch() throws {
        let global = try ShuffledBatches(Array(0..<10), batchSize: 4, generator: RandomGenerator(seed: 2))
        for ranks in [1, 3] {
            var reference = global
            var shards = try (0..<ranks).map { try UnevenShardedBatches(global, rank: $0, shardCount: ranks) }
            var seen: [Int] = []
            for _ in 0..<3 {
                let whole = reference.nextBatch()
                let shares = try shards.indices.map { try shards[$0].nextBatch() }
                XCTAssertTrue(shares.allSatisfy { $0.global == whole })
                XCTAssertEqual(shares.flatMap(\.local), whole)
                XCTAssertLessThanOrEqual(Set(shares.map(\.rows.count)).count, 2)
                if ranks == 3, whole.count == 2 { XCTAssertEqual(shares.map(\.rows.count), [0, 1, 1]) }
                seen += whole
                XCTAssertEqual(shards[0].position, reference.position)
            }
            XCTAssertEqual(seen.sorted(), Array(0..<10), "an epoch covers every example once")
        }
        XCTAssertThrowsError(try UnevenShardedBatches(global, rank: 3, shardCount: 3))
    }
}

