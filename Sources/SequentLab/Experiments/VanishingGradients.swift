import Foundation
import SequentNN
import SequentTensor
import SequentTrain

/// Experiment 1: how ||dLoss/dh_t|| falls with the distance between step t and the loss,
/// for a vanilla RNN (tanh), an LSTM, a GRU and a Transformer of the same width, at
/// initialisation and after training on the adding problem.
///
/// The loss reads only the last step (the adding problem's MSE), so step t is T-1-t steps
/// from it. h_t is the hidden state of a recurrent layer (its gradient probe measures it)
/// and the input representation (projection plus position) of the Transformer. The norms
/// (L2 over batch and width) are averaged over seeds geometrically (they span decades).
public struct VanishingGradientsExperiment {
    /// The mean norm at each distance 0...T-1, for one architecture at one moment.
    public struct Curve: Sendable {
        public var architecture: Architecture
        public var trained: Bool
        public var normByDistance: [Double]

        /// g(1) / g(d): how many times smaller the gradient is d steps from the loss than 1
        /// step from it (infinity if it underflowed to 0).
        public func ratio(distance d: Int) -> Double? {
            guard d < normByDistance.count, normByDistance.count > 1 else { return nil }
            let near = normByDistance[1], far = normByDistance[d]
            return far > 0 ? near / far : .infinity
        }
    }

    public struct Result: Sendable {
        public var curves: [Curve]
        /// The adding-problem MSE after training, per architecture (mean over seeds).
        public var trainedMSE: [Architecture: Double]
        public var distances: [Int]

