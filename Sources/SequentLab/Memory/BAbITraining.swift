import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

/// What trains a model on bAbI questions; saved as the `config` of `config.json` (the
/// vocabulary goes to `tokenizer.json`).
public struct BAbIConfig: Codable, Equatable, Sendable {
    /// `memn2n` or `lstm`.
    public var model: String
    /// The memory network's sizes (its vocabulary size is set from the data).
    public var network: EndToEndMemoryNetworkConfiguration
    /// The LSTM baseline's embedding and hidden sizes.
    public var lstmEmbedding: Int
    public var lstmHidden: Int
    public var batchSize: Int
    public var steps: Int
    public var learningRate: Float
    /// The global gradient norm is clipped to this (40, as Sukhbaatar et al.).
    public var maxGradientNorm: Float
    /// The paper's linear start: the hops' softmaxes are left out for this many steps (0: never).
    public var linearStartSteps: Int
    /// The paper's random noise: the probability of an empty memory before each statement
    /// in training batches (0: none).
    public var randomNoise: Float
    public var seed: UInt64
    public var evaluationInterval: Int
    /// The training file, or nil for the generated tasks in `tasks`.
    public var trainFile: String?
    /// Generated tasks (of `BAbIGenerator.tasks`) and questions per task for training.
    public var tasks: [Int]
    public var questionsPerTask: Int

    /// The defaults of `sequent memory train --task babi`: 3 hops, d = 20, position and
    /// temporal encoding, adjacent tying, 50 memories (the paper's bAbI settings), Adam at
    /// 0.01 (cosine-annealed to 0.001 over 10000 steps) with batches of 32, no linear start,
    /// random noise 0.1 (an empty memory before 10% of the statements in training); the LSTM reads 32-wide embeddings with 64
    /// hidden units. 1000 training questions per generated task, as bAbI 1k.
    public static func defaults(model: String) -> BAbIConfig {
        BAbIConfig(model: model, network: EndToEndMemoryNetworkConfiguration(vocabularySize: 1), lstmEmbedding: 32, lstmHidden: 64,
                   batchSize: 32, steps: 10000, learningRate: model == "lstm" ? 3e-3 : 1e-2, maxGradientNorm: 40, linearStartSteps: 0, randomNoise: 0.1,
                   seed: 42, evaluationInterval: 100, trainFile: nil, tasks: BAbIGenerator.tasks, questionsPerTask: 1000)
    }

    /// - Throws: `SequentError` naming the first value out of range.
    public func validate() throws {
        guard model == "memn2n" || model == "lstm" else {
            throw SequentError.invalidArgument("--model", "bAbI trains `memn2n` or `lstm`, got `\(model)`")
        }
        guard network.memories >= 1 else {
            throw SequentError.invalidArgument("--memories", "the memory network needs at least 1 memory slot, got \(network.memories)")
        }
        guard network.hops >= 1, network.embeddingSize >= 1, lstmHidden >= 1, lstmEmbedding >= 1, batchSize >= 1, steps >= 1,
              evaluationInterval >= 1, questionsPerTask >= 1, linearStartSteps >= 0, randomNoise >= 0, randomNoise < 1 else {
            throw SequentError.invalidArgument("memory train", "hops, sizes, batch size, steps and questions must be at least 1")
        }
        for task in tasks where !BAbIGenerator.tasks.contains(task) {
            throw SequentError.invalidArgument("--babi-tasks", "task \(task) is not generated; choose from \(BAbIGenerator.tasks.map(String.init).joined(separator: ","))")
        }
    }
}

/// Questions grouped by task (generated) or by file.
public struct BAbIDataSet {
    public var groups: [(name: String, examples: [BAbIExample])]
    public var all: [BAbIExample] { groups.flatMap(\.examples) }

    public init(groups: [(name: String, examples: [BAbIExample])]) { self.groups = groups }

    /// The generated tasks: `count` questions of each, from `seed` (training and test sets
    /// differ by seed).
    public static func generated(tasks: [Int], count: Int, seed: UInt64) throws -> BAbIDataSet {
        BAbIDataSet(groups: try tasks.map { task in
            var generator = try BAbIGenerator(task: task, seed: seed)
            var examples: [BAbIExample] = []
            while examples.count < count { examples += BAbIFormat.examples(generator.stories(10)) }
            return ("task \(task)", Array(examples.prefix(count)))
        })
    }

