import SequentTensor

/// Batches of sentence pairs of similar lengths, so that padding costs little: every epoch
/// the pairs are shuffled, sorted by (source length, target length) with the shuffled order
/// breaking ties, cut into batches of `batchSize` pairs, and the batches of the epoch
/// shuffled again. This is fairseq's order (`LanguagePairDataset.ordered_indices`: a random
/// permutation, then stable sorts by target and source length); with `poolBatches` the sort
/// runs within pools of that many batches instead of over the whole epoch (torchtext's
/// `BucketIterator`), which mixes lengths more and pads more. Every pair appears in exactly
/// one batch of an epoch, and which pairs of equal lengths share a batch changes from epoch
/// to epoch.
///
/// With `maxTokens` the sorted pairs are cut by tokens instead (fairseq's `--max-tokens`):
/// a batch takes pairs while (pairs x its longest pair) stays within `maxTokens`, where a
/// pair's length is the longer of its source and target, so batches of short sentences hold
/// many pairs and batches of long ones few; `batchSize` then caps the pairs of a batch.
///
/// A batch is the pairs' indices; the model pads each batch only to its own longest source
/// and target (`paddingMask`s cover the rest), never to a global maximum.
///
/// `position` carries the generator state from before the epoch's shuffles, so `seek(to:)`
/// rebuilds the same epoch and skips the batches already consumed (bitwise resume).
public struct BucketedPairBatches: TrainingData {
    /// Source length of each pair.
    public let sourceLengths: [Int]
    /// Target length of each pair.
    public let targetLengths: [Int]
    /// Pairs per batch (the last batch of a pool may be smaller); with `maxTokens`, the most.
    public let batchSize: Int
    /// The most padded tokens of a batch, pairs x the longest pair's max(source, target)
    /// length; nil: batches of `batchSize` pairs.
    public let maxTokens: Int?
    /// Batches per sorted pool; nil: the whole epoch is one pool.
    public let poolBatches: Int?

    private var generator: RandomGenerator
    private var epochStart: RandomGenerator
    /// The current epoch's batches.
    public private(set) var batches: [[Int]] = []
    private var epoch = 0
    private var batchIndex = 0

    /// Batches over pairs of the given lengths.
    ///
    /// - Parameters:
    ///   - sourceLengths, targetLengths: one entry per pair, equal counts, at least one pair.
    ///   - batchSize: pairs per batch, >= 1.
    ///   - poolBatches: batches per length-sorted pool (>= 1; larger pools waste less padding
    ///     and mix less); nil (the default) sorts the whole epoch, as fairseq does.
    ///   - maxTokens: cut batches by padded tokens (>= every pair's length; the whole epoch
    ///     sorted, no pools); nil: by `batchSize` pairs.
    ///   - generator: the source of the shuffles.
    /// - Throws: `SequentError` for counts that differ, no pairs, sizes below 1, a pair longer
    ///   than `maxTokens`, or `maxTokens` with `poolBatches`.
    public init(
        sourceLengths: [Int], targetLengths: [Int], batchSize: Int, poolBatches: Int? = nil, maxTokens: Int? = nil, generator: RandomGenerator
    ) throws {
        guard sourceLengths.count == targetLengths.count, !sourceLengths.isEmpty else {
            throw SequentError.invalidArgument(
                "BucketedPairBatches", "\(sourceLengths.count) source and \(targetLengths.count) target lengths; need the same number, at least one")
        }
        guard batchSize >= 1, (poolBatches ?? 1) >= 1 else {
            throw SequentError.invalidArgument("BucketedPairBatches", "batch size \(batchSize) and pool \(poolBatches ?? 1) must be at least 1")
        }
        if let maxTokens {
            guard poolBatches == nil else {
                throw SequentError.invalidArgument("BucketedPairBatches", "batches cut by tokens sort the whole epoch; give no pools")
            }
            let longest = zip(sourceLengths, targetLengths).map { max($0, $1) }.max()!
            guard maxTokens >= max(1, longest) else {
                throw SequentError.invalidArgument("BucketedPairBatches", "a batch of at most \(maxTokens) tokens cannot hold the longest pair (\(longest) tokens)")
            }
        }
        self.sourceLengths = sourceLengths
        self.targetLengths = targetLengths
        self.batchSize = batchSize
        self.poolBatches = poolBatches
        self.maxTokens = maxTokens
        self.generator = generator
        self.epochStart = generator
        startEpoch()
    }

