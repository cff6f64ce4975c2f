import SequentTensor

// Batches of a token stream for language modelling. B = batch, T = time (the context).
// An example is a window of T + 1 consecutive tokens: inputs x = w[0..<T], targets
// y = w[1...T] (every target is the token after its input).

/// One batch of next-token examples: inputs and targets (B, T), row-major.
public struct TokenBatch: Equatable, Sendable {
    /// B * T input ids: row b is `inputs[b*T ..< (b+1)*T]`.
    public var inputs: [Int]
    /// B * T target ids, each the token after the input at the same place.
    public var targets: [Int]
    /// B.
    public var batchSize: Int
    /// T.
    public var time: Int
    /// True when row b does not continue row b of the previous batch (the first batch of an
    /// epoch, or any batch of random windows): a recurrent model starts from zeros then.
    public var startsStreams: Bool
}

/// How the training windows are laid out.
public enum WindowOrder: String, Codable, Sendable {
    /// Windows at random places in an order shuffled every epoch; each starts afresh
    /// (nanoGPT's `get_batch`, but without replacement). For Transformers.
    case random
    /// B windows at uniformly random starts every step, with replacement (nanoGPT's
    /// `get_batch`); an "epoch" is as many batches as `.random` has, for the logs only.
    case sampled
    /// B parallel streams read front to back, each batch's row b continuing the previous
    /// batch's row b, so a recurrent model carries its state across batches (truncated
    /// backpropagation through time, as char-rnn trains).
    case streams
}

/// Training batches over a token sequence, covering every token of an epoch's span once.
///
/// Each epoch draws an offset o from its generator, so that over epochs no token is always
/// left out and no token always sits at the same place in its window.
///
/// - `.random`: o in 0..<T (fewer where the text is shorter than two windows), the same
///   number of windows at every o; the epoch's windows start at o, o + T, o + 2T, ...; their
///   order is shuffled (Fisher-Yates, as `ShuffledBatches`), B a batch, the last batch
///   smaller. (Until 2026-12 o was drawn only from the tokens left over after whole windows:
///   on a text of k T + 1 tokens the windows met the text at one phase for the whole run.)
/// - `.streams`: o in 0...slack (slack < B*T, the tokens that do not fill B whole streams);
///   the span after o is cut into B equal streams of W*T tokens; batch k holds window k of
///   every stream; W batches an epoch.
/// - `.sampled`: every batch draws B starts uniformly from 0..<N-T, with replacement (no
///   coverage guarantee; `sequent demo` trains this way).
///
/// `position` carries the generator's state from before the epoch's draws, so `seek(to:)`
/// rebuilds the epoch and skips the batches consumed.
public struct TokenWindows: TrainingData {
    /// The token sequence.
    public let tokens: [Int]
    /// B.
    public let batchSize: Int
    /// T.
    public let time: Int
    /// The layout.
    public let order: WindowOrder

    private var generator: RandomGenerator
    private var epochStart: RandomGenerator
    /// This epoch's window starts (random order) or stream starts (streams).
    private var starts: [Int] = []
    private var epoch = 0
    private var batchIndex = 0

    /// Batches of `tokens`.
    ///
    /// - Throws: `SequentError.invalidArgument` when B or T is below 1, or the tokens do not
    ///   fill one batch (B windows of T + 1 for streams, one window for random).
    public init(tokens: [Int], batchSize: Int, time: Int, order: WindowOrder, generator: RandomGenerator) throws {
        guard batchSize >= 1, time >= 1 else {
            throw SequentError.invalidArgument("TokenWindows", "batch size and context must be at least 1, got \(batchSize) and \(time)")
        }
        let needed = order == .streams ? batchSize * time + 1 : time + 1  // .random, .sampled: one window
        guard tokens.count >= needed else {
            throw SequentError.invalidArgument(
                "TokenWindows", "\(tokens.count) tokens are too few for \(order == .streams ? "\(batchSize) streams of " : "one window of ")\(time) + 1 tokens; give more text, or a smaller --context\(order == .streams ? " or --batch-size" : "")")
        }
        self.tokens = tokens
        self.batchSize = batchSize
        self.time = time
        self.order = order
        self.generator = generator
        self.epochStart = generator
        startEpoch()
    }

    /// The largest offset `.random` draws for an epoch's first window: T - 1, so that every
    /// phase of the windows against the text comes up, or less when the text is shorter than
    /// two windows.
    private var maximumOffset: Int { Swift.min(time - 1, tokens.count - 1 - time) }

    /// Windows of T an epoch (inputs; the targets need one more token), the same at every
    /// offset in 0...maximumOffset.
    private var windowCount: Int { (tokens.count - 1 - maximumOffset) / time }

    /// W: windows per stream (streams), or windows in all (random).
    private var windowsPerStream: Int { (tokens.count - 1) / (batchSize * time) }

    /// Batches in one epoch.
    public var batchesPerEpoch: Int {
        switch order {
        case .random, .sampled: return (windowCount + batchSize - 1) / batchSize
        case .streams: return windowsPerStream
        }
    }

    /// Tokens each epoch scores (targets): the span the batches cover.
    public var tokensPerEpoch: Int {
        order == .streams ? windowsPerStream * batchSize * time : windowCount * time
    }

    public var position: DataPosition {
        DataPosition(epoch: epoch, index: batchIndex, generator: RandomGeneratorState(words: epochStart.stateWords))
    }

