import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

/// Experiment 5: the four architectures on real data: character language models on a text
/// (Tiny Shakespeare by default in the full run, `--text` for any file; perplexity) and
/// one-step forecasters on `--csv --column` (MSE against the naive and seasonal-naive
/// baselines).
///
/// The language models are `sequent lm`'s (`LanguageModel`: embedding, one recurrent layer
/// and a head, or a decoder-only Transformer), over `CharacterTokenizer` ids, trained on the
/// `Trainer` with `TokenWindows` (carried-state streams for the recurrent models, random
/// windows for the Transformer, as `sequent lm train` does) and scored by
/// `LanguageModelScore`. Every model has the same parameter budget, the same steps and the
/// same sweep of learning rates, over the run's seeds; a second comparison gives each model
/// the same training time instead of the same steps.
public struct RealDataExperiment {
    let settings: LabSettings
    let inputs: LabInputs
    let progress: LabProgress

    /// Where the full run looks for Tiny Shakespeare when no `--text` is given (relative to
    /// the working directory: the repository, as the README's commands run).
    public static let defaultTextPath = "../shared/data/text/tinyshakespeare.txt"

    public init(settings: LabSettings, inputs: LabInputs, progress: LabProgress) {
        self.settings = settings
        self.inputs = inputs
        self.progress = progress
    }

    /// The text file of this run: `--text`, or Tiny Shakespeare in the full run when it is there.
    var textFile: URL? {
        if let file = inputs.textFile { return file }
        guard !settings.isQuick, FileManager.default.fileExists(atPath: Self.defaultTextPath) else { return nil }
        return URL(fileURLWithPath: Self.defaultTextPath)
    }

    public func section() throws -> ReportSection {
        var section = ReportSection(title: "5. Real data")
        var results: [(String, JSONValue)] = []
        let text = textFile
        if text == nil && inputs.csvFile == nil {
            let missing = settings.isQuick ? "" : " (the full run reads \(Self.defaultTextPath) by default; it is not there from \(FileManager.default.currentDirectoryPath))"
            section.paragraph("Not run: give `--text FILE` (character language model) and/or `--csv FILE --column NAME` (forecasting)\(missing).")
            section.claims([Claim("On real text and series, the LSTM beats the vanilla RNN.", measured: "no file given", verdict: .notMeasured)])
        }
        if let url = text {
            results.append(("text", try self.text(url, into: &section)))
        }
        if let url = inputs.csvFile, let column = inputs.csvColumn {
            results.append(("series", try series(url, column: column, into: &section)))
        }
        section.results = .object(results)
        return section
    }

    // MARK: Text

    /// The text of `--text`: one regular file (a folder, FIFO or device is refused by
    /// `InputFile`, naming what it is), checked as UTF-8 by `TextFiles` (byte, line and
    /// column of the first bad byte).
    static func readText(_ url: URL) throws -> String {
        try TextFiles.decode([UInt8](try InputFile.read(url, flag: "--text")), path: url.path)
    }

    /// The text experiment's fixed shapes: embedding E of the recurrent models, context T,
    /// batch B, and the validation tokens scored during training.
    static let (embeddingSize, context, batchSize) = (64, 64, 32)

    /// The language model of `architecture` whose parameter count comes closest to `budget`:
    /// one recurrent layer of hidden size H after an embedding of 64, or a Transformer of
    /// width D (a multiple of 16) and 1 to 4 layers (on a tie the fewer), context T.
    static func languageModel(_ architecture: Architecture, vocabularySize V: Int, budget: Int, generator: inout RandomGenerator) throws -> LanguageModel {
        let E = embeddingSize
        if let cell = architecture.cell {
            // V E + G (H E + H H + 2 H) + H V + V: solve G H^2 + (G (E + 2) + V) H = budget - V E - V for H.
            let G = Double(cell.gateCount), b = G * Double(E + 2) + Double(V), c = Double(budget - V * E - V)
            let H = max(1, Int(((-b + (b * b + 4 * G * c).squareRoot()) / (2 * G)).rounded()))
            let model = try LanguageModel(.init(cell: cell, vocabularySize: V, embeddingSize: E, hiddenSize: H, layerCount: 1, dropout: 0), generator: &generator)
            if case .recurrent(let network) = model.network { try ForgetGateInitialisation.unitBias.apply(to: network.recurrent, generator: &generator) }
            return model
        }
        var best = (width: 16, layers: 1), bestGap = Int.max
        for layers in 1...4 {
            for D in stride(from: 16, through: 1024, by: 16) {
                var probe = RandomGenerator(seed: 0)
                let count = try transformer(V, D, layers, &probe).parameterCount
                if abs(count - budget) < bestGap { (best, bestGap) = ((D, layers), abs(count - budget)) }
                if count > budget { break }
            }
        }
        return try transformer(V, best.width, best.layers, &generator)
    }