        public func curve(_ architecture: Architecture, trained: Bool) -> Curve? {
            curves.first { $0.architecture == architecture && $0.trained == trained }
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

    public func run() throws -> Result {
        let T = settings.gradientLength, W = settings.gradientWidth
        let task = AddingProblem(length: T)
        var curves: [Curve] = []
        var trainedMSE: [Architecture: Double] = [:]
        for architecture in Architecture.allCases {
            let family = ModelFamily(architecture, inputSize: 2, outputSize: 1)
            let size = ModelSize(width: W, layerCount: architecture == .transformer ? settings.gradientTransformerLayers : 1)
            var initial: [[Double]] = [], trained: [[Double]] = [], mse: [Double] = []
            for seed in settings.seeds {
                progress("vanishing gradients: \(architecture.rawValue), seed \(seed), T = \(T), \(family.sizeDescription(size))")
                var generator = RandomGenerator(seed: seed)
                let model = try family.model(size, generator: &generator)
                var data = RandomGenerator(seed: 1000 + seed)
                let probeBatch = task.batch(64, &data)
                initial.append(try probe(model, probeBatch))
                let optimizer = try Adam(namedParameters: model.namedParameters(), learningRate: 3e-3)
                for _ in 0..<settings.gradientTrainingSteps {
                    let batch = task.batch(32, &data)
                    let loss = try Loss.meanSquaredError(try model.lastStep(batch.input), batch.target)
                    loss.backward()
                    _ = try clipGradientNorm(optimizer.parameters, maxNorm: 1)
                    optimizer.step()
                    optimizer.zeroGradients()
                }
                trained.append(try probe(model, probeBatch))
                mse.append(Double(try withoutGradients {
                    try Loss.meanSquaredError(try model.lastStep(probeBatch.input), probeBatch.target).item
                }))
            }
            // A norm that underflowed to 0 in any seed makes the mean 0 (left out of the log plot).
            func average(_ runs: [[Double]]) -> [Double] {
                (0..<T).map { d in runs.contains { $0[d] == 0 } ? 0 : geometricMean(runs.map { $0[d] }) }
            }
            curves.append(Curve(architecture: architecture, trained: false, normByDistance: average(initial)))
            curves.append(Curve(architecture: architecture, trained: true, normByDistance: average(trained)))
            trainedMSE[architecture] = mse.reduce(0, +) / Double(mse.count)
        }
        return Result(curves: curves, trainedMSE: trainedMSE, distances: distances)
    }

    /// ||dLoss/dh_t|| by distance T-1-t from the loss, for one batch.
    private func probe(_ model: any SequenceModel, _ batch: (input: Tensor, target: Tensor)) throws -> [Double] {
        // Loss scaling (as mixed-precision training does): the backward pass runs on
        // 2^50 times the loss, so norms down to ~1e-34 of the loss's gradient stay above
        // Float32's smallest normal number instead of underflowing; the scale is divided out.
        let lossScale: Float = 0x1p50
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
            \(settings.gradientTransformerLayers) causal pre-norm layers and heads of width \(ModelFamily.headWidth); PyTorch's initialisation) reads an adding-problem sequence \
            of T = \(T) steps; the loss is the MSE of its last step only, so step t lies T-1-t steps from the loss. \
            h_t is the recurrent layer's hidden state at step t (measured by the layer's gradient probe) and, for the \
            Transformer, its representation of step t after the input projection and the positions, before the first \
            layer. ||dLoss/dh_t|| is the L2 norm over a batch of 64 and the width, at initialisation \
            and after \(settings.gradientTrainingSteps) Adam steps on the same task, geometric mean over seeds \
            \(settings.seeds.map(String.init).joined(separator: ", ")). A norm that underflowed to 0 in Float32 (in any seed) is \
            left out of the plot and makes the ratio "inf". The backward pass of the probe runs on the loss scaled by 2^50 (the \
            scale divided out again), so that norms down to about 1e-34 are measured rather than lost to underflow.
            """)
        for trained in [false, true] {
            let series = result.curves.filter { $0.trained == trained }.map { curve in
                LineSeries(name: curve.architecture.rawValue,
                           points: curve.normByDistance.enumerated().map { (x: Double($0.offset), y: $0.element) })
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
            rows.append([curve.architecture.rawValue, curve.trained ? "after training" : "initialisation"]
                + result.distances.map { formatted(curve.ratio(distance: $0)) })
        }
        section.table(ReportTable(header: ["Model", "When"] + result.distances.map { "g(1) / g(\($0))" }, rows: rows))
        section.paragraph("Adding-problem MSE after training (baseline 0.167): " + Architecture.allCases.map {
            "\($0.rawValue) \(formatted(result.trainedMSE[$0]))"
        }.joined(separator: ", ") + ".")
        section.claims(claims(result))
        var json: [(String, JSONValue)] = [("length", .number(Double(T))), ("hidden", .number(Double(settings.gradientWidth)))]
        for curve in result.curves {
            json.append(("\(curve.architecture.rawValue) \(curve.trained ? "trained" : "initial")", .object([
                ("norm_by_distance", .of(curve.normByDistance)),
                ("ratios", .object(result.distances.map { ("g1/g\($0)", .of(curve.ratio(distance: $0))) })),
            ])))
        }
        json.append(("trained_mse", .object(Architecture.allCases.map { ($0.rawValue, .of(result.trainedMSE[$0])) })))
        section.results = .object(json)
        return section
    }

    /// The farthest distance of the table: where the claims are judged.
    static func judgedDistance(_ result: Result) -> Int? { result.distances.last }

    static func claims(_ result: Result) -> [Claim] {
        guard let d = judgedDistance(result) else { return [] }
        func ratio(_ a: Architecture, _ trained: Bool) -> Double? { result.curve(a, trained: trained)?.ratio(distance: d) }
        var claims: [Claim] = []
        for trained in [false, true] {
            let moment = trained ? "after training" : "at initialisation"
            if let rnn = ratio(.rnn, trained) {
                claims.append(Claim("The vanilla RNN's gradient vanishes: \(d) steps from the loss it is over 100 times smaller than 1 step away (\(moment)).",
                                    measured: "g(1)/g(\(d)) = \(formatted(rnn))", verdict: .from(rnn > 100)))
                for other in [Architecture.lstm, .gru, .transformer] {
                    guard let value = ratio(other, trained) else { continue }
                    claims.append(Claim("\(other.rawValue) keeps more gradient over \(d) steps than the vanilla RNN (\(moment)).",
                                        measured: "g(1)/g(\(d)): \(other.rawValue) \(formatted(value)), RNN \(formatted(rnn))",
                                        verdict: value.isInfinite && rnn.isInfinite ? .inconclusive : .from(value < rnn)))
                }
            }
            if let transformer = ratio(.transformer, trained) {
                claims.append(Claim("The Transformer's gradient does not vanish: \(d) steps from the loss it is less than \(formatted(nonVanishingRatio)) times smaller than 1 step away (\(moment)).",
                                    measured: "g(1)/g(\(d)) = \(formatted(transformer))", verdict: .from(transformer < nonVanishingRatio)))
            }
        }
        return claims
    }
}
