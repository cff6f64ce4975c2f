import SequentTensor

/// The algorithmic tasks of the Neural Turing Machine paper (Graves, Wayne and Danihelka
/// 2014, section 4), generated from a seed. Every example is random bit vectors; the model
/// reads them, then writes its answer while its input is blank.
///
/// - `copy`: L vectors of `bits` bits, a delimiter step, then the L vectors again.
///   Input X = bits + 1 (the delimiter channel), output Y = bits, T = 2L + 1.
/// - `repeat-copy`: L vectors, a delimiter step whose second extra channel holds the repeat
///   count n / maxRepeats, then the vectors n times and an end marker on an extra output
///   channel. X = bits + 2, Y = bits + 1, T = L + 1 + nL + 1. Every example of a batch has
///   the same L and n.
/// - `recall` (associative recall): L items of `itemLength` vectors, each item after a
///   delimiter step, then the query (one of the first L - 1 items) between two steps on a
///   second delimiter channel, then the item that followed the query. X = bits + 2, Y = bits,
///   T = L (itemLength + 1) + itemLength + 2 + itemLength.
public enum BitSequenceTask: String, Codable, CaseIterable, Sendable {
    case copy
    case repeatCopy = "repeat-copy"
    case recall
}

/// The sizes of a generated bit-sequence task.
public struct BitSequenceTaskSettings: Codable, Equatable, Sendable {
    public var task: BitSequenceTask
    /// Bits per vector.
    public var bits: Int
    /// The task's length L (vectors for copy and repeat copy, items for recall) is drawn
    /// uniformly from `minLength...maxLength` per training batch.
    public var minLength: Int
    public var maxLength: Int
    /// Repeat copy: n is drawn from 1...maxRepeats.
    public var maxRepeats: Int
    /// Recall: vectors per item.
    public var itemLength: Int

    /// The paper's settings: copy 8 bits, L in 1...20; repeat copy L in 1...10, n in 1...10;
    /// recall 6 bits, 2...6 items of 3 vectors.
    public static func paper(_ task: BitSequenceTask) -> BitSequenceTaskSettings {
        switch task {
        case .copy: BitSequenceTaskSettings(task: task, bits: 8, minLength: 1, maxLength: 20, maxRepeats: 1, itemLength: 3)
        case .repeatCopy: BitSequenceTaskSettings(task: task, bits: 8, minLength: 1, maxLength: 10, maxRepeats: 10, itemLength: 3)
        case .recall: BitSequenceTaskSettings(task: task, bits: 6, minLength: 2, maxLength: 6, maxRepeats: 1, itemLength: 3)
        }
    }

    public init(task: BitSequenceTask, bits: Int, minLength: Int, maxLength: Int, maxRepeats: Int, itemLength: Int) {
        (self.task, self.bits, self.minLength, self.maxLength) = (task, bits, minLength, maxLength)
        (self.maxRepeats, self.itemLength) = (maxRepeats, itemLength)
    }

    /// X.
    public var inputSize: Int { task == .copy ? bits + 1 : bits + 2 }
    /// Y.
    public var outputSize: Int { task == .repeatCopy ? bits + 1 : bits }

    /// The smallest length the task accepts.
    public var shortestLength: Int { task == .recall ? 2 : 1 }

    /// Checks the sizes.
    ///
    /// - Throws: `SequentError.invalidArgument` naming the first size out of range.
    public func validate() throws(SequentError) {
        let op = "\(task.rawValue) task"
        guard bits >= 1 else { throw .invalidArgument(op, "bits must be at least 1, got \(bits)") }
        guard minLength >= shortestLength, maxLength >= minLength else {
            throw .invalidArgument(op, "lengths must satisfy \(shortestLength) <= min <= max, got \(minLength)...\(maxLength)")
        }
        guard maxRepeats >= 1, itemLength >= 1 else {
            throw .invalidArgument(op, "repeats and item length must be at least 1, got \(maxRepeats) and \(itemLength)")
        }
    }

    /// The memory slots a model needs to hold an example of `length` (one per vector read).
    public func slotsNeeded(length: Int) -> Int {
        task == .recall ? length * (itemLength + 1) + itemLength + 2 : length + 1
    }

