import Foundation
import SequentNN
import SequentTensor
import SequentTrain

/// Experiment 2: which architecture solves the adding problem and the copy-memory task at
/// which lag, with the same parameter budget, batch size and number of steps for each, over
/// several seeds, each model at the learning rate its own sweep chose.
///
/// Each task has a memoryless baseline, the loss of the best answer that remembers nothing:
/// the adding problem's constant answer 1 (MSE 1/6), copy memory's blanks followed by
/// uniform guesses (10 ln 8 / (T + 20) nats per step). A run has **solved** the task when
/// its held-out loss (256 sequences, measured every `evaluationEvery` steps; the run stops
/// at the first evaluation that finds it solved) is below 5% of that baseline. A seed goes on
/// to a longer length only if it solved the shorter one.
public struct LongLagExperiment {
    public enum Task: String, Sendable, CaseIterable {
        case adding = "adding problem"
        case copy = "copy memory"

        var metricName: String { self == .adding ? "held-out MSE" : "held-out cross-entropy (nats per step)" }
        var shortName: String { self == .adding ? "adding" : "copy" }

        /// The memoryless loss at length (lag) `length`.
        func baseline(length: Int) -> Double {
            self == .adding ? AddingProblem.baselineMSE : CopyMemoryTask(lag: length).baselineLoss
        }

        /// The loss below which the task counts as solved.
        func threshold(length: Int) -> Double { LongLagExperiment.solvedFraction * baseline(length: length) }

        func solves(_ loss: Double, length: Int) -> Bool { loss < threshold(length: length) }
    }

    /// A run solves a task below this fraction of the memoryless baseline loss.
    public static let solvedFraction = 0.05

    /// One training run: an architecture on a task at a length, with one seed.
    public struct Run: Sendable {
        public var task: Task
        public var architecture: Architecture
        public var length: Int
        public var seed: UInt64
        public var size: ModelSize
        /// "H = 32", "D = 16, 2 layers, 1 head".
        public var sizeDescription: String
        public var parameterCount: Int
        /// (step, held-out loss) at every evaluation.
        public var curve: [(step: Int, metric: Double)]
        /// Copy memory: the share of recalled symbols right at the last evaluation.
        public var recallAccuracy: Double?
        public var seconds: Double
        /// The loss at the last evaluation: after the last step, or where the run was solved.
        public var finalMetric: Double { curve.last?.metric ?? .nan }
        public var solved: Bool { task.solves(finalMetric, length: length) }
        /// The steps trained: the budget, or fewer when an evaluation found the task solved.
        public var steps: Int { curve.last?.step ?? 0 }
    }

    public struct Result: Sendable {
        public var runs: [Run]
        /// The learning-rate sweeps, by task.
        public var sweeps: [Task: [LearningRateSweep]] = [:]

        /// The longest length `architecture` solved `task` at, one value per seed (0 where
        /// none); nil if not run.
        public func maxSolved(_ task: Task, _ architecture: Architecture) -> SeedValues? {
            let mine = runs.filter { $0.task == task && $0.architecture == architecture }
            guard !mine.isEmpty else { return nil }
            let seeds = mine.map(\.seed).reduce(into: [UInt64]()) { if !$0.contains($1) { $0.append($1) } }
            return SeedValues(seeds.map { seed in Double(mine.filter { $0.seed == seed && $0.solved }.map(\.length).max() ?? 0) })
        }

        /// The runs of `architecture` on `task` at `length` (one per seed).
        public func runs(_ task: Task, _ architecture: Architecture, length: Int) -> [Run] {
            runs.filter { $0.task == task && $0.architecture == architecture && $0.length == length }
        }

        /// The lengths of `task` the run was set to try (some not trained where no seed solved a
        /// shorter one).
        public var plannedLengths: [Task: [Int]] = [:]

        public func lengths(_ task: Task) -> [Int] {
            plannedLengths[task] ?? Array(Set(runs.filter { $0.task == task }.map(\.length))).sorted()
        }
    }

    let settings: LabSettings
    let progress: LabProgress

    public init(settings: LabSettings, progress: LabProgress) {
        self.settings = settings
        self.progress = progress
    }