    /// A Transformer of width D and N layers, heads of width 32 (one head below D = 64), context T.
    private static func transformer(_ V: Int, _ D: Int, _ layers: Int, _ generator: inout RandomGenerator) throws -> LanguageModel {
        try LanguageModel(vocabularySize: V, width: D, layerCount: layers, headCount: max(1, D / 32), context: context, dropout: 0, generator: &generator)
    }

    /// "H = 183, E = 64" or "D = 96, 2 layers, 3 heads, context 64", with the parameter count.
    static func describe(_ model: LanguageModel) -> String {
        switch model.network {
        case .recurrent(let m): return "H = \(m.recurrent.hiddenSize), E = \(embeddingSize) (\(model.parameterCount) parameters)"
        case .transformer(let m):
            let (D, N) = (m.dModel, m.encoder.layers.count)
            return "D = \(D), \(N) layer\(N == 1 ? "" : "s"), \(max(1, D / 32)) head\(D / 32 > 1 ? "s" : ""), context \(context) (\(model.parameterCount) parameters)"
        }
    }

    /// One training run of a character language model; returns the validation curve
    /// (step, perplexity) and the model.
    func trainLanguageModel(_ architecture: Architecture, vocabularySize: Int, training: [Int], validation: [Int], seed: UInt64,
                            learningRate: Float, steps: Int, seconds: Double? = nil) throws -> (curve: [(step: Int, perplexity: Double)], model: LanguageModel, seconds: Double) {
        let (B, T) = (Self.batchSize, Self.context)
        var generator = RandomGenerator(seed: seed)
        let model = try Self.languageModel(architecture, vocabularySize: vocabularySize, budget: settings.textParameterBudget, generator: &generator)
        let windows = try TokenWindows(tokens: training, batchSize: B, time: T, order: model.isRecurrent ? .streams : .random,
                                       generator: RandomGenerator(seed: seed &+ 500))
        var carried: RecurrentState?
        let recipe = LabTraining(learningRate: learningRate, steps: steps, evaluationInterval: max(1, steps / 6))
        let outcome = try recipe.run(
            model, data: windows,
            validation: { ["loss": try LanguageModelScore.loss(model, tokens: validation, batchSize: B, context: T).loss] },
            evaluatesAtStart: true, timeLimit: seconds
        ) { batch in
            let (logits, state) = try model(batch.inputs, batchSize: batch.batchSize, time: batch.time, state: batch.startsStreams ? nil : carried)
            carried = state?.detached()
            return (try Loss.crossEntropy(logits: logits, targets: batch.targets), batch.inputs.count)
        }
        return (outcome.evaluations.map { ($0.step, Foundation.exp($0.metrics["loss"] ?? .nan)) }, model, outcome.seconds)
    }

