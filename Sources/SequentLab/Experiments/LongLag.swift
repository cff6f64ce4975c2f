import Foundation
import SequentNN
import SequentTensor
import SequentTrain

/// Experiment 2: which architecture solves the adding problem and the copy-memory task at
/// which lag, with the same parameter budget, batch size and number of steps for each.
///
/// Solved means, on 256 held-out sequences at an evaluation (every `evaluationEvery` steps;
/// a run stops at the first that finds it solved): adding-problem MSE below 0.01 (the
/// constant answer scores 0.167), copy-memory accuracy above 99% on the recalled symbols
/// (guessing scores 1/8).
public struct LongLagExperiment {
    public enum Task: String, Sendable, CaseIterable {
        case adding = "adding problem"
        case copy = "copy memory"

        /// The threshold a model must pass, and in which direction.
        var threshold: Double { self == .adding ? 0.01 : 0.99 }
        var metricName: String { self == .adding ? "held-out MSE" : "recall accuracy" }
        func solves(_ metric: Double) -> Bool { self == .adding ? metric < threshold : metric > threshold }
    }

    /// One training run: an architecture on a task at a length.
    public struct Run: Sendable {
        public var task: Task
        public var architecture: Architecture
        public var length: Int
        public var size: ModelSize
        /// "H = 32", "D = 16, 2 layers, 1 head".
        public var sizeDescription: String
        public var parameterCount: Int
        /// (step, metric) at every evaluation.
        public var curve: [(step: Int, metric: Double)]
        public var seconds: Double
        /// The metric at the last evaluation: after the last step, or where the run was solved.
        public var finalMetric: Double { curve.last?.metric ?? .nan }
        public var solved: Bool { task.solves(finalMetric) }
        /// The steps trained: the budget, or fewer when an evaluation found the task solved.
        public var steps: Int { curve.last?.step ?? 0 }
    }

    public struct Result: Sendable {
        public var runs: [Run]

        /// The longest length `architecture` solved `task` at (0 if none; nil if not run).
        public func maxSolved(_ task: Task, _ architecture: Architecture) -> Int? {
            let mine = runs.filter { $0.task == task && $0.architecture == architecture }
            guard !mine.isEmpty else { return nil }
            return mine.filter(\.solved).map(\.length).max() ?? 0
        }

        /// The run of `architecture` on `task` at `length`, if any.
        public func run(_ task: Task, _ architecture: Architecture, length: Int) -> Run? {
            runs.first { $0.task == task && $0.architecture == architecture && $0.length == length }
        }

        public func lengths(_ task: Task) -> [Int] { Array(Set(runs.filter { $0.task == task }.map(\.length))).sorted() }
    }

    let settings: LabSettings
    let progress: LabProgress

    public init(settings: LabSettings, progress: LabProgress) {
        self.settings = settings
        self.progress = progress
    }

    /// Adam's learning rate: 0.01 for the recurrent models, 0.003 for the Transformer (at
    /// 0.01 it stalls on copy memory; at 0.003 the recurrent models learn copy memory more
    /// slowly than at 0.01).
    static func learningRate(_ architecture: Architecture) -> Float {
        architecture == .transformer ? 3e-3 : 1e-2
    }

    public func run() throws -> Result {
        var runs: [Run] = []
        for (task, lengths) in [(Task.adding, settings.addingLengths), (.copy, settings.copyLags)] {
            for length in lengths {
                for architecture in Architecture.allCases {
                    progress("long lags: \(task.rawValue), length \(length), \(architecture.rawValue)")
                    runs.append(try train(task, architecture, length: length))
                }
            }
        }
        return Result(runs: runs)
    }

