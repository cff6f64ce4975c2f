import Foundation
import SequentNN
import SequentData
import SequentTensor
import SequentTrain

/// Experiment 5: the four architectures on files the user gives: character language models
/// on `--text` (perplexity) and one-step forecasters on `--csv --column` (MSE against the
/// naive and seasonal-naive baselines). Each model gets the same steps, batch and parameter
/// budget.
public struct RealDataExperiment {
    let settings: LabSettings
    let inputs: LabInputs
    let progress: LabProgress

    public init(settings: LabSettings, inputs: LabInputs, progress: LabProgress) {
        self.settings = settings
        self.inputs = inputs
        self.progress = progress
    }

    public func section() throws -> ReportSection {
        var section = ReportSection(title: "5. Real data")
        var results: [(String, JSONValue)] = []
        if inputs.textFile == nil && inputs.csvFile == nil {
            section.paragraph("Not run: give `--text FILE` (character language model) and/or `--csv FILE --column NAME` (forecasting).")
            section.claims([Claim("On real text and series, the LSTM beats the vanilla RNN.", measured: "no file given", verdict: .notMeasured)])
        }
        if let url = inputs.textFile {
            results.append(("text", try text(url, into: &section)))
        }
        if let url = inputs.csvFile, let column = inputs.csvColumn {
            results.append(("series", try series(url, column: column, into: &section)))
        }
        section.results = .object(results)
        return section
    }

    // MARK: Text

