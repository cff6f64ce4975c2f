import Foundation
import SequentNN
import SequentTensor
import SequentTrain

/// Experiment 1: how ||dLoss/dh_t|| falls with the distance between step t and the loss,
/// for a vanilla RNN (tanh), an LSTM, a GRU and a Transformer of the same width, at
/// initialisation and after training on the adding problem; the LSTM with the forget-gate
/// bias of 1 that practitioners use, and once more with PyTorch's default initialisation.
///
/// The loss reads only the last step (the adding problem's MSE), so step t is T-1-t steps
/// from it. h_t is the hidden state of a recurrent layer (its gradient probe measures it)
/// and the input representation (projection plus position) of the Transformer. The norms
/// (L2 over batch and width) are plotted as geometric means over seeds (they span decades);
/// the claims compare log10 g(1)/g(d) seed by seed.
public struct VanishingGradientsExperiment {
    /// One model of the experiment: an architecture and, for the LSTM, its initialisation.
    public struct Variant: Sendable, Hashable {
        public var architecture: Architecture
        /// True for the LSTM started as PyTorch starts it (shown beside the lab's default).
        public var pytorchInitialisation: Bool

        public var name: String { pytorchInitialisation ? "\(architecture.rawValue) (PyTorch init)" : architecture.rawValue }

        public static let all: [Variant] = Architecture.allCases.map { Variant(architecture: $0, pytorchInitialisation: false) }
            + [Variant(architecture: .lstm, pytorchInitialisation: true)]
    }

    /// The norms of one variant at one moment.
    public struct Curve: Sendable {
        public var variant: Variant
        public var trained: Bool
        /// The geometric mean over seeds of the norm at each distance 0...T-1 (0 where any
        /// seed's norm underflowed).
        public var normByDistance: [Double]
        /// Each seed's norms by distance.
        public var normsBySeed: [[Double]]

        public var architecture: Architecture { variant.architecture }

        /// g(1) / g(d) of the mean curve (infinity if it underflowed to 0).
        public func ratio(distance d: Int) -> Double? {
            Self.ratio(normByDistance, d)
        }

        /// log10 g(1) / g(d), one value per seed (infinity where the norm underflowed).
        public func logRatios(distance d: Int) -> SeedValues {
            SeedValues(normsBySeed.compactMap { Self.ratio($0, d).map { Foundation.log10($0) } })
        }

        static func ratio(_ norms: [Double], _ d: Int) -> Double? {
            guard d < norms.count, norms.count > 1 else { return nil }
            let near = norms[1], far = norms[d]
            return far > 0 ? near / far : .infinity
        }
    }

    public struct Result: Sendable {
        public var curves: [Curve]
        /// The adding-problem MSE after training, per variant, one value per seed.
        public var trainedMSE: [Variant: SeedValues]
        public var distances: [Int]
        /// Each variant's learning-rate sweep (the measured runs train at its chosen rate).
        public var sweeps: [LearningRateSweep] = []

        public func curve(_ architecture: Architecture, trained: Bool, pytorchInitialisation: Bool = false) -> Curve? {
            curves.first { $0.architecture == architecture && $0.trained == trained && $0.variant.pytorchInitialisation == pytorchInitialisation }
        }
    }

    let settings: LabSettings
    let progress: LabProgress

    public init(settings: LabSettings, progress: LabProgress) {
        self.settings = settings
        self.progress = progress
    }

    /// The distances of the ratio table that fit in the probe sequence.
    var distances: [Int] { [10, 50, 100].filter { $0 < settings.gradientLength } }

    /// The most a gradient may shrink over the judged distance for "it does not vanish".
    static let nonVanishingRatio = 10.0
    /// Differences of log10 ratios below this (a factor of about 3) are ties.
    static let tieDecades = 0.5
    /// The variant's model at `seed` (its initial weights).
    private func makeModel(_ variant: Variant, seed: UInt64) throws -> any SequenceModel {
        let family = ModelFamily(variant.architecture, inputSize: 2, outputSize: 1)
        var generator = RandomGenerator(seed: seed)
        return try family.model(size(variant), forgetGate: variant.pytorchInitialisation ? .pytorch : .unitBias, generator: &generator)
    }

