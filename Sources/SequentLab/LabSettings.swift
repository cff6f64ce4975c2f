/// The budgets of a lab run: `quick` (under two minutes on two cores) or `full`.
///
/// Every model of a comparison gets the same budget: the same steps, batch size, learning
/// rate sweep and (for the long-lag tasks and text) the same number of parameters.
public struct LabSettings: Sendable {
    public var isQuick: Bool
    /// Seeds of the measured runs (initial weights and data); every quantity is reported as
    /// mean and spread over them.
    public var seeds: [UInt64]
    /// The seed of the learning-rate sweeps, which the measured runs do not use.
    static let sweepSeed: UInt64 = 99
    /// The learning rates every model's sweep tries.
    public var sweepRates: [Float]

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
    /// The steps of each learning-rate trial.
    public var longLagSweepSteps: Int
    public var longLagBatch: Int
    /// The parameter budget of every model (recurrent layer or Transformer encoder, plus head).
    public var parameterBudget: Int
    public var evaluationEvery: Int
    /// Chrono initialisation for the LSTM on the long-lag tasks (else forget-gate bias 1).
    public var longLagChrono: Bool = false

    // Experiment 3: speed and cost.
    public var speedLengths: [Int]
    /// The width of every model (one layer each): H, or D (a multiple of 16).
    public var speedWidth: Int
    /// The timed steps of each length below the longest.
    public var speedRepeats: Int
    /// The interleaved timing rounds at the longest length: each round times one step of
    /// every model in turn (and on one thread, when the run has more), so that the machine's
    /// load drifts hit all models alike and each comparison is judged on per-round ratios.
    public var speedRounds: Int
    /// The lengths of the attention-memory measurement (plain path and fused kernel).
    public var attentionMemoryLengths: [Int]

    // Experiment 4: attention.
    public var reversalLengths: ClosedRange<Int>
    public var reversalSteps: Int
    /// The steps of each learning-rate trial of the reversal models.
    public var reversalSweepSteps: Int

    // Experiment 5: real data.
    /// The parameter budget of each character language model (embedding and head included).
    public var textParameterBudget: Int
    public var textSteps: Int
    /// The steps of each learning-rate trial on text.
    public var textSweepSteps: Int
    /// The seconds of the equal-time comparison per model (0: not run).
    public var textSeconds: Double
    public var seriesSteps: Int

    /// The short run: smaller budgets, fewer lengths.
    public static let quick = LabSettings(
        isQuick: true, seeds: [1, 2], sweepRates: [3e-3, 1e-2],
        gradientLength: 101, gradientWidth: 32, gradientTransformerLayers: 2, gradientTrainingSteps: 150,
        addingLengths: [10, 50], copyLags: [10], longLagSteps: 1000, longLagSweepSteps: 200, longLagBatch: 32, parameterBudget: 4_600,
        evaluationEvery: 100, speedLengths: [25, 100, 400], speedWidth: 64, speedRepeats: 3, speedRounds: 7, attentionMemoryLengths: [128, 256, 512],
        reversalLengths: 4...14, reversalSteps: 220, reversalSweepSteps: 100, textParameterBudget: 25_000, textSteps: 150, textSweepSteps: 40, textSeconds: 0,
        seriesSteps: 300)

    /// The full run: three seeds and the full sweep, on budgets meant to fit about 50 minutes
    /// on a shared two-core machine. The long-lag tasks get the 2,000 steps and the
    /// adding problem reaches T = 400 (a seed tries a longer lag only once it solved the
    /// shorter one, which spares the runs that could only fail); the text models' ranking
    /// check (step 400 against step 800) says whether their budget is enough. docs/lab.md
    /// has the measured times and what is still cut (copy memory beyond T = 100, 17,000
    /// parameters, text models of 200,000 parameters trained 2,000 steps, 60 s at equal time).
    public static let full = LabSettings(
        isQuick: false, seeds: [1, 2, 3], sweepRates: [1e-3, 3e-3, 1e-2],
        gradientLength: 101, gradientWidth: 64, gradientTransformerLayers: 2, gradientTrainingSteps: 250,
        addingLengths: [10, 50, 100, 200, 400], copyLags: [10, 50, 100], longLagSteps: 2000, longLagSweepSteps: 250, longLagBatch: 32,
        parameterBudget: 10_000, evaluationEvery: 100, speedLengths: [25, 50, 100, 200, 400, 800], speedWidth: 128,
        speedRepeats: 3, speedRounds: 5, attentionMemoryLengths: [128, 256, 512, 1024],
        reversalLengths: 4...30, reversalSteps: 1200, reversalSweepSteps: 300, textParameterBudget: 100_000, textSteps: 800, textSweepSteps: 100, textSeconds: 20,
        seriesSteps: 1000)
}

extension LabSettings {
    /// What these budgets cut against the full run, one "name: this (full: that)" per
    /// setting that differs; empty for the full run itself.
    public var cutsAgainstFull: [String] {
        let full = LabSettings.full
        func list<T>(_ values: [T]) -> String { values.map { "\($0)" }.joined(separator: ", ") }
        let pairs: [(String, String, String)] = [
            ("seeds", list(seeds), list(full.seeds)),
            ("learning rates swept", list(sweepRates), list(full.sweepRates)),
            ("vanishing gradients: T, width, training steps", "\(gradientLength), \(gradientWidth), \(gradientTrainingSteps)",
             "\(full.gradientLength), \(full.gradientWidth), \(full.gradientTrainingSteps)"),
            ("adding-problem lengths", list(addingLengths), list(full.addingLengths)),
            ("copy-memory lags", list(copyLags), list(full.copyLags)),
            ("long-lag steps (sweep steps), parameters", "\(longLagSteps) (\(longLagSweepSteps)), \(parameterBudget)",
             "\(full.longLagSteps) (\(full.longLagSweepSteps)), \(full.parameterBudget)"),
            ("speed lengths, width, timed steps (interleaved rounds at the two longest)",
             "\(list(speedLengths)); \(speedWidth); \(speedRepeats) (\(speedRounds))",
             "\(list(full.speedLengths)); \(full.speedWidth); \(full.speedRepeats) (\(full.speedRounds))"),
            ("attention-memory lengths", list(attentionMemoryLengths), list(full.attentionMemoryLengths)),
            ("reversal lengths, steps (sweep steps)", "\(reversalLengths.lowerBound)-\(reversalLengths.upperBound), \(reversalSteps) (\(reversalSweepSteps))",
             "\(full.reversalLengths.lowerBound)-\(full.reversalLengths.upperBound), \(full.reversalSteps) (\(full.reversalSweepSteps))"),
            ("text: parameters, steps (sweep steps), equal-time seconds", "\(textParameterBudget), \(textSteps) (\(textSweepSteps)), \(Int(textSeconds))",
             "\(full.textParameterBudget), \(full.textSteps) (\(full.textSweepSteps)), \(Int(full.textSeconds))"),
            ("series steps", "\(seriesSteps)", "\(full.seriesSteps)"),
        ]
        var cuts = pairs.filter { $0.1 != $0.2 }.map { "\($0.0): \($0.1) (full: \($0.2))" }
        if isQuick { cuts.append("no default text (the full run reads Tiny Shakespeare)") }
        return cuts
    }
}
