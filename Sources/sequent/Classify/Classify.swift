import ArgumentParser
import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

extension Sequent {
    /// `sequent classify`: text classification (sentiment and any labelled texts).
    struct Classify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "classify",
            abstract: "Train a text classifier on labelled texts, score it, and label new texts.",
            discussion: """
                Example (runs as written from the repository, on ../shared/data):

                  sequent classify train --train ../shared/data/classification/sst2/train.tsv --text-column sentence --label-column label --out sst2 --time-limit 10m
                  sequent classify eval sst2 --data ../shared/data/classification/sst2/train.tsv --json
                  echo "a gorgeous , witty , seductive movie ." | sequent classify predict sst2 --explain
                """,
            subcommands: [ClassifyTrain.self, ClassifyEval.self, ClassifyPredict.self])
    }
}

/// The architectures `sequent classify train --model` accepts.
enum ClassifierArchitecture: String, Codable, CaseIterable, ExpressibleByArgument {
    case bilstm, bigru, lstm, gru, transformer

    /// The recurrent cell; nil for the Transformer.
    var cell: RecurrentCellType? {
        switch self {
        case .bilstm, .lstm: return .lstm
        case .bigru, .gru: return .gru
        case .transformer: return nil
        }
    }

    var bidirectional: Bool { self == .bilstm || self == .bigru }
}

extension TextPooling: ExpressibleByArgument {}

/// What `config.json`'s `config` holds for `sequent classify`.
struct ClassifyConfig: TaskConfig, Equatable {
    var model: ClassifierArchitecture
    var pooling: TextPooling
    var layers: Int
    var hidden: Int
    var embedding: Int
    var dropout: Float
    var embeddingDropout: Float
    /// The Transformer's heads and feed-forward size (nil for the recurrent models).
    var heads: Int?
    var feedForward: Int?
    /// The class labels, in id order.
    var classes: [String]
    /// Per-class loss weights (nil: all 1).
    var classWeights: [Float]?
    var vocabularySize: Int
    /// Texts longer than this many tokens are cut to it.
    var maxLength: Int
    var batchSize: Int
    var steps: Int
    var learningRate: Float
    var seed: UInt64
    /// The pretrained word vectors the token vectors started from, if any.
    var embeddings: String?
    /// Whether those vectors were kept fixed.
    var freezeEmbeddings: Bool
    var textColumn: String
    var labelColumn: String
    var data: ClassifyDataSummary

    enum CodingKeys: String, CodingKey {
        case model, pooling, layers, hidden, embedding, embeddings, dropout, classes, steps, seed, data, heads
        case feedForward = "feed_forward"
        case embeddingDropout = "embedding_dropout"
        case classWeights = "class_weights"
        case vocabularySize = "vocabulary_size"
        case maxLength = "max_length"
        case batchSize = "batch_size"
        case learningRate = "learning_rate"
        case freezeEmbeddings = "freeze_embeddings"
        case textColumn = "text_column"
        case labelColumn = "label_column"
    }

    func makeModel(generator: inout RandomGenerator) throws -> TextClassifier {
        guard let cell = model.cell else {
            return try TextClassifier(
                transformerWidth: hidden, headCount: heads ?? 4, feedForwardSize: feedForward ?? 4 * hidden, layerCount: layers,
                maxLength: maxLength, vocabularySize: vocabularySize, classCount: classes.count, pooling: pooling,
                dropout: dropout, embeddingDropout: embeddingDropout, generator: &generator)
        }
        return try TextClassifier(
            cell: cell, bidirectional: model.bidirectional, vocabularySize: vocabularySize, embeddingSize: embedding,
            hiddenSize: hidden, layerCount: layers, classCount: classes.count, pooling: pooling, dropout: dropout,
            embeddingDropout: embeddingDropout, generator: &generator)
    }

    func summary(parameterCount: Int) -> String {
        let shape = heads.map { "\(layers) x \(hidden), \($0) heads" } ?? "\(layers) x \(hidden)"
        return "\(model.rawValue.uppercased()) \(shape), \(pooling.rawValue) pooling, \(formatCount(parameterCount)) parameters, \(vocabularySize) word tokens, \(classes.count) classes"
    }
}

struct ClassifyDataSummary: Codable, Equatable {
    var train: String
    var val: String?
    var valFraction: Double?
    var trainRecords: Int
    var valRecords: Int

    enum CodingKeys: String, CodingKey {
        case train, val
        case valFraction = "val_fraction"
        case trainRecords = "train_records"
        case valRecords = "val_records"
    }
}