    /// Batches in one epoch.
    public var batchesPerEpoch: Int { batches.count }

    public var position: DataPosition {
        DataPosition(epoch: epoch, index: batchIndex, generator: RandomGeneratorState(words: epochStart.stateWords))
    }

    public mutating func nextBatch() -> [Int] {
        if batchIndex == batches.count {
            epoch += 1
            batchIndex = 0
            startEpoch()
        }
        batchIndex += 1
        return batches[batchIndex - 1]
    }

    public mutating func seek(to position: DataPosition) throws {
        guard let state = position.generator else {
            throw SequentError.invalidArgument("BucketedPairBatches.seek", "the position has no generator state (saved by another kind of data source?)")
        }
        generator = try RandomGenerator(stateWords: state.words)
        startEpoch()
        guard position.epoch >= 0, (0...batches.count).contains(position.index) else {
            throw SequentError.invalidArgument(
                "BucketedPairBatches.seek", "position epoch \(position.epoch), index \(position.index) is outside 0...\(batches.count) batches per epoch")
        }
        epoch = position.epoch
        batchIndex = position.index
    }

    /// Fisher-Yates with j = floor(u * (i + 1)) from the high word of a 64x64-bit product.
    private static func shuffle<T>(_ array: inout [T], _ generator: inout RandomGenerator) {
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = Int(generator.next().multipliedFullWidth(by: UInt64(i + 1)).high)
            array.swapAt(i, j)
        }
    }

    /// `pairs` cut in order into batches of at most `maxPairs` pairs whose count x longest
    /// `length` is at most `maxTokens`.
    private static func cut(_ pairs: [Int], maxTokens: Int, maxPairs: Int, length: (Int) -> Int) -> [[Int]] {
        var batches: [[Int]] = [], batch: [Int] = [], longest = 0
        for pair in pairs {
            let tokens = length(pair)
            if !batch.isEmpty, batch.count == maxPairs || max(longest, tokens) * (batch.count + 1) > maxTokens {
                batches.append(batch)
                batch = []
                longest = 0
            }
            batch.append(pair)
            longest = max(longest, tokens)
        }
        if !batch.isEmpty { batches.append(batch) }
        return batches
    }

    /// Saves the generator state and builds this epoch's batches from it.
    private mutating func startEpoch() {
        epochStart = generator
        var order = Array(sourceLengths.indices)
        Self.shuffle(&order, &generator)
        let poolSize = poolBatches.map { $0 > order.count / batchSize ? order.count : batchSize * $0 } ?? order.count
        var built: [[Int]] = []
        for start in stride(from: 0, to: order.count, by: poolSize) {
            // Positions in the shuffled order break ties, so equal lengths mix across epochs.
            let pool = order[start..<min(start + poolSize, order.count)]
            let sorted = pool.indices.sorted {
                (sourceLengths[order[$0]], targetLengths[order[$0]], $0) < (sourceLengths[order[$1]], targetLengths[order[$1]], $1)
            }.map { order[$0] }
            if let maxTokens {
                built += Self.cut(sorted, maxTokens: maxTokens, maxPairs: batchSize, length: { max(sourceLengths[$0], targetLengths[$0]) })
            } else {
                for b in stride(from: 0, to: sorted.count, by: batchSize) {
                    built.append(Array(sorted[b..<min(b + batchSize, sorted.count)]))
                }
            }
        }
        Self.shuffle(&built, &generator)
        batches = built
    }
}
