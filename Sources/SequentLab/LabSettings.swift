/// The budgets of a lab run: `quick` (under two minutes on two cores) or `full`.
///
/// Every model of a comparison gets the same budget: the same steps, batch size and (for
/// the long-lag tasks) the same number of parameters.
public struct LabSettings: Sendable {
    public var isQuick: Bool
    /// Seeds averaged over (initial weights and data).
    public var seeds: [UInt64]

    // Experiment 1: vanishing gradients.
    /// T of the probe sequence (the largest distance measured is T - 1).
    public var gradientLength: Int
    /// The width of every model: H of RNN, LSTM and GRU, D of the Transformer (a multiple of 16).
    public var gradientWidth: Int
    /// N, the Transformer's layers.
    public var gradientTransformerLayers: Int
    public var gradientTrainingSteps: Int

    // Experiment 2: long lags.
    public var addingLengths: [Int]
    public var copyLags: [Int]
    public var longLagSteps: Int
    public var longLagBatch: Int
    /// The parameter budget of every model (recurrent layer or Transformer encoder, plus head).
    public var parameterBudget: Int
    public var evaluationEvery: Int

    // Experiment 3: speed and cost.
    public var speedLengths: [Int]
    /// The width of every model (one layer each): H, or D (a multiple of 16).
    public var speedWidth: Int
    public var speedRepeats: Int

    // Experiment 4: attention.
    public var reversalLengths: ClosedRange<Int>
    public var reversalSteps: Int

    // Experiment 5: real data.
    public var textSteps: Int
    public var seriesSteps: Int

    /// The short run: smaller budgets, fewer lengths.
    public static let quick = LabSettings(
        isQuick: true, seeds: [1, 2], gradientLength: 101, gradientWidth: 32, gradientTransformerLayers: 2, gradientTrainingSteps: 300,
        addingLengths: [10, 50, 100], copyLags: [10, 25], longLagSteps: 1200, longLagBatch: 32, parameterBudget: 4_600,
        evaluationEvery: 100, speedLengths: [25, 50, 100, 200, 400], speedWidth: 64, speedRepeats: 3,
        reversalLengths: 4...14, reversalSteps: 220, textSteps: 400, seriesSteps: 300)

    /// The full run. Copy memory stops at lag 200: at lag 400 (timed on one thread) its four
    /// runs took 12 of the 29 minutes of experiment 2, and no model solved it.
    public static let full = LabSettings(
        isQuick: false, seeds: [1, 2, 3], gradientLength: 201, gradientWidth: 64, gradientTransformerLayers: 2, gradientTrainingSteps: 400,
        addingLengths: [10, 50, 100, 200, 400], copyLags: [10, 50, 100, 200], longLagSteps: 2000, longLagBatch: 32,
        parameterBudget: 17_000, evaluationEvery: 100, speedLengths: [25, 50, 100, 200, 400, 800], speedWidth: 128,
        speedRepeats: 5, reversalLengths: 4...30, reversalSteps: 1500, textSteps: 1500, seriesSteps: 1000)
}
