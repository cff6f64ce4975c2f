import SequentTensor

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
