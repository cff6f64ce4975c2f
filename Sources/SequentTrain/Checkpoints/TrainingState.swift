/// Where a training run stands, saved as `training_state.json` so that a resumed run continues
/// bitwise: the counters, the position in the data, every random generator's state, and the
/// best metric so far.
public struct TrainingState: Codable, Equatable, Sendable {
    /// Optimizer steps taken.
    public var step: Int
    /// Completed epochs (the current epoch's index).
    public var epoch: Int
    /// How far into the current epoch's order the data has been consumed (examples or
    /// batches: whatever the data loader counts).
    public var dataPosition: Int
    /// The state of each random generator the run uses (initialisation, dropout, shuffling),
    /// by a name the run chooses.
    public var randomGenerators: [String: RandomGeneratorState]
    /// The best validation metric so far, if any.
    public var bestMetric: Double?
    /// Any further numbers the run wants back (last loss, tokens seen, ...).
    public var values: [String: Double]

    /// Creates a training state; everything but `step` is optional.
    public init(
        step: Int, epoch: Int = 0, dataPosition: Int = 0, randomGenerators: [String: RandomGeneratorState] = [:],
        bestMetric: Double? = nil, values: [String: Double] = [:]
    ) {
        self.step = step
        self.epoch = epoch
        self.dataPosition = dataPosition
        self.randomGenerators = randomGenerators
        self.bestMetric = bestMetric
        self.values = values
    }

    enum CodingKeys: String, CodingKey {
        case step, epoch
        case dataPosition = "data_position"
        case randomGenerators = "random_generators"
        case bestMetric = "best_metric"
        case values
    }
}

/// The four 64-bit words of a xoshiro256** `RandomGenerator`, written in JSON as 16-digit
/// hexadecimal strings so that no JSON reader rounds them.
public struct RandomGeneratorState: Codable, Equatable, Sendable {
    /// The state words, in the generator's order.
    public var words: [UInt64]

    /// Wraps four state words.
    public init(words: [UInt64]) {
        self.words = words
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let texts = try container.decode([String].self)
        var words: [UInt64] = []
        for text in texts {
            guard text.count == 16, let word = UInt64(text, radix: 16) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "random generator state word '\(text)' is not 16 hexadecimal digits")
            }
            words.append(word)
        }
        guard words.count == 4, words.contains(where: { $0 != 0 }) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "a random generator state is four words, not all zero; got \(words.count)")
        }
        self.words = words
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(words.map { word in
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        })
    }
}
