import SequentTensor

/// A source of training batches that can say where it is and go back there, so that a run
/// resumed from a checkpoint sees the same batches in the same order.
///
/// `Trainer` calls `nextBatch()` once per optimizer step, saves `position` in every
/// checkpoint (as `TrainingState.epoch`, `dataPosition` and the generator state `"data"`), and
/// calls `seek(to:)` when it resumes. A source that shuffles keeps its own `RandomGenerator`
/// and reports in `position` whatever state rebuilds the current order.
public protocol TrainingData {
    /// What one optimizer step consumes (token ids, a tensor pair, indices into a dataset).
    associatedtype Batch

    /// The next batch; sources that run out start their next epoch themselves.
    ///
    /// - Throws: `SequentError` for data that cannot be read.
    mutating func nextBatch() throws -> Batch

    /// Where the next `nextBatch()` will read from.
    var position: DataPosition { get }

    /// Goes back to a position reported by `position`, possibly by another instance built
    /// over the same data.
    ///
    /// - Throws: `SequentError` if the position does not fit this data (naming the field).
    mutating func seek(to position: DataPosition) throws
}

/// A position in a `TrainingData`: the epoch, how far into it, and the state of the generator
/// that orders it.
public struct DataPosition: Equatable, Sendable {
    /// Completed epochs (the index of the current one).
    public var epoch: Int
    /// Batches (or whatever the source counts) consumed in the current epoch.
    public var index: Int
    /// The generator state that reproduces the current epoch's order; nil for sources that
    /// do not shuffle.
    public var generator: RandomGeneratorState?

    /// A position; a source without shuffling leaves `generator` nil.
    public init(epoch: Int, index: Int, generator: RandomGeneratorState? = nil) {
        self.epoch = epoch
        self.index = index
        self.generator = generator
    }
}

/// Batches of examples in an order shuffled anew every epoch (PyTorch's `DataLoader` with
/// `shuffle=True`), drawn from its own generator.
///
/// Each epoch starts by saving the generator's state and then shuffling the example indices
/// with it (Fisher-Yates, written out so the order never depends on the standard library); batches are consecutive slices of that order, of `batchSize`
/// examples, the last smaller unless `dropsLast`. `position` carries the state from before
/// the shuffle, so `seek(to:)` redoes the same shuffle and skips the consumed batches.
///
///     var data = try ShuffledBatches(Array(0..<1000), batchSize: 32, generator: RandomGenerator(seed: 7))
///     let batch = try data.nextBatch()   // 32 examples
public struct ShuffledBatches<Example>: TrainingData {
    /// The examples, in their original order.
    public let examples: [Example]
    /// Examples per batch.
    public let batchSize: Int
    /// Whether an epoch's last, smaller batch is skipped.
    public let dropsLast: Bool
    /// Whether the examples are shuffled each epoch (false: always their original order).
    public let shuffles: Bool

    /// The generator the next epoch's shuffle draws from.
    private var generator: RandomGenerator
    /// The generator's state before the current epoch's shuffle.
    private var epochStart: RandomGenerator
    /// The current epoch's order: indices into `examples`.
    private var order: [Int]
    private var epoch = 0
    private var batchIndex = 0

    /// Batches of `examples`.
    ///
    /// - Parameters:
    ///   - examples: at least one (and at least `batchSize` if `dropsLast`).
    ///   - batchSize: >= 1.
    ///   - dropsLast: skip an epoch's last batch when it is smaller than `batchSize`.
    ///   - shuffles: shuffle every epoch (the default) or keep the original order.
    ///   - generator: the source of the shuffles; the same state gives the same order.
    /// - Throws: `SequentError` for a batch size below 1 or too few examples.
    public init(
        _ examples: [Example], batchSize: Int, dropsLast: Bool = false, shuffles: Bool = true,
        generator: RandomGenerator
    ) throws {
        guard batchSize >= 1 else {
            throw SequentError.invalidArgument("ShuffledBatches", "batchSize must be at least 1, got \(batchSize)")
        }
        guard !examples.isEmpty, !dropsLast || examples.count >= batchSize else {
            throw SequentError.invalidArgument(
                "ShuffledBatches", "\(examples.count) examples make no batch of \(batchSize)\(dropsLast ? " with dropsLast" : "")")
        }
        self.examples = examples
        self.batchSize = batchSize
        self.dropsLast = dropsLast
        self.shuffles = shuffles
        self.generator = generator
        self.epochStart = generator
        self.order = []
        startEpoch()
    }

    /// Batches in one epoch.
    public var batchesPerEpoch: Int {
        dropsLast ? examples.count / batchSize : (examples.count + batchSize - 1) / batchSize
    }

    public var position: DataPosition {
        DataPosition(epoch: epoch, index: batchIndex, generator: RandomGeneratorState(words: epochStart.stateWords))
    }

    public mutating func nextBatch() -> [Example] {
        if batchIndex == batchesPerEpoch {
            epoch += 1
            batchIndex = 0
            startEpoch()
        }
        let start = batchIndex * batchSize
        let end = min(start + batchSize, examples.count)
        batchIndex += 1
        return order[start..<end].map { examples[$0] }
    }

    public mutating func seek(to position: DataPosition) throws {
        guard position.epoch >= 0, (0...batchesPerEpoch).contains(position.index) else {
            throw SequentError.invalidArgument(
                "ShuffledBatches.seek", "position epoch \(position.epoch), index \(position.index) is outside 0...\(batchesPerEpoch) batches per epoch")
        }
        guard let state = position.generator else {
            throw SequentError.invalidArgument("ShuffledBatches.seek", "the position has no generator state (saved by another kind of data source?)")
        }
        generator = try RandomGenerator(stateWords: state.words)
        epoch = position.epoch
        batchIndex = position.index
        startEpoch()
    }

    /// Saves the generator state and draws this epoch's order from it.
    private mutating func startEpoch() {
        epochStart = generator
        order = Array(examples.indices)
        guard shuffles else { return }
        // Fisher-Yates written out (not `shuffle(using:)`, whose draws the standard library
        // may change), j = floor(u * (i + 1)) from the high word of a 64x64-bit product.
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            let j = Int(generator.next().multipliedFullWidth(by: UInt64(i + 1)).high)
            order.swapAt(i, j)
        }
    }
}