    public mutating func nextBatch() -> TokenBatch {
        if batchIndex == batchesPerEpoch {
            epoch += 1
            batchIndex = 0
            startEpoch()
        }
        var inputs: [Int] = []
        var targets: [Int] = []
        let rows: [Int]
        switch order {
        case .random:
            let first = batchIndex * batchSize
            rows = Array(starts[first..<min(first + batchSize, starts.count)])
        case .sampled:
            rows = (0..<batchSize).map { _ in draw(below: tokens.count - time) }
        case .streams:
            rows = starts.map { $0 + batchIndex * time }
        }
        inputs.reserveCapacity(rows.count * time)
        targets.reserveCapacity(rows.count * time)
        for start in rows {
            inputs.append(contentsOf: tokens[start..<(start + time)])
            targets.append(contentsOf: tokens[(start + 1)...(start + time)])
        }
        let startsStreams = order != .streams || batchIndex == 0
        batchIndex += 1
        return TokenBatch(inputs: inputs, targets: targets, batchSize: rows.count, time: time, startsStreams: startsStreams)
    }

    public mutating func seek(to position: DataPosition) throws {
        guard position.epoch >= 0, (0...batchesPerEpoch).contains(position.index) else {
            throw SequentError.invalidArgument(
                "TokenWindows.seek", "position epoch \(position.epoch), batch \(position.index) is outside 0...\(batchesPerEpoch) batches per epoch (was the checkpoint made on other text or settings?)")
        }
        guard let state = position.generator else {
            throw SequentError.invalidArgument("TokenWindows.seek", "the position has no generator state (saved by another kind of data source?)")
        }
        generator = try RandomGenerator(stateWords: state.words)
        epoch = position.epoch
        batchIndex = 0
        startEpoch()
        if order == .sampled {
            // Replay the draws of the batches consumed.
            for _ in 0..<position.index { _ = nextBatch() }
        }
        batchIndex = position.index
    }

    /// A uniform draw in 0..<bound from the high word of a 64x64-bit product.
    private mutating func draw(below bound: Int) -> Int {
        Int(generator.next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// Saves the generator's state, then draws the epoch's offset and order.
    private mutating func startEpoch() {
        epochStart = generator
        switch order {
        case .random:
            let offset = draw(below: maximumOffset + 1)
            starts = (0..<windowCount).map { offset + $0 * time }
            for i in stride(from: starts.count - 1, to: 0, by: -1) {
                starts.swapAt(i, draw(below: i + 1))
            }
        case .sampled:
            starts = []
        case .streams:
            let streamLength = windowsPerStream * time
            let slack = tokens.count - 1 - streamLength * batchSize
            let offset = draw(below: slack + 1)
            starts = (0..<batchSize).map { offset + $0 * streamLength }
        }
    }
}

/// Evaluation batches: the whole sequence once, in order, every token after the first
/// scored exactly once.
///
/// The N - 1 targets are cut into B contiguous streams (the last ones one shorter where N - 1
/// is not a multiple of B), read T at a time; batches continue the streams (`startsStreams`
/// only on the first), and a `mask` (1 scored, 0 padding) marks the ends of the shorter
/// streams. A recurrent model carries its state from batch to batch, so each token is scored
/// with all the text before it in its stream. For a Transformer use B streams with T its
/// context and restart at every batch: each window is scored without earlier text.
public struct TokenStreams: Sequence {
    /// The token sequence.
    public let tokens: [Int]
    /// B.
    public let batchSize: Int
    /// T.
    public let time: Int

    /// - Throws: `SequentError.invalidArgument` for fewer than 2 tokens or B, T below 1.
    public init(tokens: [Int], batchSize: Int, time: Int) throws {
        guard batchSize >= 1, time >= 1 else {
            throw SequentError.invalidArgument("TokenStreams", "batch size and context must be at least 1, got \(batchSize) and \(time)")
        }
        guard tokens.count >= 2 else {
            throw SequentError.invalidArgument("TokenStreams", "\(tokens.count) tokens: at least 2 are needed to score one")
        }
        self.tokens = tokens
        self.time = time
        self.batchSize = Swift.min(batchSize, tokens.count - 1)
    }

    /// The tokens scored: N - 1.
    public var scoredCount: Int { tokens.count - 1 }

    /// One batch: its examples and a (B, T) mask of the positions that count.
    public struct Element {
        public var batch: TokenBatch
        public var mask: [Float]
        /// Positions with mask 1.
        public var scored: Int
    }

    public func makeIterator() -> AnyIterator<Element> {
        let total = tokens.count - 1
        let B = batchSize, T = time
        // Stream b covers targets [starts[b], starts[b] + lengths[b]).
        let base = total / B, extra = total % B
        let lengths = (0..<B).map { base + ($0 < extra ? 1 : 0) }
        var starts: [Int] = []
        var next = 0
        for length in lengths {
            starts.append(next)
            next += length
        }
        let batchCount = (lengths[0] + T - 1) / T  // the first stream is the longest
        var k = 0
        return AnyIterator {
            guard k < batchCount else { return nil }
            var inputs = [Int](repeating: 0, count: B * T)
            var targets = [Int](repeating: 0, count: B * T)
            var mask = [Float](repeating: 0, count: B * T)
            var scored = 0
            for b in 0..<B {
                for t in 0..<T {
                    let i = k * T + t
                    guard i < lengths[b] else { break }
                    let position = starts[b] + i  // the input's index; the target is the next token
                    inputs[b * T + t] = self.tokens[position]
                    targets[b * T + t] = self.tokens[position + 1]
                    mask[b * T + t] = 1
                    scored += 1
                }
            }
            let element = Element(
                batch: TokenBatch(inputs: inputs, targets: targets, batchSize: B, time: T, startsStreams: k == 0),
                mask: mask, scored: scored)
            k += 1
            return element
        }
    }
}
