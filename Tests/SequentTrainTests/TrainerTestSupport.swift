import Foundation
import SequentNN
import SequentData
import SequentTensor
@testable import SequentTrain

/// A character language model small enough to train in milliseconds in a debug build, with a
/// `Dropout` layer so that checkpoints must carry a model generator too.
///
///     tokens (B, T) -> Embedding (B, T, E) -> Dropout -> LSTM (B, T, H) -> Linear (B, T, V)
final class TinyCharacterModel: Module {
    struct Config: Codable, Equatable {
        var vocabularySize: Int
        var embeddingSize = 6
        var hiddenSize = 8
        var dropout: Float = 0.1
    }

    let embedding: Embedding
    let dropout: Dropout
    let lstm: LSTM
    let head: Linear
    var isTraining = true

    init(_ config: Config, generator: inout RandomGenerator) throws {
        embedding = Embedding(vocabularySize: config.vocabularySize, embeddingSize: config.embeddingSize, generator: &generator)
        dropout = try Dropout(probability: config.dropout, generator: &generator)
        lstm = try LSTM(inputSize: config.embeddingSize, hiddenSize: config.hiddenSize, batchFirst: true, generator: &generator)
        head = Linear(inputSize: config.hiddenSize, outputSize: config.vocabularySize, generator: &generator)
    }

    var submodules: [(key: String, module: any Module)] {
        [("emb", embedding), ("drop", dropout), ("rnn", lstm), ("head", head)]
    }

    /// Logits (B, T, V) for tokens (B, T), row-major.
    func callAsFunction(_ tokens: [Int], batchSize: Int, time: Int) throws -> Tensor {
        let embedded = dropout(try embedding(tokens, shape: [batchSize, time]))
        return head(try lstm(embedded).output)
    }
}

/// The task the trainer tests share: next-character prediction on a generated text, in
/// windows of `time + 1` characters whose start offsets are the examples.
enum TinyCharacterTask {
    static let time = 8
    static let batchSize = 4

    /// A text with structure to learn: repeated words in an order from a fixed generator.
    static let text: String = {
        let words = ["abc", "bcd", "cab", "dab", "abba", "cd"]
        var generator = RandomGenerator(seed: 11)
        return (0..<120).map { _ in words[Int(generator.next() % UInt64(words.count))] }.joined(separator: " ")
    }()
    static let vocabulary: [Character] = Array(Set(text)).sorted()
    static let tokens: [Int] = text.map { vocabulary.firstIndex(of: $0)! }
    /// Every window start; the last 40 are kept for validation.
    static let trainingOffsets = Array(0..<(tokens.count - time - 1 - 40))
    static let validationOffsets = Array((tokens.count - time - 1 - 40)..<(tokens.count - time - 1)).filter { $0 % 5 == 0 }

    static var config: TinyCharacterModel.Config { .init(vocabularySize: vocabulary.count) }

    /// Mean cross-entropy of next-character prediction over the windows at `offsets`.
    static func loss(_ model: TinyCharacterModel, _ offsets: [Int]) throws -> (loss: Tensor, tokenCount: Int) {
        var inputs: [Int] = [], targets: [Int] = []
        for offset in offsets {
            inputs += tokens[offset..<(offset + time)]
            targets += tokens[(offset + 1)...(offset + time)]
        }
        let logits = try model(inputs, batchSize: offsets.count, time: time)
        return (try Loss.crossEntropy(logits: logits, targets: targets), inputs.count)
    }

    /// A trainer over fresh objects: model, optimizer (Adam), schedule (warm-up then cosine),
    /// data. `seed` seeds everything; a resumed trainer may use another seed, since the
    /// checkpoint replaces all of it.
    static func makeTrainer(
        _ configuration: TrainerConfiguration, seed: UInt64 = 1, validation: Bool = true
    ) throws -> Trainer<TinyCharacterModel, ShuffledBatches<Int>> {
        var generator = RandomGenerator(seed: seed)
        let model = try TinyCharacterModel(config, generator: &generator)
        let optimizer = try Adam(namedParameters: model.namedParameters(), learningRate: 0.02)
        let schedule = try LinearWarmup(warmupSteps: 3, then: CosineAnnealing(initialLearningRate: 0.02, totalSteps: 40, minimumLearningRate: 0.002))
        let data = try ShuffledBatches(trainingOffsets, batchSize: batchSize, generator: generator.split())
        return try Trainer(
            model: model, optimizer: optimizer, data: data, configuration: configuration, schedule: schedule,
            validation: validation ? { model in ["loss": Double(try loss(model, validationOffsets).loss.item)] } : nil,
            modelConfig: config, loss: loss)
    }

    /// A quiet configuration (no progress output) on one thread.
    static func configuration(totalSteps: Int) -> TrainerConfiguration {
        var configuration = TrainerConfiguration(totalSteps: totalSteps)
        configuration.progress = nil
        configuration.threadCount = 1
        configuration.maxGradientNorm = 1
        return configuration
    }
}

/// Bit patterns, so comparisons are bitwise.
func bitPatterns(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

func bitPatterns(_ state: [String: Tensor]) -> [String: [UInt32]] { state.mapValues { $0.scalars.map(\.bitPattern) } }