    public func run() throws -> Result {
        var result = Result(runs: [])
        for (task, lengths) in [(Task.adding, settings.addingLengths), (.copy, settings.copyLags)] where !lengths.isEmpty {
            // The sweep: every architecture, every candidate rate, the same steps, at the
            // shortest length, on a seed the measured runs do not use.
            let sweepLength = Self.sweepLength(lengths)
            result.plannedLengths[task] = lengths
            var rates: [Architecture: Float] = [:]
            var sweeps: [LearningRateSweep] = []
            for architecture in Architecture.allCases {
                let sweep = try LearningRateSweep.run(architecture.rawValue, candidates: settings.sweepRates) { rate in
                    progress("long lags: \(task.rawValue), learning-rate sweep at T = \(sweepLength), \(architecture.rawValue), lr \(formatted(Double(rate)))")
                    return try train(task, architecture, length: sweepLength, seed: LabSettings.sweepSeed, learningRate: rate,
                                     steps: settings.longLagSweepSteps, stopsWhenSolved: false).finalMetric
                }
                rates[architecture] = sweep.chosen
                sweeps.append(sweep)
            }
            result.sweeps[task] = sweeps
            for (index, length) in lengths.enumerated() {
                for architecture in Architecture.allCases {
                    for seed in settings.seeds {
                        // A seed goes on to a longer lag only if it solved the shorter one.
                        if index > 0, !result.runs(task, architecture, length: lengths[index - 1]).contains(where: { $0.seed == seed && $0.solved }) {
                            progress("long lags: \(task.rawValue), length \(length), \(architecture.rawValue), seed \(seed): not trained (T = \(lengths[index - 1]) unsolved)")
                            continue
                        }
                        progress("long lags: \(task.rawValue), length \(length), \(architecture.rawValue), seed \(seed)")
                        result.runs.append(try train(task, architecture, length: length, seed: seed, learningRate: rates[architecture]!,
                                                     steps: settings.longLagSteps, stopsWhenSolved: true))
                    }
                }
            }
        }
        return result
    }

    /// The length the learning rates are swept at: the shortest, where every model learns
    /// within a sweep's few steps. At longer lags a short trial's loss sits on the memoryless
    /// plateau for every rate, and the sweep would choose on noise (the full run of
    /// 2026-12-06 gave the LSTM 1e-3 that way, at T = 50, and it then solved no length).
    static func sweepLength(_ lengths: [Int]) -> Int { lengths[0] }

    /// The forget-gate initialisation of an LSTM on `task` at `length`.
    func forgetGate(_ task: Task, length: Int) -> ForgetGateInitialisation {
        guard settings.longLagChrono else { return .unitBias }
        return .chrono(maximumLag: task == .adding ? length : CopyMemoryTask(lag: length).totalLength)
    }

    /// Trains one model; the held-out set depends on the length only, so every model and
    /// seed is measured on the same sequences (the sweep's validation set is another one).
    func train(_ task: Task, _ architecture: Architecture, length: Int, seed: UInt64, learningRate: Float, steps: Int,
               stopsWhenSolved: Bool) throws -> Run {
        let copy = CopyMemoryTask(lag: length)
        let adding = AddingProblem(length: length)
        let (inputSize, outputSize) = task == .adding ? (2, 1) : (copy.tokenCount, copy.tokenCount)
        let family = ModelFamily(architecture, inputSize: inputSize, outputSize: outputSize)
        let size = family.size(closestTo: settings.parameterBudget)
        var generator = RandomGenerator(seed: seed &* 1000 &+ UInt64(length))
        let model = try family.model(size, forgetGate: forgetGate(task, length: length), generator: &generator)
        var heldOutGenerator = RandomGenerator(seed: (seed == LabSettings.sweepSeed ? 9191 : 4242) &+ UInt64(length))
        let heldOutAdding = adding.batch(256, &heldOutGenerator)
        let heldOutCopy = copy.batch(256, &heldOutGenerator)
        var accuracy: Double?

        func evaluate() throws -> [String: Double] {
            switch task {
            case .adding:
                return ["loss": Double(try Loss.meanSquaredError(try model.lastStep(heldOutAdding.input), heldOutAdding.target).item)]
            case .copy:
                let logits = try model.everyStep(heldOutCopy.input)  // (B, L, V)
                let loss = try Loss.crossEntropy(logits: logits, targets: heldOutCopy.targets)
                let (L, V, K) = (copy.totalLength, copy.tokenCount, copy.symbolCount)
                let scalars = logits.scalars
                var correct = 0
                for b in 0..<256 {
                    for t in (L - K)..<L {
                        let offset = (b * L + t) * V
                        var best = 0
                        for v in 1..<V where scalars[offset + v] > scalars[offset + best] { best = v }
                        if best == heldOutCopy.targets[b * L + t] { correct += 1 }
                    }
                }
                accuracy = Double(correct) / Double(256 * K)
                return ["loss": Double(loss.item), "recall_accuracy": accuracy!]
            }
        }

        let training = LabTraining(learningRate: learningRate, steps: steps, evaluationInterval: settings.evaluationEvery)
        let batch = settings.longLagBatch
        let data = RandomGenerator(seed: seed &* 77 &+ UInt64(length))
        let solved: (([String: Double]) -> Bool)? = stopsWhenSolved ? { task.solves($0["loss"] ?? .nan, length: length) } : nil
        let outcome: LabTraining.Outcome
        switch task {
        case .adding:
            outcome = try training.run(model, data: GeneratedBatches(generator: data) { adding.batch(batch, &$0) },
                                       validation: evaluate, evaluatesAtStart: true, stop: solved) { batch in
                (try Loss.meanSquaredError(try model.lastStep(batch.input), batch.target), batch.input.shape[0])
            }
        case .copy:
            outcome = try training.run(model, data: GeneratedBatches(generator: data) { copy.batch(batch, &$0) },
                                       validation: evaluate, evaluatesAtStart: true, stop: solved) { batch in
                (try Loss.crossEntropy(logits: try model.everyStep(batch.input), targets: batch.targets), batch.targets.count)
            }
        }
        return Run(task: task, architecture: architecture, length: length, seed: seed, size: size,
                   sizeDescription: family.sizeDescription(size), parameterCount: model.parameterCount,
                   curve: outcome.evaluations.map { ($0.step, $0.metrics["loss"] ?? .nan) }, recallAccuracy: accuracy,
                   seconds: outcome.seconds)
    }