    /// The questions of a bAbI file.
    public static func file(_ path: String) throws -> BAbIDataSet {
        let examples = BAbIFormat.examples(try BAbIFormat.read(URL(fileURLWithPath: path)))
        guard !examples.isEmpty else { throw SequentError.malformedFile(path, "holds no question") }
        return BAbIDataSet(groups: [(URL(fileURLWithPath: path).lastPathComponent, examples)])
    }
}

/// A model for bAbI: the memory network or the LSTM that reads the story as one sequence.
public enum BAbIModel {
    case memn2n(EndToEndMemoryNetwork)
    case lstm(StoryLSTM)

    public init(_ config: BAbIConfig, vocabularySize: Int) throws {
        var generator = RandomGenerator(seed: config.seed)
        if config.model == "memn2n" {
            var network = config.network
            network.vocabularySize = vocabularySize
            self = .memn2n(try EndToEndMemoryNetwork(configuration: network, generator: &generator))
        } else {
            self = .lstm(try StoryLSTM(vocabularySize: vocabularySize, embeddingSize: config.lstmEmbedding, hiddenSize: config.lstmHidden,
                                       generator: &generator))
        }
    }

    public var module: any Module {
        switch self { case .memn2n(let m): m; case .lstm(let m): m }
    }

    /// Answer logits (B, V) and, for the memory network, each hop's attention (B, S).
    public func callAsFunction(_ examples: [BAbIExample], vocabulary: BAbIVocabulary, memories: Int, sentenceLength: Int) throws
        -> (logits: Tensor, attention: [Tensor], batch: BAbIBatch) {
        let batch = BAbIBatch(examples, vocabulary: vocabulary, memories: memories, sentenceLength: sentenceLength)
        let (logits, attention) = try self(batch, examples, vocabulary: vocabulary)
        return (logits, attention, batch)
    }

    /// Answer logits and attention for `examples` packed as `batch` (the memory network reads
    /// the batch; the LSTM reads the examples' words, `batch.memories` statements at most).
    public func callAsFunction(_ batch: BAbIBatch, _ examples: [BAbIExample], vocabulary: BAbIVocabulary) throws
        -> (logits: Tensor, attention: [Tensor]) {
        let memories = batch.memories
        switch self {
        case .memn2n(let network):
            return try network(stories: batch.stories, questions: batch.questions, memoryMask: batch.memoryMask, batchSize: batch.batchSize)
        case .lstm(let lstm):
            let sequences = examples.map { example in
                (example.story.suffix(memories).joined() + example.question).map { vocabulary.id($0) ?? 0 }
            }
            let T = max(1, sequences.map(\.count).max() ?? 1)
            var tokens = [Int](repeating: 0, count: examples.count * T)
            for (b, sequence) in sequences.enumerated() { for (t, id) in sequence.enumerated() { tokens[b * T + t] = id } }
            let logits = try lstm(tokens: tokens, batchSize: examples.count, time: T, lengths: sequences.map { max(1, $0.count) })
            return (logits, [])
        }
    }
}

/// The generator of the training batches' random noise, saved in checkpoints.
private final class NoiseSource {
    var generator: RandomGenerator
    init(generator: RandomGenerator) { self.generator = generator }
}

/// Training and scoring on bAbI, shared by `sequent memory` and the lab.
public enum BAbITraining {
    /// The memory and sentence sizes that fit `examples` (at most the config's memories).
    public static func sizes(_ examples: [BAbIExample], config: BAbIConfig) -> (memories: Int, sentenceLength: Int) {
        let longestStory = examples.map(\.story.count).max() ?? 1
        let longestSentence = examples.flatMap { $0.story.map(\.count) + [$0.question.count] }.max() ?? 1
        return (max(1, min(config.network.memories, longestStory)), max(1, longestSentence))
    }

    /// What a run produced.
    public struct Outcome {
        public var model: BAbIModel
        public var vocabulary: BAbIVocabulary
        /// The config with the sizes the data set (vocabulary, memories, sentence length).
        public var config: BAbIConfig
        public var result: TrainingResult
        public var seconds: Double
    }