    func text(_ url: URL, into section: inout ReportSection) throws -> JSONValue {
        let full = try Self.readText(url)
        let tokenizer = try CharacterTokenizer.train(on: full)
        // The last 10% (by characters), contiguous, held out, as nanoGPT splits Tiny Shakespeare.
        let scalars = Array(full.unicodeScalars)
        let split = scalars.count * 9 / 10
        var trainText = String.UnicodeScalarView(), heldOutText = String.UnicodeScalarView()
        trainText.append(contentsOf: scalars[..<split])
        heldOutText.append(contentsOf: scalars[split...])
        let training = try tokenizer.encode(String(trainText), path: url.path)
        let heldOut = try tokenizer.encode(String(heldOutText), path: url.path)
        let (B, T) = (Self.batchSize, Self.context)
        guard training.count > B * T + 1, heldOut.count > 2 * T else {
            throw SequentError(.malformedFile, "\(url.path): \(scalars.count) characters are too few for the lab's text experiment (it needs more than \((B * T + 1) * 10 / 9 + 1), so that the first 90% fill \(B) streams of \(T) characters)")
        }
        // Sweeps score the first half of the held-out text, the measured runs the second half.
        let sweepTokens = Array(heldOut[..<(heldOut.count / 2)]), validation = Array(heldOut[(heldOut.count / 2)...])
        let V = tokenizer.vocabularySize
        var counts = [Double](repeating: 1, count: V)
        for t in training { counts[t] += 1 }
        let total = counts.reduce(0, +)
        let unigram = Foundation.exp(-validation.dropFirst().map { Foundation.log(counts[$0] / total) }.reduce(0, +) / Double(validation.count - 1))

        var sweeps: [LearningRateSweep] = [], rates: [Architecture: Float] = [:], sizes: [String] = []
        for architecture in Architecture.allCases {
            let sweep = try LearningRateSweep.run(architecture.rawValue, candidates: settings.sweepRates) { rate in
                progress("real data: \(url.lastPathComponent), learning-rate sweep, \(architecture.rawValue), lr \(formatted(Double(rate)))")
                let run = try trainLanguageModel(architecture, vocabularySize: V, training: training, validation: sweepTokens,
                                                 seed: LabSettings.sweepSeed, learningRate: rate, steps: settings.textSweepSteps)
                return Foundation.log(run.curve.last?.perplexity ?? .nan)
            }
            sweeps.append(sweep)
            rates[architecture] = sweep.chosen
        }
        var perplexity: [Architecture: [Double]] = [:], halfway: [Architecture: [Double]] = [:], curves: [Architecture: [(x: Double, y: Double)]] = [:]
        var timed: [Architecture: [Double]] = [:], timedSteps: [Architecture: [Int]] = [:], tokensPerSecond: [Architecture: [Double]] = [:]
        for architecture in Architecture.allCases {
            for seed in settings.seeds {
                progress("real data: \(url.lastPathComponent), \(architecture.rawValue), seed \(seed), \(settings.textSteps) steps")
                let run = try trainLanguageModel(architecture, vocabularySize: V, training: training, validation: validation, seed: seed,
                                                 learningRate: rates[architecture]!, steps: settings.textSteps)
                if seed == settings.seeds.first {
                    sizes.append("\(architecture.rawValue) \(Self.describe(run.model))")
                    curves[architecture] = run.curve.map { (Double($0.step), $0.perplexity) }
                }
                perplexity[architecture, default: []].append(run.curve.last?.perplexity ?? .nan)
                let middle = run.curve.min { abs($0.step - settings.textSteps / 2) < abs($1.step - settings.textSteps / 2) }
                halfway[architecture, default: []].append(middle?.perplexity ?? .nan)
                tokensPerSecond[architecture, default: []].append(Double(settings.textSteps * B * T) / run.seconds)
                if settings.textSeconds > 0 {
                    progress("real data: \(url.lastPathComponent), \(architecture.rawValue), seed \(seed), \(formatted(settings.textSeconds)) s")
                    let equalTime = try trainLanguageModel(architecture, vocabularySize: V, training: training, validation: validation, seed: seed,
                                                           learningRate: rates[architecture]!, steps: 1_000_000, seconds: settings.textSeconds)
                    timed[architecture, default: []].append(equalTime.curve.last?.perplexity ?? .nan)
                    timedSteps[architecture, default: []].append(equalTime.curve.last?.step ?? 0)
                }
            }
        }
        let values = perplexity.mapValues(SeedValues.init)
        func text(_ a: Architecture) -> String { values[a]?.text() ?? "-" }
        section.paragraph("""
            **Text: \(url.lastPathComponent)** (\(scalars.count) characters, \(V) distinct; first 90% for training, the last 10% held \
            out: its first half scores the learning-rate sweeps, its second half (\(validation.count) characters) the measured runs). \
            Character language models of `sequent lm` with about \(settings.textParameterBudget) parameters each \
            (\(sizes.joined(separator: "; "))), LSTM forget-gate bias 1, no dropout; \(settings.textSteps) Adam steps \
            (gradient norm clipped to 1) on batches of \(B) x \(T) characters: the recurrent models read \(B) contiguous streams \
            with their state carried across windows (truncated BPTT, as char-rnn), the Transformer random windows; seeds \
            \(settings.seeds.map(String.init).joined(separator: ", ")). Each model's learning rate from its own sweep \
            (\(settings.textSweepSteps) steps per rate, same for all). Perplexity per character on the held-out text, every \
            character scored once with the state carried through it (the Transformer: windows of \(T)). Unigram baseline \
            (training character frequencies): \(formatted(unigram)). Verdicts: \(SeedComparison.rule); the tie margin is 1% of the perplexity.
            """)
        section.table(LearningRateSweep.table(sweeps, lossName: "validation loss"))
        var header = ["Model", "perplexity after \(settings.textSteps) steps", "at step \(settings.textSteps / 2)", "training tokens/s"]
        if settings.textSeconds > 0 { header += ["perplexity after \(formatted(settings.textSeconds)) s", "steps in that time"] }
        section.table(ReportTable(header: header, rows: Architecture.allCases.map { a in
            var row = [a.rawValue, text(a), SeedValues(halfway[a] ?? []).text(), SeedValues(tokensPerSecond[a] ?? []).text()]
            if settings.textSeconds > 0 { row += [SeedValues(timed[a] ?? []).text(), SeedValues((timedSteps[a] ?? []).map(Double.init)).text()] }
            return row
        } + [["unigram baseline", formatted(unigram), "", ""] + (settings.textSeconds > 0 ? ["", ""] : [])]))
        section.figure("text_perplexity", "Held-out perplexity (characters) during training on \(url.lastPathComponent) (first seed).", LineChart(
            title: "Character perplexity on \(url.lastPathComponent)", x: Axis("training step"), y: Axis("held-out perplexity (per character)", scale: .log),
            series: Architecture.allCases.compactMap { a in curves[a].map { LineSeries(name: a.rawValue, points: $0) } },
            references: [("unigram \(formatted(unigram))", unigram)]).svg)
        if let rnn = values[.rnn], let lstm = values[.lstm], let gru = values[.gru], let transformer = values[.transformer] {
            /// "12.3% below" or "5.5% above": a's mean against b's.
            func below(_ a: SeedValues, _ b: SeedValues) -> String {
                let percent = 100 * (b.mean - a.mean) / b.mean
                return "\(formatted(abs(percent), 3))% \(percent >= 0 ? "below" : "above")"
            }
            let ranking = { (d: [Architecture: [Double]]) in
                Architecture.allCases.sorted { SeedValues(d[$0] ?? []).mean < SeedValues(d[$1] ?? []).mean }.map(\.rawValue)
            }
            let (early, late) = (ranking(halfway), ranking(perplexity))
            var claims = [
                Claim("On text, the LSTM reaches a lower perplexity than the vanilla RNN (same steps, same parameters).",
                      measured: "LSTM \(lstm.text()), RNN \(rnn.text()): the LSTM's is \(below(lstm, rnn)) the RNN's",
                      verdict: SeedComparison.lower(lstm, than: rnn, relativeTie: 0.01)),
                Claim("On text, the GRU reaches a lower perplexity than the vanilla RNN.",
                      measured: "GRU \(gru.text()), RNN \(rnn.text()): the GRU's is \(below(gru, rnn)) the RNN's", verdict: SeedComparison.lower(gru, than: rnn, relativeTie: 0.01)),
                Claim("On text, the Transformer reaches a lower perplexity than the LSTM.",
                      measured: "Transformer \(transformer.text()), LSTM \(lstm.text()): the Transformer's is \(below(transformer, lstm)) the LSTM's",
                      verdict: SeedComparison.lower(transformer, than: lstm, relativeTie: 0.01)),
                Claim("Every model beats the unigram baseline.",
                      measured: "RNN \(rnn.text()), LSTM \(lstm.text()), GRU \(gru.text()), Transformer \(transformer.text()) vs \(formatted(unigram))",
                      verdict: [rnn, lstm, gru, transformer].map { SeedComparison.below($0, unigram) }.allSatisfy { $0 == .held } ? .held
                          : [rnn, lstm, gru, transformer].contains { SeedComparison.below($0, unigram) == .notHeld } ? .notHeld : .inconclusive),
                Claim("Check of the budget: the ranking of the models no longer changes with more steps (the same at step \(settings.textSteps / 2) and \(settings.textSteps)).",
                      measured: "step \(settings.textSteps / 2): \(early.joined(separator: " < ")); step \(settings.textSteps): \(late.joined(separator: " < "))",
                      verdict: settings.seeds.count < 2 ? .inconclusive : .from(early == late)),
            ]
            if settings.textSeconds > 0, let rnnTimed = timed[.rnn].map(SeedValues.init), let lstmTimed = timed[.lstm].map(SeedValues.init) {
                claims.append(Claim("On text, at equal training time (\(formatted(settings.textSeconds)) s each), the LSTM reaches a lower perplexity than the vanilla RNN.",
                                    measured: "LSTM \(lstmTimed.text()), RNN \(rnnTimed.text()): the LSTM's is \(below(lstmTimed, rnnTimed)) the RNN's",
                                    verdict: SeedComparison.lower(lstmTimed, than: rnnTimed, relativeTie: 0.01)))
            }
            section.claims(claims)
        }
        return .object([("file", .string(url.lastPathComponent)), ("characters", .number(Double(scalars.count))), ("unigram_perplexity", .of(unigram)),
                        ("sweep", .array(sweeps.map(\.json))),
                        ("perplexity", .object(Architecture.allCases.map { ($0.rawValue, values[$0]?.json ?? .null) })),
                        ("perplexity_halfway", .object(Architecture.allCases.map { ($0.rawValue, SeedValues(halfway[$0] ?? []).json) })),
                        ("perplexity_equal_time", .object(Architecture.allCases.map { ($0.rawValue, timed[$0].map { SeedValues($0).json } ?? .null) })),
                        ("tokens_per_second", .object(Architecture.allCases.map { ($0.rawValue, SeedValues(tokensPerSecond[$0] ?? []).json) }))])
    }