    public static func section(_ result: Result, settings: LabSettings) -> ReportSection {
        var section = ReportSection(title: "2. Long lags: the adding problem and copy memory")
        let lstm = settings.longLagChrono ? "chrono initialisation (Tallec and Ollivier 2018, T_max = the sequence length)" : "forget-gate bias 1"
        section.paragraph("""
            Every model has about \(settings.parameterBudget) parameters (recurrent layer or Transformer encoder, plus \
            linear head; the sizes below differ so that the counts match), and the same budget: at most \
            \(settings.longLagSteps) Adam steps (gradient norm clipped to 1) on batches of \(settings.longLagBatch) fresh \
            sequences, seeds \(settings.seeds.map(String.init).joined(separator: ", ")) (initial weights and data). The LSTM \
            starts with \(lstm). Each model's learning rate is chosen by its own sweep (below): the same candidate rates, \
            \(settings.longLagSweepSteps) steps each, at the shortest length (where every model learns within the sweep's steps), on another seed, scored on another held-out set. \
            The Transformer: a linear input projection plus \
            sinusoidal positions (no parameters), N pre-norm encoder layers (heads of width \(ModelFamily.headWidth), GELU, \
            F = \(ModelFamily.feedForwardRatio) D), a final LayerNorm and the head, D and N chosen for the budget. It is \
            causal on both tasks (step t attends to steps 0...t, what a recurrent layer has read by then). \
            **Adding problem** (Hochreiter and Schmidhuber 1997): two marked values in [0, 1) among T, one in each half; \
            the memoryless baseline (always answering 1) has MSE 1/6 = 0.167. **Copy memory** (Arjovsky, Shah and Bengio 2016): \
            10 symbols from 8 categories, then T blanks (the last a delimiter), then the 10 symbols to recall: T + 20 steps; \
            the memoryless baseline (blanks, then uniform guesses) has cross-entropy 10 ln 8 / (T + 20) nats per step. \
            **Solved** means a held-out loss (256 sequences) below \(formatted(100 * solvedFraction))% of the memoryless \
            baseline, measured every \(settings.evaluationEvery) steps; a run stops at the first evaluation that finds the \
            task solved (its step is shown). The lengths are tried from the shortest, and a seed goes on to a longer T only \
            if it solved the shorter one (a model that does not bridge T is not expected to bridge a longer lag within the same \
            steps; this spares the runs that could only fail): "longest T solved" is the last length of that chain. \
            Verdicts: \(SeedComparison.rule).
            """)
        var jsonTasks: [(String, JSONValue)] = []
        for task in Task.allCases {
            let lengths = result.lengths(task)
            guard !lengths.isEmpty else { continue }
            if let sweeps = result.sweeps[task] {
                section.paragraph("**\(task.rawValue.capitalized): learning-rate sweep** (\(task.metricName) after \(settings.longLagSweepSteps) steps at T = \(Self.sweepLength(lengths)); the chosen rate in bold).")
                section.table(LearningRateSweep.table(sweeps, lossName: task.metricName))
            }
            var rows: [[String]] = []
            for length in lengths {
                var row = ["\(length)", formatted(task.baseline(length: length))]
                for architecture in Architecture.allCases {
                    let runs = result.runs(task, architecture, length: length)
                    guard !runs.isEmpty else {
                        row.append("not trained (no seed solved a shorter T)")
                        continue
                    }
                    let loss = SeedValues(runs.map(\.finalMetric))
                    let solved = runs.filter(\.solved)
                    var cell = "\(loss.text()); solved \(solved.count)/\(runs.count)"
                    if !solved.isEmpty { cell += " (steps \(solved.map { String($0.steps) }.joined(separator: ", ")))" }
                    if task == .copy { cell += "; recall \(SeedValues(runs.compactMap(\.recallAccuracy).map { 100 * $0 }).text())%" }
                    if runs.count < settings.seeds.count { cell += "; \(settings.seeds.count - runs.count) seed(s) not trained (a shorter T unsolved)" }
                    row.append(cell)
                }
                rows.append(row)
            }
            section.paragraph("**\(task.rawValue.capitalized)**: \(task.metricName) at the last evaluation (mean ± sd over seeds), and how many seeds solved it, by length T.")
            section.table(ReportTable(header: ["T", "memoryless baseline"] + Architecture.allCases.map(\.rawValue), rows: rows))
            let sizes = Architecture.allCases.compactMap { a in
                result.runs.first { $0.task == task && $0.architecture == a }.map { "\(a.rawValue) \($0.sizeDescription) (\($0.parameterCount) parameters)" }
            }.joined(separator: ", ")
            section.paragraph("Sizes: \(sizes).")
            // Learning curves: one chart per length, the first seed's runs.
            for length in lengths where result.runs.contains(where: { $0.task == task && $0.length == length }) {
                let series = Architecture.allCases.compactMap { a -> LineSeries? in
                    guard let run = result.runs(task, a, length: length).first else { return nil }
                    return LineSeries(name: a.rawValue, points: run.curve.map { (x: Double($0.step), y: $0.metric) })
                }
                let baseline = task.baseline(length: length)
                let chart = LineChart(title: "\(task.rawValue.capitalized), T = \(length): learning curves (seed \(settings.seeds.first ?? 0))",
                                      x: Axis("training step"), y: Axis(task.metricName, scale: .log), series: series,
                                      references: [("memoryless \(formatted(baseline))", baseline),
                                                   ("solved below \(formatted(task.threshold(length: length)))", task.threshold(length: length))])
                section.figure("\(task.shortName)_T\(length)", "\(task.rawValue.capitalized), T = \(length): \(task.metricName) during training (first seed).", chart.svg)
            }
            jsonTasks.append((task.rawValue, .object([
                ("sweep", .array((result.sweeps[task] ?? []).map(\.json))),
                ("runs", .array(result.runs.filter { $0.task == task }.map { run in
                    .object([("architecture", .string(run.architecture.rawValue)), ("length", .number(Double(run.length))), ("seed", .number(Double(run.seed))),
                             ("width", .number(Double(run.size.width))), ("layers", .number(Double(run.size.layerCount))), ("size", .string(run.sizeDescription)),
                             ("parameters", .number(Double(run.parameterCount))), ("baseline", .of(task.baseline(length: run.length))),
                             ("final_loss", .of(run.finalMetric)), ("recall_accuracy", .of(run.recallAccuracy)), ("solved", .bool(run.solved)),
                             ("steps", .number(Double(run.steps))), ("seconds", .of(run.seconds)),
                             ("curve", .array(run.curve.map { .array([.number(Double($0.step)), .of($0.metric)]) }))])
                })),
            ])))
        }
        section.claims(claims(result))
        section.results = .object(jsonTasks)
        return section
    }