    /// Trains on `train`, validating on `validation`; keeps the weights of the best
    /// validation accuracy (saved to the folder's `model.safetensors`).
    public static func train(_ config: BAbIConfig, train: BAbIDataSet, validation: BAbIDataSet,
                             options: BitTaskTraining.RunOptions) throws -> Outcome {
        try config.validate()
        let vocabulary = BAbIVocabulary(train.all)
        var config = config
        (config.network.memories, config.network.sentenceLength) = sizes(train.all, config: config)
        config.network.vocabularySize = vocabulary.count
        let model = try BAbIModel(config, vocabularySize: vocabulary.count)
        switch model {
        case .memn2n(let m): return try run(m, model, vocabulary, config, train, validation, options)
        case .lstm(let m): return try run(m, model, vocabulary, config, train, validation, options)
        }
    }

    private static func run<M: Module>(_ module: M, _ model: BAbIModel, _ vocabulary: BAbIVocabulary, _ config: BAbIConfig,
                                       _ train: BAbIDataSet, _ validation: BAbIDataSet, _ options: BitTaskTraining.RunOptions) throws -> Outcome {
        let (S, J) = (config.network.memories, config.network.sentenceLength)
        // `batchSize` is the global batch: every rank walks the same batches and keeps its
        // rows of each (as evenly as they divide; the mean over questions is weighted by rows).
        let distributed = options.distributed
        let data = try UnevenShardedBatches(ShuffledBatches(train.all, batchSize: config.batchSize, generator: RandomGenerator(seed: config.seed &+ 1)),
                                            rank: distributed?.rank ?? 0, shardCount: distributed?.size ?? 1)
        let configuration = options.trainerConfiguration(
            steps: config.steps, evaluationInterval: config.evaluationInterval, maxGradientNorm: config.maxGradientNorm)
        let network: EndToEndMemoryNetwork? = { if case .memn2n(let n) = model { return n }; return nil }()
        network?.linearAttention = config.linearStartSteps > 0
        let optimizer = try Adam(namedParameters: module.namedParameters(), learningRate: config.learningRate)
        let validationExamples = validation.all
        let noise = NoiseSource(generator: RandomGenerator(seed: config.seed &+ 2))
        let trainer = try Trainer(
            model: module, optimizer: optimizer, data: data, configuration: configuration,
            schedule: try CosineAnnealing(initialLearningRate: config.learningRate, totalSteps: config.steps,
                                          minimumLearningRate: config.learningRate / 10),
            validation: { _ in
                let scores = try evaluate(model, vocabulary: vocabulary, examples: validationExamples, memories: S, sentenceLength: J)
                return ["accuracy": scores.accuracy, "loss": scores.loss]
            },
            modelConfig: config
        ) { _, share in
            // Every rank packs the whole batch (drawing its random noise in one process's
            // order, so the generator stays the same on every rank) and keeps its rows; a
            // rank without rows computes the batch's first and counts for nothing.
            let whole = BAbIBatch(share.global, vocabulary: vocabulary, memories: S, sentenceLength: J,
                                  emptyMemoryProbability: config.randomNoise, generator: &noise.generator)
            let rows = share.rows.isEmpty ? 0..<1 : share.rows
            let batch = whole.rows(rows)
            let (logits, _) = try model(batch, Array(share.global[rows]), vocabulary: vocabulary)
            return (try Loss.crossEntropy(logits: logits, targets: batch.answers), share.rows.count)
        }
        // The loss is a mean over questions, and the ranks' shares may differ in rows.
        trainer.lossWeight = { Double($0.rows.count) }
        trainer.randomGenerators["noise"] = RandomGeneratorAccess(get: { noise.generator }, set: { noise.generator = $0 })
        var best: Double?
        var bestWeights = module.stateDictionary()
        trainer.callbacks.append(ClosureCallback(
            onStepEnd: { report, _ in
                if report.step >= config.linearStartSteps { network?.linearAttention = false }
            },
            onEvaluation: { report, _ in
                guard let accuracy = report.metrics["accuracy"], best.map({ accuracy > $0 }) ?? true else { return }
                best = accuracy
                bestWeights = module.stateDictionary()
                guard distributed?.isRoot ?? true else { return }
                try options.folder?.saveWeights(of: module, metadata: ["step": String(report.step), "accuracy": String(accuracy)])
            }))
        try options.resumeIfAsked(trainer)
        let started = Date()
        let result = try trainer.fit()
        let seconds = Date().timeIntervalSince(started)
        try module.loadStateDictionary(bestWeights)
        network?.linearAttention = false
        return Outcome(model: model, vocabulary: vocabulary, config: config, result: result, seconds: seconds)
    }