    func train(_ task: Task, _ architecture: Architecture, length: Int) throws -> Run {
        let copy = CopyMemoryTask(lag: length)
        let adding = AddingProblem(length: length)
        let (inputSize, outputSize) = task == .adding ? (2, 1) : (copy.tokenCount, copy.tokenCount)
        let family = ModelFamily(architecture, inputSize: inputSize, outputSize: outputSize)
        let size = family.size(closestTo: settings.parameterBudget)
        var generator = RandomGenerator(seed: settings.seeds[0] &+ UInt64(length))
        let model = try family.model(size, generator: &generator)
        let optimizer = try Adam(namedParameters: model.namedParameters(), learningRate: LongLagExperiment.learningRate(architecture))
        var data = RandomGenerator(seed: 77 &+ UInt64(length))
        var heldOutGenerator = RandomGenerator(seed: 4242 &+ UInt64(length))
        let heldOutAdding = adding.batch(256, &heldOutGenerator)
        let heldOutCopy = copy.batch(256, &heldOutGenerator)

        func evaluate() throws -> Double {
            try withoutGradients {
                switch task {
                case .adding:
                    return Double(try Loss.meanSquaredError(try model.lastStep(heldOutAdding.input), heldOutAdding.target).item)
                case .copy:
                    let logits = try model.everyStep(heldOutCopy.input)  // (B, L, V)
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
                    return Double(correct) / Double(256 * K)
                }
            }
        }

        var curve: [(step: Int, metric: Double)] = [(0, try evaluate())]
        let (_, seconds) = try timed {
            for step in 1...settings.longLagSteps {
                let loss: Tensor
                switch task {
                case .adding:
                    let batch = adding.batch(settings.longLagBatch, &data)
                    loss = try Loss.meanSquaredError(try model.lastStep(batch.input), batch.target)
                case .copy:
                    let batch = copy.batch(settings.longLagBatch, &data)
                    loss = try Loss.crossEntropy(logits: try model.everyStep(batch.input), targets: batch.targets)
                }
                loss.backward()
                _ = try clipGradientNorm(optimizer.parameters, maxNorm: 1)
                optimizer.step()
                optimizer.zeroGradients()
                if step % settings.evaluationEvery == 0 || step == settings.longLagSteps {
                    curve.append((step, try evaluate()))
                    if task.solves(curve.last!.metric) { break }  // solved within the budget: the rest would be spent for nothing
                }
            }
        }
        return Run(task: task, architecture: architecture, length: length, size: size, sizeDescription: family.sizeDescription(size),
                   parameterCount: model.parameterCount, curve: curve, seconds: seconds)
    }

