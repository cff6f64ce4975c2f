import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

/// The run behind `sequent demo`: trains the language model of `sequent lm` (`LanguageModel`,
/// `TokenWindows`, `Trainer`) on an `AdditionCorpus` and reports what it learned, every
/// number printed being measured in this run.
struct AdditionDemo {
    struct Settings {
        /// The model: its cell, V (the corpus's symbols), E and H, one layer, no dropout.
        var model: RecurrentLanguageModel.Configuration
        var steps: Int
        var seed: UInt64
        /// How many held-out sums the finished model answers.
        var answerTestCount: Int
        var learningRate: Float
        /// B: windows per training batch.
        var batchSize = 32
        /// T: characters per window.
        var time = 64
        var maxGradientNorm: Float = 1
        /// Windows of held-out text in the validation batch.
        var validationWindows = 64
        /// Characters of training text generated (windows are drawn from it at random).
        var trainingLength = 200_000
    }

    let settings: Settings

    /// The validation batch: inputs and targets (B, T) row-major, and whether each target
    /// is an answer character.
    private struct ValidationBatch {
        var inputs: [Int] = []
        var targets: [Int] = []
        var isAnswer: [Bool] = []
    }

    func run() throws {
        let s = settings
        let (B, T) = (s.batchSize, s.time)
        let V = s.model.vocabularySize
        var root = RandomGenerator(seed: s.seed)
        var dataGenerator = root.split(), modelGenerator = root.split()
        let batchGenerator = root.split()
        var sampleGenerator = root.split()

        let corpus = AdditionCorpus(generator: &dataGenerator)
        let training = AdditionCorpus.stream(from: corpus.trainingPairs, length: s.trainingLength, generator: &dataGenerator)
        let validation = makeValidationBatch(corpus, generator: &dataGenerator)

        let model = try LanguageModel(s.model, generator: &modelGenerator)
        let optimizer = try Adam(namedParameters: model.namedParameters(), learningRate: s.learningRate)
        let warmup = max(1, s.steps / 20)
        let schedule = try LinearWarmup(
            warmupSteps: warmup,
            then: CosineAnnealing(initialLearningRate: s.learningRate, totalSteps: max(1, s.steps - warmup),
                                  minimumLearningRate: s.learningRate / 10))

        let pairCount = (corpus.maxOperand + 1) * (corpus.maxOperand + 1)
        say("sequent demo: a character-level \(s.model.cell.name) learns to add numbers in 0...\(corpus.maxOperand)")
        say("data:  sums like \"37+48=85;\" in a row; \(corpus.trainingPairs.count) of the \(pairCount) operand pairs for training, \(corpus.heldOutPairs.count) held out for validation")
        let (E, H) = (s.model.embeddingSize, s.model.hiddenSize)
        say("model: Embedding(\(V), \(E)) -> \(s.model.cell.name)(\(E), \(H)) -> Linear(\(H), \(V)), \(model.parameterCount) parameters")
        say("train: \(s.steps) steps of \(B) random windows x \(T) characters; Adam, lr \(String(format: "%g", s.learningRate)) (warm-up, cosine to \(String(format: "%g", s.learningRate / 10))), gradient norm clipped at \(String(format: "%g", s.maxGradientNorm)); \(Parallelism.threadCount) thread(s), seed \(s.seed)")
        say("")
        say("  step   train loss   val loss   val answer loss   tokens/s")

        let reportEvery = max(1, s.steps / 10)
        let initial = try evaluate(model, validation)
        say(row(step: 0, train: nil, validation: initial, tokensPerSecond: nil))

        // The loop of every `train`, on Trainer: B windows of the training text a step, at
        // random starts drawn anew for every batch.
        let windows = try TokenWindows(tokens: training.tokens, batchSize: B, time: T, order: .sampled, generator: batchGenerator)
        var configuration = TrainerConfiguration(totalSteps: s.steps)
        configuration.maxGradientNorm = s.maxGradientNorm
        configuration.evaluationInterval = reportEvery
        configuration.progress = nil  // the demo prints its own table
        let trainer = try Trainer(
            model: model, optimizer: optimizer, data: windows, configuration: configuration, schedule: schedule,
            validation: { model in
                let (all, answers) = try evaluate(model, validation)
                return ["loss": all, "answer_loss": answers]
            }
        ) { model, batch in
            let (logits, _) = try model(batch.inputs, batchSize: batch.batchSize, time: batch.time)  // (B, T, V)
            return (try Loss.crossEntropy(logits: logits, targets: batch.targets), batch.inputs.count)
        }
        var trainingSeconds = 0.0, intervalSeconds = 0.0
        var intervalLoss = 0.0, intervalSteps = 0
        var final = initial
        trainer.callbacks.append(ClosureCallback(onStepEnd: { report, _ in
            let seconds = Double(report.tokenCount) / max(report.tokensPerSecond, 1e-9)
            trainingSeconds += seconds
            intervalSeconds += seconds
            intervalLoss += Double(report.loss)
            intervalSteps += 1
        }, onEvaluation: { report, _ in
            final = (report.metrics["loss"] ?? .nan, report.metrics["answer_loss"] ?? .nan)
            let rate = Double(intervalSteps * B * T) / intervalSeconds
            say(row(step: report.step, train: intervalLoss / Double(intervalSteps), validation: final, tokensPerSecond: rate))
            intervalLoss = 0
            intervalSteps = 0
            intervalSeconds = 0
        }))
        let result = try trainer.fit()
        if result.wasInterrupted { say("interrupted at step \(result.step)") }

        say("")
        let sample = try self.sample(model, length: 90, temperature: 0.8, generator: &sampleGenerator)
        say("sample (temperature 0.8, from \";\"):")
        say("  \(sample.text)")
        say("  \(sample.correct) of the \(sample.complete) complete sums in it are correct")

        let test = Array(corpus.heldOutPairs.prefix(settings.answerTestCount))
        let answers = try answer(model, test)
        let correct = zip(test, answers).filter { $0.0.a + $0.0.b == $0.1 }.count
        say("greedy answers to held-out sums (never in the training text):")
        say("  " + zip(test, answers).prefix(6).map { pair, answer in
            "\(pair.a)+\(pair.b)=\(answer.map(String.init) ?? "?")" + (pair.a + pair.b == answer ? " ok" : " wrong")
        }.joined(separator: ", "))
        let accuracy = Double(correct) / Double(max(1, test.count))
        say("  \(correct) of \(test.count) correct (\(format(100 * accuracy, 1))%)")

        say("")
        let seconds = trainingSeconds
        say("trained \(result.step) steps in \(format(seconds, 1)) s, \(format(Double(result.step * B * T) / seconds / 1000, 1))k tokens/s on average")
        let trend = final.all < initial.all ? "fell" : "did not fall: it went"
        say("verdict: validation loss \(trend) from \(format(initial.all, 2)) (uniform over \(V) symbols: ln \(V) = \(format(log(Double(V)), 2))) "
            + "to \(format(final.all, 2)) nats/char (floor \(format(corpus.entropyFloor, 2)): the operands are random); "
            + "on the answer characters from \(format(initial.answers, 2)) to \(format(final.answers, 2)); "
            + "\(format(100 * accuracy, 0))% of held-out sums answered correctly.")
        if accuracy >= 0.9 {
            say("         The model learned to add, carries included, on sums it never saw.")
        } else if final.answers < initial.answers / 2 {
            say("         The model learned the format and part of the arithmetic; more --steps would improve its answers.")
        } else {
            say("         The model did not learn to add in this run; try more --steps.")
        }
    }

