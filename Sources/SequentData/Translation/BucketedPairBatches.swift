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
    /// Pairs per batch (the last batch of a pool may be smaller).
    public let batchSize: Int
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
    ///   - generator: the source of the shuffles.
    /// - Throws: `SequentError` for counts that differ, no pairs, or sizes below 1.
    public init(
        sourceLengths: [Int], targetLengths: [Int], batchSize: Int, poolBatches: Int? = nil, generator: RandomGenerator
    ) throws {
        guard sourceLengths.count == targetLengths.count, !sourceLengths.isEmpty else {
            throw SequentError.invalidArgument(
                "BucketedPairBatches", "\(sourceLengths.count) source and \(targetLengths.count) target lengths; need the same number, at least one")
        }
        guard batchSize >= 1, (poolBatches ?? 1) >= 1 else {
            throw SequentError.invalidArgument("BucketedPairBatches", "batch size \(batchSize) and pool \(poolBatches ?? 1) must be at least 1")
        }
        self.sourceLengths = sourceLengths
        self.targetLengths = targetLengths
        self.batchSize = batchSize
        self.poolBatches = poolBatches
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
            for b in stride(from: 0, to: sorted.count, by: batchSize) {
                built.append(Array(sorted[b..<min(b + batchSize, sorted.count)]))
            }
        }
        Self.shuffle(&built, &generator)
        batches = built
    }
}
