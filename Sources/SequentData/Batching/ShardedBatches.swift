import SequentTensor

/// A batch whose examples are rows that can be cut into equal shares, one per rank of a
/// data-parallel run.
public protocol ShardableBatch {
    /// The examples (rows) in the batch.
    var rowCount: Int { get }
    /// The batch of rows `range`, in order.
    func rows(_ range: Range<Int>) -> Self
}

/// Rank `rank`'s share of every batch of a source read by `shardCount` ranks: all ranks
/// walk the same global order (the same seed, the same positions) and each keeps rows
/// `rank * n ..< (rank + 1) * n` of every global batch of `shardCount * n` rows, so within
/// an epoch no example is read by two ranks and none is skipped.
///
/// The position is the global source's, the same on every rank and independent of the
/// number of ranks: a checkpoint made by N ranks resumes with M ranks as long as M divides
/// the global batch.
///
///     // 2 ranks, each with 16 of the 32 streams of every batch
///     var data = try ShardedBatches(TokenWindows(tokens: t, batchSize: 32, ...), rank: r, shardCount: 2)
public struct ShardedBatches<Base: TrainingData>: TrainingData where Base.Batch: ShardableBatch {
    /// The shares, which here must be equal.
    private var shares: UnevenShardedBatches<Base>

    /// The global source.
    public var base: Base { shares.base }
    /// This share, 0..<shardCount.
    public var rank: Int { shares.rank }
    /// The number of shares (ranks).
    public var shardCount: Int { shares.shardCount }

    /// - Throws: `SequentError.invalidArgument` when `rank` is outside `0..<shardCount`.
    public init(_ base: Base, rank: Int, shardCount: Int) throws {
        shares = try UnevenShardedBatches(base, rank: rank, shardCount: shardCount)
    }

    /// This rank's rows of the next global batch.
    ///
    /// - Throws: `SequentError.invalidArgument` when a global batch's rows do not divide
    ///   among the ranks (an epoch's smaller last batch: build the source with `dropsLast`).
    public mutating func nextBatch() throws -> Base.Batch {
        let share = try shares.nextBatch()
        guard share.global.rowCount % shardCount == 0 else {
            throw SequentError.invalidArgument(
                "ShardedBatches", "a batch of \(share.global.rowCount) rows does not divide among \(shardCount) ranks; make the global batch a multiple of the ranks and drop an epoch's smaller last batch")
        }
        return share.local
    }

    public var position: DataPosition { shares.position }

    public mutating func seek(to position: DataPosition) throws {
        try shares.seek(to: position)
    }
}

/// A rank's share of a global batch whose rows need not divide among the ranks: the whole
/// batch (every rank reads it) and this rank's rows of it, which may be none.
public struct BatchShare<Batch: ShardableBatch> {
    /// The global batch.
    public let global: Batch
    /// This rank's rows of it.
    public let rows: Range<Int>

    /// This rank's rows as a batch.
    public var local: Batch { global.rows(rows) }
}

/// Rank `rank`'s share of every batch of a source read by `shardCount` ranks, for batches
/// whose rows need not divide among the ranks (an epoch's smaller last batches, as
/// `BucketedPairBatches` makes): rows `r * R / N ..< (r + 1) * R / N` of a global batch of
/// R rows, so the shares differ by at most one row, partition the batch, and a batch of
/// fewer rows than ranks leaves some ranks an empty share. The loss must then be weighted
/// by what each share holds (`Trainer.lossWeight`: its target tokens, its rows).
///
/// Every global batch is used whatever N, so a run resumes with any number of ranks; with
/// one rank each share is the whole batch.
public struct UnevenShardedBatches<Base: TrainingData>: TrainingData where Base.Batch: ShardableBatch {
    /// The global source.
    public private(set) var base: Base
    /// This share, 0..<shardCount.
    public let rank: Int
    /// The number of shares (ranks).
    public let shardCount: Int

    /// - Throws: `SequentError.invalidArgument` when `rank` is outside `0..<shardCount`.
    public init(_ base: Base, rank: Int, shardCount: Int) throws {
        guard shardCount >= 1, (0..<shardCount).contains(rank) else {
            throw SequentError.invalidArgument("UnevenShardedBatches", "rank \(rank) is outside 0..<\(shardCount)")
        }
        self.base = base
        self.rank = rank
        self.shardCount = shardCount
    }

    /// The next global batch and this rank's rows of it.
    public mutating func nextBatch() throws -> BatchShare<Base.Batch> {
        let global = try base.nextBatch()
        let rows = global.rowCount
        return BatchShare(global: global, rows: (rank * rows / shardCount)..<((rank + 1) * rows / shardCount))
    }

    public var position: DataPosition { base.position }

    public mutating func seek(to position: DataPosition) throws {
        try base.seek(to: position)
    }
}

extension TokenBatch: ShardableBatch {
    /// B.
    public var rowCount: Int { batchSize }

    /// Windows `range` (their inputs and targets); whether they start streams is kept.
    public func rows(_ range: Range<Int>) -> TokenBatch {
        let span = (range.lowerBound * time)..<(range.upperBound * time)
        return TokenBatch(inputs: Array(inputs[span]), targets: Array(targets[span]), batchSize: range.count,
                          time: time, startsStreams: startsStreams)
    }
}

extension Array: ShardableBatch {
    /// The elements, each an example (`ShuffledBatches`' batches).
    public var rowCount: Int { count }

    /// Elements `range`.
    public func rows(_ range: Range<Int>) -> [Element] { Array(self[range]) }
}

extension BAbIBatch: ShardableBatch {
    /// B.
    public var rowCount: Int { batchSize }

    /// Questions `range` with their stories, masks and supports.
    public func rows(_ range: Range<Int>) -> BAbIBatch {
        var batch = self
        let (S, J) = (memories, sentenceLength)
        batch.stories = Array(stories[(range.lowerBound * S * J)..<(range.upperBound * S * J)])
        batch.questions = Array(questions[(range.lowerBound * J)..<(range.upperBound * J)])
        batch.answers = Array(answers[range])
        batch.memoryMask = Array(memoryMask[(range.lowerBound * S)..<(range.upperBound * S)])
        batch.supporting = Array(supporting[range])
        batch.batchSize = range.count
        return batch
    }
}