    public static func section(_ result: Result, settings: LabSettings) -> ReportSection {
        var section = ReportSection(title: "2. Long lags: the adding problem and copy memory")
        section.paragraph("""
            Every model has about \(settings.parameterBudget) parameters (recurrent layer or Transformer encoder, plus \
            linear head; the sizes below differ so that the counts match), and the same budget: at most \
            \(settings.longLagSteps) Adam steps (learning rate 0.01, 0.003 for the Transformer; gradient norm clipped to \
            1) on batches of \(settings.longLagBatch) fresh sequences. The Transformer: a linear input projection plus \
            sinusoidal positions (no parameters), N pre-norm encoder layers (heads of width \(ModelFamily.headWidth), GELU, \
            F = \(ModelFamily.feedForwardRatio) D), a final LayerNorm and the head, D and N chosen for the budget. It is \
            causal on both tasks (step t attends to steps 0...t, what a recurrent layer has read by then): the adding \
            problem reads its answer at the last position (which sees the whole sequence, as the recurrent models' last \
            step does), copy memory at every position. \
            Adding problem: two marked values in [0, 1) among T, one in each half; solved if the held-out MSE is \
            below 0.01 (answering the mean scores 0.167). Copy memory: 5 symbols of 8, a lag of T steps, recall the 5; \
            solved if over 99% of the recalled symbols are right (guessing: 12.5%). Measured on 256 held-out sequences \
            every \(settings.evaluationEvery) steps; a run stops at the first evaluation that finds the task solved (its \
            step is shown), else after the last step.
            """)
        var jsonTasks: [(String, JSONValue)] = []
        for task in Task.allCases {
            let lengths = result.lengths(task)
            guard !lengths.isEmpty else { continue }
            var rows: [[String]] = []
            for length in lengths {
                var row = ["\(length)"]
                for architecture in Architecture.allCases {
                    guard let run = result.run(task, architecture, length: length) else {
                        row.append("not run")
                        continue
                    }
                    let value = task == .adding ? formatted(run.finalMetric) : String(format: "%.1f%%", 100 * run.finalMetric)
                    row.append(run.solved ? "\(value) solved (step \(run.steps))" : "\(value) not solved")
                }
                rows.append(row)
            }
            section.paragraph("**\(task.rawValue.capitalized)**: \(task.metricName) at the last evaluation (after \(settings.longLagSteps) steps, or when solved), by length T.")
            section.table(ReportTable(header: ["T"] + Architecture.allCases.map(\.rawValue), rows: rows))
            let sizes = Architecture.allCases.compactMap { a in
                result.runs.first { $0.task == task && $0.architecture == a }.map { "\(a.rawValue) \($0.sizeDescription) (\($0.parameterCount) parameters)" }
            }.joined(separator: ", ")
            section.paragraph("Sizes: \(sizes).")
            // Learning curves: one chart per length.
            for length in lengths {
                let series = Architecture.allCases.compactMap { a -> LineSeries? in
                    guard let run = result.run(task, a, length: length) else { return nil }
                    return LineSeries(name: a.rawValue, points: run.curve.map { (x: Double($0.step), y: $0.metric) })
                }
                let chart = task == .adding
                    ? LineChart(title: "Adding problem, T = \(length): learning curves", x: Axis("training step"),
                                y: Axis("held-out MSE", scale: .log), series: series,
                                references: [("baseline 0.167", AddingProblem.baselineMSE), ("solved below 0.01", 0.01)])
                    : LineChart(title: "Copy memory, lag \(length): learning curves", x: Axis("training step"),
                                y: Axis("recall accuracy (fraction)", range: 0...1), series: series,
                                references: [("chance 0.125", 0.125), ("solved above 0.99", 0.99)])
                let name = (task == .adding ? "adding" : "copy") + "_T\(length)"
                section.figure(name, "\(task.rawValue.capitalized), T = \(length): \(task.metricName) during training.", chart.svg)
            }
            jsonTasks.append((task.rawValue, .array(result.runs.filter { $0.task == task }.map { run in
                .object([("architecture", .string(run.architecture.rawValue)), ("length", .number(Double(run.length))),
                         ("width", .number(Double(run.size.width))), ("layers", .number(Double(run.size.layerCount))), ("size", .string(run.sizeDescription)), ("parameters", .number(Double(run.parameterCount))),
                         ("final", .of(run.finalMetric)), ("solved", .bool(run.solved)), ("steps", .number(Double(run.steps))), ("seconds", .of(run.seconds)),
                         ("curve", .array(run.curve.map { .array([.number(Double($0.step)), .of($0.metric)]) }))])
            })))
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
            let measured = "longest T solved: RNN \(rnn), LSTM \(lstm), GRU \(gru), Transformer \(transformer) (0 = none)"
            let anyRecurrentSolved = max(rnn, lstm, gru) > 0
            claims.append(Claim("On the \(task.rawValue), the LSTM bridges longer lags than the vanilla RNN.", measured: measured,
                                verdict: anyRecurrentSolved ? .from(lstm > rnn) : .inconclusive))
            claims.append(Claim("On the \(task.rawValue), the GRU bridges longer lags than the vanilla RNN.", measured: measured,
                                verdict: anyRecurrentSolved ? .from(gru > rnn) : .inconclusive))
            claims.append(Claim("On the \(task.rawValue), the GRU matches the LSTM (solves the same longest lag).", measured: measured,
                                verdict: anyRecurrentSolved ? .from(gru == lstm) : .inconclusive))
            claims.append(Claim("On the \(task.rawValue), the Transformer bridges lags at least as long as the best recurrent model.",
                                measured: measured,
                                verdict: anyRecurrentSolved || transformer > 0 ? .from(transformer >= max(rnn, lstm, gru)) : .inconclusive))
        }
        return claims
    }
}