    private func size(_ variant: Variant) -> ModelSize {
        ModelSize(width: settings.gradientWidth, layerCount: variant.architecture == .transformer ? settings.gradientTransformerLayers : 1)
    }

    /// Trains `model` on the adding problem for the experiment's steps, on batches of 32
    /// drawn from `dataSeed`.
    private func train(_ model: any SequenceModel, learningRate: Float, dataSeed: UInt64) throws {
        let task = AddingProblem(length: settings.gradientLength)
        let training = LabTraining(learningRate: learningRate, steps: settings.gradientTrainingSteps)
        _ = try training.run(model, data: GeneratedBatches(generator: RandomGenerator(seed: dataSeed)) { task.batch(32, &$0) }) { batch in
            (try Loss.meanSquaredError(try model.lastStep(batch.input), batch.target), batch.input.shape[0])
        }
    }

    /// The adding-problem MSE of `model` on `batch`, without gradients.
    private func meanSquaredError(_ model: any SequenceModel, _ batch: (input: Tensor, target: Tensor)) throws -> Double {
        Double(try withoutGradients { try Loss.meanSquaredError(try model.lastStep(batch.input), batch.target).item })
    }

    public func run() throws -> Result {
        let T = settings.gradientLength
        let task = AddingProblem(length: T)
        // Every variant's sweep: the same rates and steps as its measured runs, on the sweep
        // seed (weights and data), scored on a validation batch the probes do not use.
        var validationData = RandomGenerator(seed: 3000)
        let validationBatch = task.batch(256, &validationData)
        var sweeps: [LearningRateSweep] = []
        var rates: [Variant: Float] = [:]
        for variant in Variant.all {
            let sweep = try LearningRateSweep.run(variant.name, candidates: settings.sweepRates) { rate in
                progress("vanishing gradients: learning-rate sweep, \(variant.name), lr \(formatted(Double(rate)))")
                let model = try makeModel(variant, seed: LabSettings.sweepSeed)
                try train(model, learningRate: rate, dataSeed: 2000 + LabSettings.sweepSeed)
                return try meanSquaredError(model, validationBatch)
            }
            sweeps.append(sweep)
            rates[variant] = sweep.chosen
        }
        var curves: [Curve] = []
        var trainedMSE: [Variant: SeedValues] = [:]
        for variant in Variant.all {
            var initial: [[Double]] = [], trained: [[Double]] = [], mse: [Double] = []
            for seed in settings.seeds {
                progress("vanishing gradients: \(variant.name), seed \(seed), T = \(T), \(ModelFamily(variant.architecture, inputSize: 2, outputSize: 1).sizeDescription(size(variant)))")
                let model = try makeModel(variant, seed: seed)
                var probeData = RandomGenerator(seed: 1000 + seed)
                let probeBatch = task.batch(64, &probeData)
                initial.append(try probe(model, probeBatch))
                try train(model, learningRate: rates[variant]!, dataSeed: 2000 + seed)
                trained.append(try probe(model, probeBatch))
                mse.append(try meanSquaredError(model, probeBatch))
            }
            // A norm that underflowed to 0 in any seed makes the mean 0 (left out of the log plot).
            func average(_ runs: [[Double]]) -> [Double] {
                (0..<T).map { d in runs.contains { $0[d] == 0 } ? 0 : geometricMean(runs.map { $0[d] }) }
            }
            curves.append(Curve(variant: variant, trained: false, normByDistance: average(initial), normsBySeed: initial))
            curves.append(Curve(variant: variant, trained: true, normByDistance: average(trained), normsBySeed: trained))
            trainedMSE[variant] = SeedValues(mse)
        }
        return Result(curves: curves, trainedMSE: trainedMSE, distances: distances, sweeps: sweeps)
    }