    /// A batch of `batchSize` examples of `length` (and `repeats` for repeat copy; nil draws
    /// it from `generator`).
    ///
    /// - Throws: `SequentError` for a length below `shortestLength` or a batch size below 1.
    public func batch(length: Int, batchSize B: Int, repeats: Int? = nil, using generator: inout RandomGenerator) throws(SequentError) -> BitSequenceBatch {
        guard length >= shortestLength, B >= 1 else {
            throw .invalidArgument("\(task.rawValue) task", "length must be at least \(shortestLength) and batch size at least 1, got \(length) and \(B)")
        }
        let (X, Y) = (inputSize, outputSize)
        func randomBits() -> [Float] { (0..<bits).map { _ in generator.next() & 1 == 1 ? 1 : 0 } }
        switch task {
        case .copy:
            let T = 2 * length + 1
            var inputs = [Float](repeating: 0, count: T * B * X), targets = [Float](repeating: 0, count: T * B * Y)
            for b in 0..<B {
                for t in 0..<length {
                    let vector = randomBits()
                    for j in 0..<bits {
                        inputs[(t * B + b) * X + j] = vector[j]
                        targets[((length + 1 + t) * B + b) * Y + j] = vector[j]
                    }
                }
                inputs[(length * B + b) * X + bits] = 1
            }
            return BitSequenceBatch(inputs: Tensor(shape: [T, B, X], scalars: inputs), targets: Tensor(shape: [T, B, Y], scalars: targets),
                                    outputStart: length + 1, length: length)
        case .repeatCopy:
            let n = repeats ?? (1 + Int(generator.next() % UInt64(maxRepeats)))
            let T = length + 1 + n * length + 1
            var inputs = [Float](repeating: 0, count: T * B * X), targets = [Float](repeating: 0, count: T * B * Y)
            for b in 0..<B {
                for t in 0..<length {
                    let vector = randomBits()
                    for j in 0..<bits {
                        inputs[(t * B + b) * X + j] = vector[j]
                        for r in 0..<n { targets[((length + 1 + r * length + t) * B + b) * Y + j] = vector[j] }
                    }
                }
                inputs[(length * B + b) * X + bits] = 1
                inputs[(length * B + b) * X + bits + 1] = Float(n) / Float(maxRepeats)
                targets[((T - 1) * B + b) * Y + bits] = 1
            }
            return BitSequenceBatch(inputs: Tensor(shape: [T, B, X], scalars: inputs), targets: Tensor(shape: [T, B, Y], scalars: targets),
                                    outputStart: length + 1, length: length, repeats: n)
        case .recall:
            let I = itemLength
            let queryStart = length * (I + 1)
            let T = queryStart + I + 2 + I
            var inputs = [Float](repeating: 0, count: T * B * X), targets = [Float](repeating: 0, count: T * B * Y)
            for b in 0..<B {
                let items = (0..<length).map { _ in (0..<I).map { _ in randomBits() } }
                let query = Int(generator.next() % UInt64(length - 1))
                for (index, item) in items.enumerated() {
                    let start = index * (I + 1)
                    inputs[(start * B + b) * X + bits] = 1
                    for (t, vector) in item.enumerated() {
                        for j in 0..<bits { inputs[((start + 1 + t) * B + b) * X + j] = vector[j] }
                    }
                }
                inputs[(queryStart * B + b) * X + bits + 1] = 1
                for (t, vector) in items[query].enumerated() {
                    for j in 0..<bits { inputs[((queryStart + 1 + t) * B + b) * X + j] = vector[j] }
                }
                inputs[((queryStart + I + 1) * B + b) * X + bits + 1] = 1
                for (t, vector) in items[query + 1].enumerated() {
                    for j in 0..<bits { targets[((queryStart + I + 2 + t) * B + b) * Y + j] = vector[j] }
                }
            }
            return BitSequenceBatch(inputs: Tensor(shape: [T, B, X], scalars: inputs), targets: Tensor(shape: [T, B, Y], scalars: targets),
                                    outputStart: queryStart + I + 2, length: length)
        }
    }
}

/// Examples of a bit-sequence task, time-major, all of one length.
public struct BitSequenceBatch: Sendable {
    /// (T, B, X).
    public var inputs: Tensor
    /// (T, B, Y): the bits to produce; zero before `outputStart`.
    public var targets: Tensor
    /// The first step whose output is scored; the steps `outputStart..<T` are.
    public var outputStart: Int
    /// The task's length L.
    public var length: Int
    /// Repeat copy's n (1 otherwise).
    public var repeats: Int = 1

    /// T.
    public var time: Int { inputs.shape[0] }
    /// B.
    public var batchSize: Int { inputs.shape[1] }
    /// The scored targets, (T - outputStart, B, Y).
    public var scoredTargets: Tensor { targets.slice(alongAxis: 0, outputStart..<time) }

    /// The bits wrong per sequence: logits (T, B, Y) thresholded at 0 (probability 1/2)
    /// against the targets on the scored steps, summed, divided by B.
    public func bitErrorsPerSequence(logits: Tensor) -> Double {
        let scored = logits.slice(alongAxis: 0, outputStart..<time).scalars
        let expected = scoredTargets.scalars
        var wrong = 0
        for i in scored.indices where (scored[i] > 0) != (expected[i] > 0.5) { wrong += 1 }
        return Double(wrong) / Double(batchSize)
    }
}

/// Training batches of a bit-sequence task drawn forever from one generator, each of a
/// length drawn uniformly from the settings' range. The position is the generator's state,
/// so a resumed run draws the same batches.
public struct BitSequenceBatches: TrainingData {
    public let settings: BitSequenceTaskSettings
    public let batchSize: Int
    private var generator: RandomGenerator
    private var drawn = 0

    /// Batches of `settings`' task.
    ///
    /// - Throws: `SequentError` for settings out of range or a batch size below 1.
    public init(settings: BitSequenceTaskSettings, batchSize: Int, generator: RandomGenerator) throws(SequentError) {
        try settings.validate()
        guard batchSize >= 1 else { throw .invalidArgument("BitSequenceBatches", "batch size must be at least 1, got \(batchSize)") }
        self.settings = settings
        self.batchSize = batchSize
        self.generator = generator
    }

    public var position: DataPosition {
        DataPosition(epoch: 0, index: drawn, generator: RandomGeneratorState(words: generator.stateWords))
    }

    public mutating func nextBatch() throws -> BitSequenceBatch {
        let span = UInt64(settings.maxLength - settings.minLength + 1)
        let length = settings.minLength + Int(generator.next() % span)
        drawn += 1
        return try settings.batch(length: length, batchSize: batchSize, using: &generator)
    }

    public mutating func seek(to position: DataPosition) throws {
        guard let state = position.generator else {
            throw SequentError.invalidArgument("BitSequenceBatches.seek", "the position has no generator state (saved by another kind of data source?)")
        }
        generator = try RandomGenerator(stateWords: state.words)
        drawn = position.index
    }
}
