import Foundation
import SequentNN
import SequentTensor
import SequentTrain

/// Experiment 1: how ||dLoss/dh_t|| falls with the distance between step t and the loss,
/// for a vanilla RNN (tanh), an LSTM and a GRU of the same hidden size, at initialisation
/// and after training on the adding problem.
///
/// The loss reads only the last step (the adding problem's MSE), so step t is T-1-t steps
/// from it. The norms come from the layer's gradient probe (L2 over batch and hidden units)
/// and are averaged over seeds geometrically (they span decades).
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

    public func run() throws -> Result {
        let T = settings.gradientLength, H = settings.gradientHidden
        let task = AddingProblem(length: T)
        var curves: [Curve] = []
        var trainedMSE: [Architecture: Double] = [:]
        for architecture in Architecture.recurrent {
            guard let cell = architecture.cell else { continue }
            var initial: [[Double]] = [], trained: [[Double]] = [], mse: [Double] = []
            for seed in settings.seeds {
                progress("vanishing gradients: \(architecture.rawValue), seed \(seed), T = \(T), H = \(H)")
                var generator = RandomGenerator(seed: seed)
                let model = try SequenceModel(cell: cell, inputSize: 2, hiddenSize: H, outputSize: 1, generator: &generator)
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
    private func probe(_ model: SequenceModel, _ batch: (input: Tensor, target: Tensor)) throws -> [Double] {
        let probe = RecurrentGradientProbe()
        model.recurrent.gradientProbe = probe
        defer { model.recurrent.gradientProbe = nil }
        // Loss scaling (as mixed-precision training does): the backward pass runs on
        // 2^50 times the loss, so norms down to ~1e-34 of the loss's gradient stay above
        // Float32's smallest normal number instead of underflowing; the scale is divided out.
        let lossScale: Float = 0x1p50
        let loss = try Loss.meanSquaredError(try model.lastStep(batch.input), batch.target)
        (loss * lossScale).backward()
        model.zeroGradients()
        return probe.norms[0][0].reversed().map { Double($0) / Double(lossScale) }
    }

    /// The report section: the plot, the ratio table and the claims with their verdicts.
    public static func section(_ result: Result, settings: LabSettings) -> ReportSection {
        var section = ReportSection(title: "1. Vanishing gradients")
        let T = settings.gradientLength
        section.paragraph("""
            Each model (hidden size \(settings.gradientHidden), PyTorch's initialisation) reads an adding-problem sequence \
            of T = \(T) steps; the loss is the MSE of its last step only, so step t lies T-1-t steps from the loss. The \
            layer's gradient probe gives ||dLoss/dh_t|| (L2 over a batch of 64 and the hidden units), at initialisation \
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
        for architecture in Architecture.allCases where !architecture.isAvailable {
            rows.append([architecture.rawValue, "-"] + result.distances.map { _ in "not yet measured" })
        }
        section.table(ReportTable(header: ["Model", "When"] + result.distances.map { "g(1) / g(\($0))" }, rows: rows))
        section.paragraph("Adding-problem MSE after training (baseline 0.167): " + Architecture.recurrent.map {
            "\($0.rawValue) \(formatted(result.trainedMSE[$0]))"
        }.joined(separator: ", ") + ".")
        section.claims(claims(result))
        var json: [(String, JSONValue)] = [("length", .number(Double(T))), ("hidden", .number(Double(settings.gradientHidden)))]
        for curve in result.curves {
            json.append(("\(curve.architecture.rawValue) \(curve.trained ? "trained" : "initial")", .object([
                ("norm_by_distance", .of(curve.normByDistance)),
                ("ratios", .object(result.distances.map { ("g1/g\($0)", .of(curve.ratio(distance: $0))) })),
            ])))
        }
        json.append(("trained_mse", .object(Architecture.recurrent.map { ($0.rawValue, .of(result.trainedMSE[$0])) })))
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
                for gated in [Architecture.lstm, .gru] {
                    guard let value = ratio(gated, trained) else { continue }
                    claims.append(Claim("\(gated.rawValue) keeps more gradient over \(d) steps than the vanilla RNN (\(moment)).",
                                        measured: "g(1)/g(\(d)): \(gated.rawValue) \(formatted(value)), RNN \(formatted(rnn))",
                                        verdict: value.isInfinite && rnn.isInfinite ? .inconclusive : .from(value < rnn)))
                }
            }
        }
        return claims
    }
}