    static func claims(_ result: Result) -> [Claim] {
        var claims: [Claim] = []
        for task in Task.allCases where !result.lengths(task).isEmpty {
            guard let rnn = result.maxSolved(task, .rnn), let lstm = result.maxSolved(task, .lstm), let gru = result.maxSolved(task, .gru),
                  let transformer = result.maxSolved(task, .transformer) else { continue }
            let measured = "longest T solved (mean ± sd over seeds; 0 = none): RNN \(rnn.text()), LSTM \(lstm.text()), GRU \(gru.text()), Transformer \(transformer.text())"
            claims.append(Claim("On the \(task.rawValue), the LSTM bridges longer lags than the vanilla RNN.", measured: measured,
                                verdict: SeedComparison.higher(lstm, than: rnn)))
            claims.append(Claim("On the \(task.rawValue), the GRU bridges longer lags than the vanilla RNN.", measured: measured,
                                verdict: SeedComparison.higher(gru, than: rnn)))
            // "Matches" is a claim of equality: it fails only when one is longer beyond the spread.
            let apart = SeedComparison.higher(gru, than: lstm) != .inconclusive || SeedComparison.higher(lstm, than: gru) != .inconclusive
            claims.append(Claim("On the \(task.rawValue), the GRU matches the LSTM (the longest lags solved agree within the seeds' spread).",
                                measured: measured, verdict: gru.count < 2 ? .inconclusive : .from(!apart)))
            let bestRecurrent = [rnn, lstm, gru].max { $0.mean < $1.mean }!
            let behind = SeedComparison.lower(transformer, than: bestRecurrent) == .held
            claims.append(Claim("On the \(task.rawValue), the Transformer bridges lags at least as long as the best recurrent model.",
                                measured: measured, verdict: transformer.count < 2 ? .inconclusive : .from(!behind)))
        }
        return claims
    }
}