/// A model folder of `sequent classify`, opened.
struct ClassifyFolder {
    static let task = "classify"

    let folder: ModelFolder
    let config: ClassifyConfig
    let tokenizer: any Tokenizer
    let model: TextClassifier

    static func open(_ path: String) throws -> ClassifyFolder {
        let (folder, config) = try ModelFolder.open(URL(fileURLWithPath: path), task: task, config: ClassifyConfig.self)
        let tokenizer = try folder.loadTokenizer(vocabularySize: config.vocabularySize)
        let model = try folder.loadTrainedModel(config)
        return ClassifyFolder(folder: folder, config: config, tokenizer: tokenizer, model: model)
    }
}

/// A text as token ids, cut to the model's maximum length (at least one token).
func classifierTokens(_ text: String, tokenizer: any Tokenizer, maxLength: Int) throws -> [Int] {
    let ids = try tokenizer.encode(text)
    return ids.isEmpty ? [tokenizer.unknownID ?? 0] : Array(ids.prefix(maxLength))
}

/// Texts in padded batches: ids (B, T) row-major, lengths, the records' indices.
struct TextBatch {
    var tokens: [Int]
    var lengths: [Int]
    var indices: [Int]
    var time: Int
    var batchSize: Int { lengths.count }

    init(_ sequences: [[Int]], indices: [Int]) {
        let time = indices.map { sequences[$0].count }.max() ?? 1
        var tokens = [Int](repeating: 0, count: indices.count * time)
        for (row, index) in indices.enumerated() {
            for (t, id) in sequences[index].enumerated() { tokens[row * time + t] = id }
        }
        self.tokens = tokens
        self.lengths = indices.map { sequences[$0].count }
        self.indices = indices
        self.time = time
    }
}

/// What a classifier says about each text.
struct ClassifierOutput {
    /// probabilities[i][c].
    var probabilities: [[Float]]
    /// attention[i]: one weight per token (attention pooling only).
    var attention: [[Float]]?
    var loss: Double
}

enum ClassifierInference {
    /// Runs `model` on every sequence, in batches of similar lengths (sorted), without gradients.
    /// `labels` (class ids) give the mean cross-entropy in `loss` (NaN without them).
    static func run(_ model: TextClassifier, sequences: [[Int]], labels: [Int]? = nil, batchSize: Int = 256, keepsAttention: Bool = false) throws
        -> ClassifierOutput {
        let order = sequences.indices.sorted { sequences[$0].count < sequences[$1].count }
        var probabilities = [[Float]](repeating: [], count: sequences.count)
        var attention: [[Float]]? = keepsAttention && model.pooling == .attention ? [[Float]](repeating: [], count: sequences.count) : nil
        var total = 0.0
        try withoutGradients {
            for start in stride(from: 0, to: order.count, by: batchSize) {
                let batch = TextBatch(sequences, indices: Array(order[start..<min(start + batchSize, order.count)]))
                let (logits, weights) = try model(batch.tokens, batchSize: batch.batchSize, time: batch.time, lengths: batch.lengths)
                let probs = logits.softmax(alongAxis: 1).scalars
                let C = model.classCount
                for (row, index) in batch.indices.enumerated() {
                    probabilities[index] = Array(probs[(row * C)..<((row + 1) * C)])
                }
                if let labels {
                    let targets = batch.indices.map { labels[$0] }
                    total += Double(try Loss.crossEntropy(logits: logits, targets: targets, reduction: .sum).scalars[0])
                }
                if attention != nil, let weights {
                    let w = weights.scalars
                    for (row, index) in batch.indices.enumerated() {
                        attention![index] = Array(w[(row * batch.time)..<(row * batch.time + batch.lengths[row])])
                    }
                }
            }
        }
        return ClassifierOutput(probabilities: probabilities, attention: attention,
                                loss: labels == nil ? .nan : total / Double(max(1, sequences.count)))
    }

    /// The predicted class and its probability.
    static func argmax(_ p: [Float]) -> (Int, Float) {
        var best = 0
        for c in p.indices where p[c] > p[best] { best = c }
        return (best, p.isEmpty ? 0 : p[best])
    }

    /// Scores the outputs against `labels`.
    static func metrics(_ output: ClassifierOutput, labels: [Int], classCount: Int) -> ClassificationMetrics {
        let predictions = output.probabilities.map { argmax($0) }
        return ClassificationMetrics(truth: labels, predicted: predictions.map(\.0), classCount: classCount,
                                     confidence: predictions.map { Double($0.1) })
    }
}