    /// ||dLoss/dh_t|| by distance T-1-t from the loss, for one batch.
    private func probe(_ model: any SequenceModel, _ batch: (input: Tensor, target: Tensor)) throws -> [Double] {
        // Loss scaling (as mixed-precision training does): the backward pass runs on
        // 2^50 times the loss, so norms down to ~1e-34 of the loss's gradient stay above
        // Float32's smallest normal number instead of underflowing; the scale is divided out.
        let lossScale: Float = 0x1p50
        model.setTraining(true)
        let (output, stepGradientNorms) = try model.lastStepProbingGradients(batch.input)
        let loss = try Loss.meanSquaredError(output, batch.target)
        (loss * lossScale).backward()
        model.zeroGradients()
        return stepGradientNorms().reversed().map { Double($0) / Double(lossScale) }
    }

    /// The report section: the plot, the ratio table and the claims with their verdicts.
    public static func section(_ result: Result, settings: LabSettings) -> ReportSection {
        var section = ReportSection(title: "1. Vanishing gradients")
        let T = settings.gradientLength
        section.paragraph("""
            Each model (width \(settings.gradientWidth): the hidden size H of RNN, LSTM and GRU, D of the Transformer with \
            \(settings.gradientTransformerLayers) causal pre-norm layers and heads of width \(ModelFamily.headWidth)) reads an adding-problem sequence \
            of T = \(T) steps; the loss is the MSE of its last step only, so step t lies T-1-t steps from the loss. \
            Initialisation: PyTorch's for every layer, except the LSTM's forget-gate bias, set to 1 as practitioners do \
            (Gers et al. 2000; Jozefowicz et al. 2015); the row "LSTM (PyTorch init)" is the same LSTM with PyTorch's \
            default (every bias U(-1/sqrt(H), 1/sqrt(H)), so the forget gate starts near 0.5), what many users run. \
            h_t is the recurrent layer's hidden state at step t (measured by the layer's gradient probe) and, for the \
            Transformer, its representation of step t after the input projection and the positions, before the first \
            layer. ||dLoss/dh_t|| is the L2 norm over a batch of 64 and the width, at initialisation \
            and after \(settings.gradientTrainingSteps) Adam steps (gradient norm clipped to 1, batches of 32) \
            on the same task, at the learning rate of the variant's own sweep (below: every rate trained for the same steps on another seed, scored by the MSE on 256 validation sequences), for seeds \(settings.seeds.map(String.init).joined(separator: ", ")); the plots show the geometric mean over seeds, \
            the table and the claims log10 g(1)/g(d) as mean ± standard deviation over the seeds. A norm that underflowed to 0 in Float32 (in any seed) is \
            left out of the plot and makes the ratio "inf". The backward pass of the probe runs on the loss scaled by 2^50 (the \
            scale divided out again), so that norms down to about 1e-34 are measured rather than lost to underflow. \
            Verdicts: \(SeedComparison.rule); the tie margin here is \(formatted(tieDecades)) decade.
            """)
        for trained in [false, true] {
            let series = result.curves.filter { $0.trained == trained }.map { curve in
                LineSeries(name: curve.variant.name,
                           points: curve.normByDistance.enumerated().map { (x: Double($0.offset), y: $0.element) },
                           dashed: curve.variant.pytorchInitialisation)
            }
            let moment = trained ? "after training" : "at initialisation"
            let chart = LineChart(title: "Gradient norm vs distance from the loss, \(moment)",
                                  x: Axis("distance from the loss (steps)"), y: Axis("||dLoss/dh_t||, L2 norm", scale: .log),
                                  series: series)
            section.figure(trained ? "gradients_trained" : "gradients_initial",
                           "||dLoss/dh_t|| against the distance from the loss, \(moment) (log scale).", chart.svg)
        }
        var rows: [[String]] = []
        for curve in result.curves {
            rows.append([curve.variant.name, curve.trained ? "after training" : "initialisation"]
                + result.distances.map { curve.logRatios(distance: $0).text() })
        }
        section.table(ReportTable(header: ["Model", "When"] + result.distances.map { "log10 g(1) / g(\($0))" }, rows: rows))
        section.paragraph("**Learning-rate sweep** (validation MSE after \(settings.gradientTrainingSteps) steps; the chosen rate in bold).")
        section.table(LearningRateSweep.table(result.sweeps, lossName: "validation MSE"))
        section.paragraph("Adding-problem MSE after training (the constant answer scores \(formatted(AddingProblem.baselineMSE))): " + Variant.all.map {
            "\($0.name) \(result.trainedMSE[$0]?.text() ?? "-")"
        }.joined(separator: ", ") + ".")
        section.claims(claims(result))
        var json: [(String, JSONValue)] = [("length", .number(Double(T))), ("hidden", .number(Double(settings.gradientWidth)))]
        for curve in result.curves {
            json.append(("\(curve.variant.name) \(curve.trained ? "trained" : "initial")", .object([
                ("norm_by_distance", .of(curve.normByDistance)),
                ("log10_ratios", .object(result.distances.map { ("g1/g\($0)", curve.logRatios(distance: $0).json) })),
            ])))
        }
        json.append(("sweep", .array(result.sweeps.map(\.json))))
        json.append(("trained_mse", .object(Variant.all.map { ($0.name, result.trainedMSE[$0]?.json ?? .null) })))
        section.results = .object(json)
        return section
    }