    // MARK: Series

    func series(_ url: URL, column: String, into section: inout ReportSection) throws -> JSONValue {
        let data = try TimeSeries.load(url, column: column).values
        let s = inputs.season, N = data.count
        // Windows of two seasons (at least 8) must fit the training part (4/5 of the rows)
        // with targets left over, and the test part must hold at least one target.
        guard s <= N / 4 else {
            throw SequentError(.malformedFile, "\(url.path): \(N) values are too few for a season of \(s) (windows of two seasons must fit the first 4/5 of the series); give a --season of at most \(max(1, N / 4))")
        }
        let W = max(2 * s, 8), split = N * 4 / 5
        // The models read and predict first differences, scaled by the training differences' spread.
        let differences = (1..<N).map { data[$0] - data[$0 - 1] }  // differences[i] = y[i+1] - y[i]
        let trainingDifferences = Array(differences[..<(split - 1)])
        let mean = trainingDifferences.reduce(0, +) / Double(trainingDifferences.count)
        let scale = max((trainingDifferences.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(trainingDifferences.count)).squareRoot(), 1e-9)
        let z = differences.map { Float(($0 - mean) / scale) }
        // Window ending at difference index i-1 predicts difference i (that is, y[i+1]).
        guard W < split - 1, max(split - 1, W) < N - 1 else {
            throw SequentError(.malformedFile, "\(url.path): \(N) values are too few for windows of \(W) (season \(s)); give a smaller --season")
        }
        let trainingTargets = Array(W..<(split - 1))
        let testTargets = Array(max(split - 1, W)..<(N - 1))
        func window(_ i: Int) -> [Float] { Array(z[(i - W)..<i]) }
        let actual = testTargets.map { data[$0 + 1] }
        func mse(_ predictions: [Double]) -> Double { zip(predictions, actual).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(actual.count) }
        let naive = testTargets.map { data[$0] }
        let seasonal = testTargets.map { $0 + 1 - s >= 0 ? data[$0 + 1 - s] : data[$0] }
        var predictions: [Architecture: [Double]] = [:], errors: [Architecture: [Double]] = [:], sizes: [String] = []
        let B = 16
        /// A model at `seed` trained on windows ending at `targets`, for the experiment's steps.
        func trainedModel(_ family: ModelFamily, _ size: ModelSize, seed: UInt64, learningRate: Float, targets: [Int]) throws -> any SequenceModel {
            var generator = RandomGenerator(seed: seed)
            let model = try family.model(size, generator: &generator)
            let batches = GeneratedBatches(generator: RandomGenerator(seed: 13 &+ seed)) { picks in
                (0..<B).map { _ in targets[Int(picks.next() % UInt64(targets.count))] }
            }
            _ = try LabTraining(learningRate: learningRate, steps: settings.seriesSteps).run(model, data: batches) { chosen in
                let input = Tensor(shape: [B, W, 1], scalars: chosen.flatMap(window))
                let target = Tensor(shape: [B, 1], scalars: chosen.map { z[$0] })
                return (try Loss.meanSquaredError(try model.lastStep(input), target), B)
            }
            return model
        }
        /// The model's one-step predictions (scaled differences) of `targets`.
        func predicted(_ model: any SequenceModel, _ targets: [Int]) throws -> [Float] {
            try withoutGradients { try model.lastStep(Tensor(shape: [targets.count, W, 1], scalars: targets.flatMap(window))).scalars }
        }
        // The sweep holds out the last fifth of the training targets (chronologically, as
        // the test part is held out) and trains on the rest, the same steps for every rate.
        let sweepCut = max(1, trainingTargets.count * 4 / 5)
        let (sweepTraining, sweepValidation) = (Array(trainingTargets[..<sweepCut]), Array(trainingTargets[sweepCut...]))
        var sweeps: [LearningRateSweep] = []
        for architecture in Architecture.allCases {
            let family = ModelFamily(architecture, inputSize: 1, outputSize: 1)
            let size = family.size(closestTo: 2_000)
            let sweep = try LearningRateSweep.run(architecture.rawValue, candidates: settings.sweepRates) { rate in
                progress("real data: \(url.lastPathComponent) [\(column)], learning-rate sweep, \(architecture.rawValue), lr \(formatted(Double(rate)))")
                guard !sweepValidation.isEmpty else { return 0 }
                let model = try trainedModel(family, size, seed: LabSettings.sweepSeed, learningRate: rate, targets: sweepTraining)
                let output = try predicted(model, sweepValidation)
                return zip(sweepValidation, output).map { Double($1 - z[$0]) * Double($1 - z[$0]) }.reduce(0, +) / Double(sweepValidation.count)
            }
            sweeps.append(sweep)
            for seed in settings.seeds {
                progress("real data: \(url.lastPathComponent) [\(column)], \(architecture.rawValue), seed \(seed), \(settings.seriesSteps) steps")
                let model = try trainedModel(family, size, seed: seed, learningRate: sweep.chosen, targets: trainingTargets)
                if seed == settings.seeds.first { sizes.append("\(architecture.rawValue) \(family.sizeDescription(size)) (\(model.parameterCount) parameters)") }
                let output = try predicted(model, testTargets)
                let forecast = zip(testTargets, output).map { i, predicted in data[i] + Double(predicted) * scale + mean }
                if seed == settings.seeds.first { predictions[architecture] = forecast }
                errors[architecture, default: []].append(mse(forecast))
            }
        }
        let values = errors.mapValues(SeedValues.init)
        let (naiveError, seasonalError) = (mse(naive), mse(seasonal))
        // Differences this small against the series' own scale are ties (a constant series,
        // which every model forecasts to rounding error, compares as a tie, not a win).
        let meanSquare = data.map { $0 * $0 }.reduce(0, +) / Double(N)
        let tie = max(1e-6 * max(naiveError, seasonalError), 1e-12 * meanSquare)
        section.paragraph("""
            **Series: \(url.lastPathComponent), column `\(column)`** (\(N) values). One-step-ahead forecasts of the last \
            20% (\(actual.count) points) from the \(W) previous changes; the models read and predict first differences \
            scaled by the training spread (\(sizes.joined(separator: ", ")); about 2000 parameters each, \
            \(settings.seriesSteps) Adam steps (gradient norm clipped to 1) on batches of \(B) windows of the first 80%, \
            seeds \(settings.seeds.map(String.init).joined(separator: ", "))), each model at the learning rate of its own sweep (below: \
            every rate trained for the same steps on the first 80% of the training windows, on another seed, and scored by the MSE of the \
            scaled changes on the last 20% of them, chronologically). Baselines: naive \
            (y_t = y_{t-1}) and seasonal naive (y_t = y_{t-\(s)}, season \(s) rows, `--season`). MSE in the column's units squared, \
            mean ± sd over seeds. Verdicts: \(SeedComparison.rule); the tie margin is 1% of the MSE (and differences below 1e-12 of the series' mean square).
            """)
        section.table(ReportTable(header: ["Forecast", "test MSE", "vs naive"],
                                  rows: Architecture.allCases.map { a in
                                      guard let e = values[a] else { return [a.rawValue, "not run", "-"] }
                                      return [a.rawValue, e.text(), naiveError > 0 ? formatted(e.mean / naiveError) + "x" : "-"]
                                  } + [["naive", formatted(naiveError), "1x"],
                                       ["seasonal naive (\(s))", formatted(seasonalError), naiveError > 0 ? formatted(seasonalError / naiveError) + "x" : "-"]]))
        section.table(LearningRateSweep.table(sweeps, lossName: "validation MSE"))
        let x = testTargets.map { Double($0 + 1) }
        section.figure("series_forecast", "One-step forecasts of the test part of \(column), against the actual values (first seed).", LineChart(
            title: "One-step forecasts of \(column) (test part)", x: Axis("row of \(url.lastPathComponent)"), y: Axis("\(column) (file units)"),
            series: [LineSeries(name: "actual", points: zip(x, actual).map { (x: $0, y: $1) })]
                + Architecture.allCases.compactMap { a in predictions[a].map { LineSeries(name: a.rawValue, points: zip(x, $0).map { (x: $0, y: $1) }) } }
                + [LineSeries(name: "seasonal naive", points: zip(x, seasonal).map { (x: $0, y: $1) }, dashed: true)]).svg)
        if let rnn = values[.rnn], let lstm = values[.lstm], let gru = values[.gru] {
            let best = min(naiveError, seasonalError)
            section.claims([
                Claim("On this series, the LSTM forecasts better than the vanilla RNN.", measured: "MSE LSTM \(lstm.text()), RNN \(rnn.text())",
                      verdict: SeedComparison.lower(lstm, than: rnn, relativeTie: 0.01, absoluteTie: tie)),
                Claim("On this series, the GRU forecasts better than the vanilla RNN.", measured: "MSE GRU \(gru.text()), RNN \(rnn.text())",
                      verdict: SeedComparison.lower(gru, than: rnn, relativeTie: 0.01, absoluteTie: tie)),
                Claim("The LSTM beats the better of the naive and seasonal-naive baselines.", measured: "MSE LSTM \(lstm.text()), best baseline \(formatted(best))",
                      verdict: SeedComparison.lower(lstm, than: SeedValues(Array(repeating: best, count: lstm.count)), relativeTie: 0.01, absoluteTie: tie)),
            ])
        }
        return .object([("file", .string(url.lastPathComponent)), ("column", .string(column)), ("season", .number(Double(s))),
                        ("sweep", .array(sweeps.map(\.json))), ("naive_mse", .of(naiveError)), ("seasonal_naive_mse", .of(seasonalError)),
                        ("mse", .object(Architecture.allCases.map { ($0.rawValue, values[$0]?.json ?? .null) }))])
    }
}