    func text(_ url: URL, into section: inout ReportSection) throws -> JSONValue {
        let corpus = try TextCorpus.load(url)
        let V = corpus.vocabulary.count, E = 32, T = 64, B = 32
        let budget = settings.isQuick ? 25_000 : 120_000
        let split = corpus.tokens.count * 9 / 10
        let training = Array(corpus.tokens[..<split]), validation = Array(corpus.tokens[split...])
        let windows = min(64, (validation.count - 1) / T)
        var validationInputs: [Int] = [], validationTargets: [Int] = []
        for w in 0..<windows {
            validationInputs += validation[(w * T)..<(w * T + T)]
            validationTargets += validation[(w * T + 1)...(w * T + T)]
        }
        // The unigram baseline: perplexity of the training characters' frequencies on the validation text.
        var counts = [Double](repeating: 1, count: V)
        for t in training { counts[t] += 1 }
        let total = counts.reduce(0, +)
        let unigram = Foundation.exp(-validationTargets.map { Foundation.log(counts[$0] / total) }.reduce(0, +) / Double(validationTargets.count))

        var perplexity: [Architecture: Double] = [:], curves: [Architecture: [(x: Double, y: Double)]] = [:], sizes: [String] = []
        for architecture in Architecture.allCases {
            let family = ModelFamily(architecture, inputSize: E, outputSize: V)
            let size = family.size(closestTo: budget - V * E)
            var generator = RandomGenerator(seed: settings.seeds[0])
            let model = try CharacterLanguageModel(vocabularySize: V, embeddingSize: E, family: family, size: size, generator: &generator)
            sizes.append("\(architecture.rawValue) \(family.sizeDescription(size)) (\(model.parameterCount) parameters)")
            let optimizer = try Adam(namedParameters: model.namedParameters(), learningRate: 3e-3)
            var data = RandomGenerator(seed: 11)
            func evaluate() throws -> Double {
                let loss = try withoutGradients {
                    try Loss.crossEntropy(logits: try model.logits(validationInputs, batchSize: windows, time: T), targets: validationTargets).item
                }
                return Foundation.exp(Double(loss))
            }
            var curve: [(x: Double, y: Double)] = [(0, try evaluate())]
            let every = max(1, settings.textSteps / 6)
            for step in 1...settings.textSteps {
                if step == 1 || step % every == 0 { progress("real data: \(url.lastPathComponent), \(architecture.rawValue), step \(step) of \(settings.textSteps)") }
                var inputs: [Int] = [], targets: [Int] = []
                for _ in 0..<B {
                    let offset = Int(data.next() % UInt64(training.count - T - 1))
                    inputs += training[offset..<(offset + T)]
                    targets += training[(offset + 1)...(offset + T)]
                }
                let loss = try Loss.crossEntropy(logits: try model.logits(inputs, batchSize: B, time: T), targets: targets)
                loss.backward()
                _ = try clipGradientNorm(optimizer.parameters, maxNorm: 1)
                optimizer.step()
                optimizer.zeroGradients()
                if step % every == 0 || step == settings.textSteps { curve.append((Double(step), try evaluate())) }
            }
            perplexity[architecture] = curve.last!.y
            curves[architecture] = curve
        }
        section.paragraph("""
            **Text: \(url.lastPathComponent)** (\(corpus.tokens.count) characters, \(V) distinct). Character language \
            models with about \(budget) parameters each (\(sizes.joined(separator: ", ")); embeddings \(E)), \
            \(settings.textSteps) Adam steps (0.003) on \(B) windows of \(T) characters from the first 90%; perplexity \
            on \(windows) windows of the last 10%. Unigram baseline (character frequencies): \(formatted(unigram)).
            """)
        section.table(ReportTable(header: ["Model", "validation perplexity"],
                                  rows: Architecture.allCases.map { [$0.rawValue, perplexity[$0].map { formatted($0) } ?? "not run"] }
                                      + [["unigram baseline", formatted(unigram)]]))
        section.figure("text_perplexity", "Validation perplexity (characters) during training on \(url.lastPathComponent).", LineChart(
            title: "Character perplexity on \(url.lastPathComponent)", x: Axis("training step"), y: Axis("validation perplexity (per character)", scale: .log),
            series: Architecture.allCases.compactMap { a in curves[a].map { LineSeries(name: a.rawValue, points: $0) } },
            references: [("unigram \(formatted(unigram))", unigram)]).svg)
        if let rnn = perplexity[.rnn], let lstm = perplexity[.lstm], let gru = perplexity[.gru], let transformer = perplexity[.transformer] {
            section.claims([
                Claim("On text, the LSTM reaches a lower perplexity than the vanilla RNN (same steps, same parameters).",
                      measured: "LSTM \(formatted(lstm)), RNN \(formatted(rnn))", verdict: .from(lstm < rnn)),
                Claim("On text, the GRU reaches a lower perplexity than the vanilla RNN.",
                      measured: "GRU \(formatted(gru)), RNN \(formatted(rnn))", verdict: .from(gru < rnn)),
                Claim("On text, the Transformer reaches a lower perplexity than the LSTM.",
                      measured: "Transformer \(formatted(transformer)), LSTM \(formatted(lstm))", verdict: .from(transformer < lstm)),
                Claim("Every model beats the unigram baseline.",
                      measured: "RNN \(formatted(rnn)), LSTM \(formatted(lstm)), GRU \(formatted(gru)), Transformer \(formatted(transformer)) vs \(formatted(unigram))",
                      verdict: .from(max(rnn, lstm, gru, transformer) < unigram)),
            ])
        }
        return .object([("file", .string(url.lastPathComponent)), ("unigram_perplexity", .of(unigram)),
                        ("perplexity", .object(Architecture.allCases.map { ($0.rawValue, .of(perplexity[$0])) }))])
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
        var predictions: [Architecture: [Double]] = [:], sizes: [String] = []
        let B = 16
        for architecture in Architecture.allCases {
            let family = ModelFamily(architecture, inputSize: 1, outputSize: 1)
            let size = family.size(closestTo: 2_000)
            var generator = RandomGenerator(seed: settings.seeds[0])
            let model = try family.model(size, generator: &generator)
            sizes.append("\(architecture.rawValue) \(family.sizeDescription(size)) (\(model.parameterCount) parameters)")
            let optimizer = try Adam(namedParameters: model.namedParameters(), learningRate: 3e-3)
            var picks = RandomGenerator(seed: 13)
            progress("real data: \(url.lastPathComponent) [\(column)], \(architecture.rawValue), \(settings.seriesSteps) steps")
            for _ in 0..<settings.seriesSteps {
                let chosen = (0..<B).map { _ in trainingTargets[Int(picks.next() % UInt64(trainingTargets.count))] }
                let input = Tensor(shape: [B, W, 1], scalars: chosen.flatMap(window))
                let target = Tensor(shape: [B, 1], scalars: chosen.map { z[$0] })
                let loss = try Loss.meanSquaredError(try model.lastStep(input), target)
                loss.backward()
                _ = try clipGradientNorm(optimizer.parameters, maxNorm: 1)
                optimizer.step()
                optimizer.zeroGradients()
            }
            let output = try withoutGradients {
                try model.lastStep(Tensor(shape: [testTargets.count, W, 1], scalars: testTargets.flatMap(window))).scalars
            }
            predictions[architecture] = zip(testTargets, output).map { i, predicted in data[i] + Double(predicted) * scale + mean }
        }
        let errors = predictions.mapValues(mse)
        let (naiveError, seasonalError) = (mse(naive), mse(seasonal))
        section.paragraph("""
            **Series: \(url.lastPathComponent), column `\(column)`** (\(N) values). One-step-ahead forecasts of the last \
            20% (\(actual.count) points) from the \(W) previous changes; the models read and predict first differences \
            scaled by the training spread (\(sizes.joined(separator: ", ")); about 2000 parameters each, \
            \(settings.seriesSteps) Adam steps on batches of \(B) windows of the first 80%). Baselines: naive \
            (y_t = y_{t-1}) and seasonal naive (y_t = y_{t-\(s)}, season \(s) rows, `--season`). MSE in the column's units squared.
            """)
        section.table(ReportTable(header: ["Forecast", "test MSE", "vs naive"],
                                  rows: Architecture.allCases.map { a in
                                      guard let e = errors[a] else { return [a.rawValue, "not run", "-"] }
                                      return [a.rawValue, formatted(e), formatted(e / naiveError) + "x"]
                                  } + [["naive", formatted(naiveError), "1x"], ["seasonal naive (\(s))", formatted(seasonalError), formatted(seasonalError / naiveError) + "x"]]))
        let x = testTargets.map { Double($0 + 1) }
        section.figure("series_forecast", "One-step forecasts of the test part of \(column), against the actual values.", LineChart(
            title: "One-step forecasts of \(column) (test part)", x: Axis("row of \(url.lastPathComponent)"), y: Axis("\(column) (file units)"),
            series: [LineSeries(name: "actual", points: zip(x, actual).map { (x: $0, y: $1) })]
                + Architecture.allCases.compactMap { a in predictions[a].map { LineSeries(name: a.rawValue, points: zip(x, $0).map { (x: $0, y: $1) }) } }
                + [LineSeries(name: "seasonal naive", points: zip(x, seasonal).map { (x: $0, y: $1) }, dashed: true)]).svg)
        if let rnn = errors[.rnn], let lstm = errors[.lstm], let gru = errors[.gru] {
            let best = min(naiveError, seasonalError)
            section.claims([
                Claim("On this series, the LSTM forecasts better than the vanilla RNN.", measured: "MSE LSTM \(formatted(lstm)), RNN \(formatted(rnn))", verdict: .from(lstm < rnn)),
                Claim("On this series, the GRU forecasts better than the vanilla RNN.", measured: "MSE GRU \(formatted(gru)), RNN \(formatted(rnn))", verdict: .from(gru < rnn)),
                Claim("The LSTM beats the better of the naive and seasonal-naive baselines.", measured: "MSE LSTM \(formatted(lstm)), best baseline \(formatted(best))", verdict: .from(lstm < best)),
            ])
        }
        return .object([("file", .string(url.lastPathComponent)), ("column", .string(column)), ("season", .number(Double(s))),
                        ("naive_mse", .of(naiveError)), ("seasonal_naive_mse", .of(seasonalError)),
                        ("mse", .object(Architecture.allCases.map { ($0.rawValue, .of(errors[$0])) }))])
    }
}

/// A character language model of the lab: token embeddings before one of the lab's
/// sequence models, whose head gives the next character's logits at every step,
///
///     e = emb(tokens)                 tokens (B, T) -> (B, T, E)
///     logits = model.everyStep(e)     (B, T, V)
///
/// With a recurrent model this is `RecurrentLanguageModel`; the Transformer is causal, so
/// step t sees characters 0...t only.
final class CharacterLanguageModel: Module {
    let embedding: Embedding
    let network: any SequenceModel
    var isTraining = true

    init(vocabularySize: Int, embeddingSize: Int, family: ModelFamily, size: ModelSize, generator: inout RandomGenerator) throws {
        embedding = Embedding(vocabularySize: vocabularySize, embeddingSize: embeddingSize, generator: &generator)
        network = try family.model(size, generator: &generator)
    }

    var submodules: [(key: String, module: any Module)] { [("emb", embedding), ("network", network)] }

    /// The next-character logits (B, T, V) of B * T tokens, row-major (B, T).
    func logits(_ tokens: [Int], batchSize: Int, time: Int) throws -> Tensor {
        try network.everyStep(try embedding(tokens, shape: [batchSize, time]))
    }
}