    /// The farthest distance of the table: where the claims are judged.
    static func judgedDistance(_ result: Result) -> Int? { result.distances.last }

    static func claims(_ result: Result) -> [Claim] {
        guard let d = judgedDistance(result) else { return [] }
        func ratios(_ a: Architecture, _ trained: Bool, pytorch: Bool = false) -> SeedValues? {
            result.curve(a, trained: trained, pytorchInitialisation: pytorch)?.logRatios(distance: d)
        }
        var claims: [Claim] = []
        for trained in [false, true] {
            let moment = trained ? "after training" : "at initialisation"
            if let rnn = ratios(.rnn, trained) {
                claims.append(Claim("The vanilla RNN's gradient vanishes: \(d) steps from the loss it is over 100 times smaller than 1 step away (\(moment)).",
                                    measured: "log10 g(1)/g(\(d)) = \(rnn.text())", verdict: SeedComparison.above(rnn, 2)))
                for other in [Architecture.lstm, .gru, .transformer] {
                    guard let value = ratios(other, trained) else { continue }
                    claims.append(Claim("\(other.rawValue) keeps more gradient over \(d) steps than the vanilla RNN (\(moment)).",
                                        measured: "log10 g(1)/g(\(d)): \(other.rawValue) \(value.text()), RNN \(rnn.text())",
                                        verdict: SeedComparison.lower(value, than: rnn, absoluteTie: tieDecades)))
                }
            }
            if let transformer = ratios(.transformer, trained) {
                claims.append(Claim("The Transformer's gradient does not vanish: \(d) steps from the loss it is less than \(formatted(nonVanishingRatio)) times smaller than 1 step away (\(moment)).",
                                    measured: "log10 g(1)/g(\(d)) = \(transformer.text())", verdict: SeedComparison.below(transformer, Foundation.log10(nonVanishingRatio))))
            }
            if let unit = ratios(.lstm, trained), let pytorch = ratios(.lstm, trained, pytorch: true) {
                claims.append(Claim("Finding: the LSTM with forget-gate bias 1 keeps more gradient over \(d) steps than with PyTorch's default initialisation (\(moment)).",
                                    measured: "log10 g(1)/g(\(d)): bias 1 \(unit.text()), PyTorch init \(pytorch.text())",
                                    verdict: SeedComparison.lower(unit, than: pytorch, absoluteTie: tieDecades)))
            }
        }
        return claims
    }
}