    // MARK: - Measurements

    /// Held-out text cut into `validationWindows` windows of T + 1 characters.
    private func makeValidationBatch(_ corpus: AdditionCorpus, generator: inout RandomGenerator) -> ValidationBatch {
        let T = settings.time
        let stream = AdditionCorpus.stream(
            from: corpus.heldOutPairs, length: settings.validationWindows * (T + 1), generator: &generator)
        var batch = ValidationBatch()
        for window in 0..<settings.validationWindows {
            let start = window * (T + 1)
            batch.inputs += stream.tokens[start..<(start + T)]
            batch.targets += stream.tokens[(start + 1)...(start + T)]
            batch.isAnswer += stream.isAnswer[(start + 1)...(start + T)]
        }
        return batch
    }

    /// The mean loss per character on the validation batch: over all characters, and over
    /// the answer characters alone.
    private func evaluate(_ model: LanguageModel, _ batch: ValidationBatch) throws -> (all: Double, answers: Double) {
        model.setTraining(false)
        defer { model.setTraining(true) }
        let losses = try withoutGradients {
            let (logits, _) = try model(batch.inputs, batchSize: settings.validationWindows, time: settings.time)
            return try Loss.crossEntropy(logits: logits, targets: batch.targets, reduction: .none).scalars
        }
        var total = 0.0, answerTotal = 0.0, answerCount = 0
        for (loss, isAnswer) in zip(losses, batch.isAnswer) {
            total += Double(loss)
            if isAnswer {
                answerTotal += Double(loss)
                answerCount += 1
            }
        }
        return (total / Double(losses.count), answerTotal / Double(max(1, answerCount)))
    }