    /// Scores on a set of questions.
    public struct Scores: Sendable {
        public var questions: Int
        public var accuracy: Double
        public var loss: Double
        /// Among correct answers (memory network only): the fraction where every supporting
        /// statement is the most attended memory of at least one hop.
        public var supportsFound: Double?
        /// Among correct answers: the fraction where some hop's most attended memory is a
        /// supporting statement.
        public var anySupportFound: Double?
    }

    /// Accuracy, loss and (for the memory network) where the attention went.
    public static func evaluate(_ model: BAbIModel, vocabulary: BAbIVocabulary, examples: [BAbIExample],
                                memories: Int, sentenceLength: Int) throws -> Scores {
        model.module.setTraining(false)
        defer { model.module.setTraining(true) }
        var correct = 0, lossTotal = 0.0, allFound = 0, anyFound = 0, attended = 0
        for start in stride(from: 0, to: examples.count, by: 128) {
            let chunk = Array(examples[start..<min(start + 128, examples.count)])
            let (logits, attention, batch) = try withoutGradients {
                try model(chunk, vocabulary: vocabulary, memories: memories, sentenceLength: sentenceLength)
            }
            lossTotal += Double(try Loss.crossEntropy(logits: logits, targets: batch.answers).item) * Double(chunk.count)
            let predicted = logits.argmax(alongAxis: 1).scalars.map { Int($0) }
            for b in 0..<chunk.count where predicted[b] == batch.answers[b] {
                correct += 1
                guard !attention.isEmpty, !batch.supporting[b].isEmpty else { continue }
                attended += 1
                let picks = Set(attention.map { hop in
                    let row = hop.scalars[(b * memories)..<((b + 1) * memories)]
                    return row.indices.max { row[$0] < row[$1] }! - b * memories
                })
                if batch.supporting[b].allSatisfy(picks.contains) { allFound += 1 }
                if batch.supporting[b].contains(where: picks.contains) { anyFound += 1 }
            }
        }
        let n = max(examples.count, 1)
        return Scores(questions: examples.count, accuracy: Double(correct) / Double(n), loss: lossTotal / Double(n),
                      supportsFound: attended > 0 ? Double(allFound) / Double(attended) : nil,
                      anySupportFound: attended > 0 ? Double(anyFound) / Double(attended) : nil)
    }

    /// The memory network's attention per hop over the statements of one story, as a heatmap
    /// (statements oldest first against hops), with the supporting statements marked `*`.
    public static func attentionPicture(_ network: EndToEndMemoryNetwork, vocabulary: BAbIVocabulary, example: BAbIExample,
                                        memories: Int, sentenceLength: Int) throws -> Heatmap {
        network.setTraining(false)
        defer { network.setTraining(true) }
        let batch = BAbIBatch([example], vocabulary: vocabulary, memories: memories, sentenceLength: sentenceLength)
        let (logits, attention) = try withoutGradients {
            try network(stories: batch.stories, questions: batch.questions, memoryMask: batch.memoryMask, batchSize: 1)
        }
        let answer = vocabulary.words[Int(logits.argmax(alongAxis: 1).scalars[0])]
        let shown = min(example.story.count, memories)
        let first = example.story.count - shown
        let rows = (first..<example.story.count).map { index in
            (example.supporting.contains(index) ? "* " : "") + example.story[index].joined(separator: " ")
        }
        let values = (first..<example.story.count).map { index in
            attention.map { Double($0.scalars[example.story.count - 1 - index]) }
        }
        var picture = Heatmap(title: "\(example.question.joined(separator: " "))? answered \(answer) (true: \(example.answer))",
                              xTitle: "hop", yTitle: "statement (* supporting)", xLabels: (1...attention.count).map { "hop \($0)" },
                              yLabels: rows, values: values, valueTitle: "attention")
        picture.width = 760
        return picture
    }
}