    /// The model's greedy answer to "a+b=" for each pair (nil if it does not write a number
    /// ended by ";"). Prompts of equal length run as one batch.
    private func answer(_ model: LanguageModel, _ pairs: [(a: Int, b: Int)]) throws -> [Int?] {
        model.setTraining(false)
        defer { model.setTraining(true) }
        var answers = [Int?](repeating: nil, count: pairs.count)
        let prompts = pairs.map { [AdditionCorpus.separator] + AdditionCorpus.prompt($0.a, $0.b) }
        let byLength = Dictionary(grouping: prompts.indices, by: { prompts[$0].count })
        try withoutGradients {
            for (length, members) in byLength {
                let G = members.count, V = model.vocabularySize
                var (logits, state) = try model(members.flatMap { prompts[$0] }, batchSize: G, time: length)  // state: non-nil (recurrent)
                var written = [[Int]](repeating: [], count: G)
                var lastStep = length - 1
                for _ in 0..<5 {  // at most 3 digits and ";"
                    let next = (0..<G).map { g in argmax(logits.scalars, offset: (g * (lastStep + 1) + lastStep) * V, count: V) }
                    for g in 0..<G where written[g].last != AdditionCorpus.separator { written[g].append(next[g]) }
                    (logits, state) = try model(next, batchSize: G, time: 1, state: state)
                    lastStep = 0
                }
                for (g, index) in members.enumerated() {
                    guard let end = written[g].firstIndex(of: AdditionCorpus.separator), end > 0 else { continue }
                    answers[index] = Int(AdditionCorpus.decode(Array(written[g][..<end])))
                }
            }
        }
        return answers
    }

    /// `length` characters sampled one at a time after ";", and how many of the complete
    /// sums among them are correct.
    private func sample(
        _ model: LanguageModel, length: Int, temperature: Float, generator: inout RandomGenerator
    ) throws -> (text: String, complete: Int, correct: Int) {
        model.setTraining(false)
        defer { model.setTraining(true) }
        var tokens: [Int] = []
        try withoutGradients {
            var (logits, state) = try model([AdditionCorpus.separator], batchSize: 1, time: 1)
            for _ in 0..<length {
                let next = sampleIndex(logits.scalars, temperature: temperature, generator: &generator)
                tokens.append(next)
                (logits, state) = try model([next], batchSize: 1, time: 1, state: state)
            }
        }
        let text = AdditionCorpus.decode(tokens)
        // Every piece but the last is a complete "a+b=c" (the text starts right after ";").
        let sums = text.split(separator: ";", omittingEmptySubsequences: false).dropLast()
        let correct = sums.filter { sum in
            let parts = sum.split(whereSeparator: { $0 == "+" || $0 == "=" })
            // "a+b=c" in that order (sampled text may hold "a=b=c" or "a=b+c").
            guard parts.count == 3, let plus = sum.firstIndex(of: "+"), let equals = sum.firstIndex(of: "="), plus < equals,
                  let a = Int(parts[0]), let b = Int(parts[1]), let c = Int(parts[2]) else { return false }
            return a + b == c
        }.count
        return (text, sums.count, correct)
    }

    // MARK: - Helpers

    private func argmax(_ values: [Float], offset: Int, count: Int) -> Int {
        var best = 0
        for i in 1..<count where values[offset + i] > values[offset + best] { best = i }
        return best
    }

    /// An index drawn from softmax(logits / temperature).
    private func sampleIndex(_ logits: [Float], temperature: Float, generator: inout RandomGenerator) -> Int {
        let scaled = logits.map { $0 / temperature }
        let top = scaled.max()!
        let weights = scaled.map { exp($0 - top) }
        var u = generator.nextUniform() * weights.reduce(0, +)
        for (i, w) in weights.enumerated() {
            u -= w
            if u < 0 { return i }
        }
        return weights.count - 1
    }

    private func row(step: Int, train: Double?, validation: (all: Double, answers: Double), tokensPerSecond: Double?) -> String {
        let trainText = train.map { format($0, 3) } ?? "-"
        let rateText = tokensPerSecond.map { format($0, 0) } ?? "-"
        return pad(String(step), 6) + pad(trainText, 13) + pad(format(validation.all, 3), 11)
            + pad(format(validation.answers, 3), 18) + pad(rateText, 11)
    }

    private func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    private func format(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    /// Prints a line at once (unbuffered), so progress shows while the run goes on.
    private func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

