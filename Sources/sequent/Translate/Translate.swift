import ArgumentParser
import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

extension Sequent {
    /// `sequent translate`: sequence-to-sequence models on sentence pairs (translation, chatbots).
    struct Translate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "translate",
            abstract: "Train a sequence-to-sequence model on sentence pairs, score it with BLEU and chrF, and translate.",
            discussion: """
                Example (runs as written from the repository, on ../shared/data; German to English):

                  sequent translate train --source ../shared/data/translation/multi30k/train.de --target ../shared/data/translation/multi30k/train.en --val-source ../shared/data/translation/multi30k/val.de --val-target ../shared/data/translation/multi30k/val.en --out de-en --time-limit 30m
                  sequent translate eval de-en --source ../shared/data/translation/multi30k/val.de --reference ../shared/data/translation/multi30k/val.en --json
                  echo "Ein Mann fährt Fahrrad." | sequent translate predict de-en --beam 5 --attention-svg alignment.svg
                  sequent translate predict de-en --interactive
                """,
            subcommands: [TranslateTrain.self, TranslatePredict.self, TranslateEval.self])
    }
}

/// The architectures `sequent translate train --model` accepts.
enum TranslationArchitecture: String, Codable, CaseIterable, ExpressibleByArgument {
    case gru, lstm, transformer
}

/// The attention of the recurrent models (`--attention`).
enum TranslationAttention: String, Codable, CaseIterable, ExpressibleByArgument {
    case none, additive, dot, general

    var seq2seq: Seq2Seq.Attention {
        switch self {
        case .none: return .none
        case .additive: return .additive
        case .dot: return .multiplicative(.dot)
        case .general: return .multiplicative(.general)
        }
    }
}


/// What `config.json`'s `config` holds for `sequent translate`.
struct TranslateConfig: TaskConfig, Equatable {
    var model: TranslationArchitecture
    /// Recurrent models only.
    var attention: TranslationAttention
    var bidirectional: Bool
    var layers: Int
    /// Recurrent: the encoder's hidden size per direction; Transformer: d_model.
    var hidden: Int
    /// Recurrent: the token-vector size; Transformer: d_model as well.
    var embedding: Int
    /// Transformer only.
    var heads: Int
    var feedForward: Int
    var dropout: Float
    var labelSmoothing: Float
    var tokenizer: TokenizerKind
    var jointVocabulary: Bool
    var sourceVocabularySize: Int
    /// The target tokenizer's size plus the begin and end tokens.
    var targetVocabularySize: Int
    /// Sentences longer than this many tokens are dropped from training (or refused).
    var maxLength: Int
    /// Transformer: the positions the model has (source and target).
    var maxPositions: Int
    /// Pairs per batch, all ranks together; with `maxTokens`, the most.
    var batchSize: Int
    /// Batches cut by padded tokens, all ranks together (`--max-tokens` x ranks); nil: by
    /// `batchSize` pairs (and in folders written before the option existed).
    var maxTokens: Int?
    var steps: Int
    var learningRate: Float
    var warmupSteps: Int
    var seed: UInt64
    var data: TranslateDataSummary

    enum CodingKeys: String, CodingKey {
        case model, attention, bidirectional, layers, hidden, embedding, heads, dropout, tokenizer, steps, seed, data
        case feedForward = "feed_forward"
        case labelSmoothing = "label_smoothing"
        case jointVocabulary = "joint_vocabulary"
        case sourceVocabularySize = "source_vocabulary_size"
        case targetVocabularySize = "target_vocabulary_size"
        case maxLength = "max_length"
        case maxPositions = "max_positions"
        case batchSize = "batch_size"
        case maxTokens = "max_tokens"
        case learningRate = "learning_rate"
        case warmupSteps = "warmup_steps"
    }

    /// The target tokenizer's own vocabulary (without the two specials).
    var targetTokenizerSize: Int { targetVocabularySize - 2 }

    static func parameters(of model: TranslationModel) -> any Module { model.module }

    func makeModel(generator: inout RandomGenerator) throws -> TranslationModel {
        switch model {
        case .gru, .lstm:
            let perDirection = hidden
            let valueSize = (bidirectional ? 2 : 1) * perDirection
            let seq2seq = try Seq2Seq(
                cell: model == .gru ? .gru : .lstm, sourceVocabularySize: sourceVocabularySize,
                targetVocabularySize: targetVocabularySize, embeddingSize: embedding, hiddenSize: perDirection,
                decoderHiddenSize: attention == .dot ? valueSize : perDirection, encoderLayerCount: layers,
                bidirectional: bidirectional, attention: attention.seq2seq, dropout: dropout,
                beginToken: targetTokenizerSize, endToken: targetTokenizerSize + 1, generator: &generator)
            return .recurrent(seq2seq)
        case .transformer:
            let transformer = try TransformerTranslator(
                sourceVocabularySize: sourceVocabularySize, targetVocabularySize: targetVocabularySize, dModel: hidden,
                headCount: heads, encoderLayerCount: layers, decoderLayerCount: layers, dimFeedforward: feedForward,
                dropout: dropout, maxPositions: maxPositions,
                beginToken: targetTokenizerSize, endToken: targetTokenizerSize + 1, generator: &generator)
            return .transformer(transformer)
        }
    }

    func summary(parameterCount: Int) -> String {
        switch model {
        case .transformer:
            return "Transformer \(layers)+\(layers) layers, d_model \(hidden), \(heads) heads, feed-forward \(feedForward), \(formatCount(parameterCount)) parameters, vocabularies \(sourceVocabularySize) -> \(targetVocabularySize) (\(tokenizer.rawValue)\(jointVocabulary ? ", joint" : ""))"
        default:
            return "\(model.rawValue.uppercased()) seq2seq, \(bidirectional ? "bidirectional " : "")encoder \(layers) x \(hidden), attention \(attention.rawValue), token vectors \(embedding), \(formatCount(parameterCount)) parameters, vocabularies \(sourceVocabularySize) -> \(targetVocabularySize) (\(tokenizer.rawValue)\(jointVocabulary ? ", joint" : ""))"
        }
    }
}

struct TranslateDataSummary: Codable, Equatable {
    var train: String
    var val: String?
    var trainPairs: Int
    var droppedPairs: Int
    var valPairs: Int

    enum CodingKeys: String, CodingKey {
        case train, val
        case trainPairs = "train_pairs"
        case droppedPairs = "dropped_pairs"
        case valPairs = "val_pairs"
    }
}

/// A translation model: the recurrent encoder-decoder or the Transformer, behind one
/// interface for the loss, decoding and the attention picture.
enum TranslationModel {
    case recurrent(Seq2Seq)
    case transformer(TransformerTranslator)

    var module: any Module {
        switch self {
        case .recurrent(let model): return model
        case .transformer(let model): return model
        }
    }

    func setTraining(_ training: Bool) { module.setTraining(training) }

    /// The teacher-forced, label-smoothed cross-entropy of a batch (mean over target tokens).
    func loss(source: Seq2Seq.Batch, target: Seq2Seq.Batch, labelSmoothing: Float) throws -> Tensor {
        switch self {
        case .recurrent(let model): return try model.loss(source: source, target: target, labelSmoothing: labelSmoothing)
        case .transformer(let model): return try model.loss(source: source, target: target, labelSmoothing: labelSmoothing)
        }
    }

    /// Greedy decoding of a batch: the tokens of each sentence.
    func greedy(_ source: Seq2Seq.Batch, maxLength: Int) throws -> [[Int]] {
        switch self {
        case .recurrent(let model): return try model.greedyDecode(source: source, maxLength: maxLength).sequences
        case .transformer(let model): return try model.greedyDecode(source: source, maxLength: maxLength).sequences
        }
    }

    /// Beam search over a batch of sentences at once (every live hypothesis one decoder
    /// row): each sentence's best hypothesis's tokens.
    func beam(_ sources: Seq2Seq.Batch, width: Int, maxLengths: [Int], lengthPenalty: Float) throws -> [[Int]] {
        switch self {
        case .recurrent(let model):
            return try model.beamSearch(source: sources, beamWidth: width, maxLengths: maxLengths, lengthPenalty: lengthPenalty)
                .map { $0.first?.tokens ?? [] }
        case .transformer(let model):
            return try model.beamSearch(source: sources, beamWidth: width, maxLengths: maxLengths, lengthPenalty: lengthPenalty)
                .map { $0.first?.tokens ?? [] }
        }
    }

    /// The greedy output of one sentence with its alignment (T, S): the recurrent model's
    /// attention, or the Transformer cross-attention that `choice` names; `what` says which.
    func alignment(_ source: [Int], maxLength: Int, choice: AttentionChoice = .init()) throws -> (tokens: [Int], alignment: Tensor?, what: String) {
        try check(choice)
        let batch = try Seq2Seq.Batch([source])
        switch self {
        case .recurrent(let model):
            let decoding = try model.greedyDecode(source: batch, maxLength: maxLength)
            return (decoding.sequences[0], decoding.alignment.map { $0.reshaped(to: [$0.shape[1], $0.shape[2]]) }, "\(model.attention == .additive ? "additive" : "multiplicative") attention weights")
        case .transformer(let model):
            let tokens = try model.greedyDecode(source: batch, maxLength: maxLength).sequences[0]
            let layers = model.transformer.decoder.layers.count
            let layer = choice.layer ?? layers - 1
            let layerName = "decoder layer \(layer + 1) of \(layers)\(layer == layers - 1 ? " (the last)" : "")"
            guard !tokens.isEmpty else { return (tokens, nil, layerName) }
            if let head = choice.head {
                let perHead = try model.crossAttention(source: source, tokens: tokens, layer: layer, perHead: true)  // (h, T, S)
                return (tokens, perHead.select(alongAxis: 0, index: head), "cross-attention of \(layerName), head \(head + 1) of \(model.headCount)")
            }
            return (tokens, try model.crossAttention(source: source, tokens: tokens, layer: layer),
                    "cross-attention of \(layerName), averaged over \(model.headCount) heads")
        }
    }

    /// Refuses a head or layer the model does not have, naming the flag.
    func check(_ choice: AttentionChoice) throws {
        switch self {
        case .recurrent(let model):
            if choice.head != nil || choice.layer != nil {
                let flag = choice.head != nil ? "--attention-head" : "--attention-layer"
                throw SequentError.invalidArgument(flag, "the recurrent model has one attention (\(model.attention == .additive ? "additive" : "multiplicative")), without heads or decoder layers to choose; leave \(flag) out")
            }
        case .transformer(let model):
            if let head = choice.head, head >= model.headCount {
                throw SequentError.invalidArgument("--attention-head", "head \(head + 1) does not exist; the model has \(model.headCount) heads (give 1...\(model.headCount), or mean)")
            }
            let layers = model.transformer.decoder.layers.count
            if let layer = choice.layer, layer >= layers {
                throw SequentError.invalidArgument("--attention-layer", "decoder layer \(layer + 1) does not exist; the model has \(layers) decoder layers (give 1...\(layers), or last)")
            }
        }
    }

    /// The most source tokens a sentence may have (nil: no limit).
    var maxSourceLength: Int? {
        if case .transformer(let model) = self { return model.maxPositions }
        return nil
    }
}

/// Which cross-attention map of the Transformer an alignment picture draws (0-based here;
/// the flags `--attention-head` and `--attention-layer` count from 1).
struct AttentionChoice: Equatable {
    /// One head; nil for the mean over heads.
    var head: Int? = nil
    /// One decoder layer; nil for the last.
    var layer: Int? = nil
}

/// A flag that takes a number from 1 or one word (`--attention-head N|mean`,
/// `--attention-layer L|last`).
struct NumberOrWord<Word: NamedChoice>: ExpressibleByArgument, Equatable {
    /// The number as given (from 1); nil for the word.
    let number: Int?

    init(number: Int?) { self.number = number }

    init?(argument: String) {
        if argument == Word.name {
            number = nil
        } else if let number = Int(argument), number >= 1 {
            self.number = number
        } else {
            return nil
        }
    }

    var defaultValueDescription: String { number.map(String.init) ?? Word.name }

    /// The number from 0, as the model counts.
    var index: Int? { number.map { $0 - 1 } }
}

/// The word a `NumberOrWord` flag accepts instead of a number.
protocol NamedChoice { static var name: String { get } }
enum MeanOfHeads: NamedChoice { static let name = "mean" }
enum LastLayer: NamedChoice { static let name = "last" }

/// A model folder of `sequent translate`, opened.
struct TranslateFolder {
    static let task = "translate"
    static let targetTokenizerFileName = "target_tokenizer.json"

    let folder: ModelFolder
    let config: TranslateConfig
    let tokenizers: TranslationTokenizers
    let model: TranslationModel

    /// The folder, settings and tokenizers of a run to continue (`train --resume`).
    static func openForResume(_ path: String) throws -> (folder: ModelFolder, config: TranslateConfig, tokenizers: TranslationTokenizers) {
        let (folder, config) = try ModelFolder.open(URL(fileURLWithPath: path), task: task, config: TranslateConfig.self)
        return (folder, config, try tokenizers(of: folder, config: config))
    }

    /// The tokenizers saved in a folder, checked against its config.
    static func tokenizers(of folder: ModelFolder, config: TranslateConfig) throws -> TranslationTokenizers {
        let source = try folder.loadTokenizer(vocabularySize: config.sourceVocabularySize)
        let target: any Tokenizer = config.jointVocabulary ? source : try loadTokenizer(from: folder.file(targetTokenizerFileName))
        guard target.vocabularySize == config.targetTokenizerSize else {
            throw SequentError.malformedFile(folder.file(targetTokenizerFileName).path, "the target tokenizer has \(target.vocabularySize) tokens but config.json says \(config.targetTokenizerSize)")
        }
        return TranslationTokenizers(source: source, target: target, isJoint: config.jointVocabulary)
    }

    static func open(_ path: String) throws -> TranslateFolder {
        let (folder, config) = try ModelFolder.open(URL(fileURLWithPath: path), task: task, config: TranslateConfig.self)
        let tokenizers = try Self.tokenizers(of: folder, config: config)
        let model = try folder.loadTrainedModel(config)
        return TranslateFolder(folder: folder, config: config, tokenizers: tokenizers, model: model)
    }
}

/// Translating many sentences: batches of similar lengths, greedy or beam search, text out.
/// How `translate eval` and `translate predict` decode: greedy or beam, its length
/// normalisation, the output limit.
struct DecodingOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Beam width (1: greedy).")
    var beam = 1

    @Option(name: .customLong("length-penalty"), parsing: .unconditional, help: "Beam search: the length-normalisation exponent alpha (0: raw log-probability).")
    var lengthPenalty: Float = 0.6

    @Option(name: .customLong("max-length"), parsing: .unconditional, help: "The most output tokens (default: twice the source's + 10).")
    var maxLength: Int?

    func validate() throws {
        guard beam >= 1, beam <= 1000 else { throw ValidationError("--beam must be in 1...1000; got \(beam)") }
        guard lengthPenalty >= 0, lengthPenalty <= 10 else { throw ValidationError("--length-penalty must be in [0, 10]; got \(lengthPenalty)") }
        try TrainingOptions.check(maxLength, "--max-length", in: 1...100_000)
    }

    /// The output token ids of `sources`, decoded as these flags say.
    func translate(_ model: TranslationModel, sources: [[Int]]) throws -> [[Int]] {
        try TranslationInference.translate(model, sources: sources, beam: beam, maxLength: maxLength, lengthPenalty: lengthPenalty)
    }
}

enum TranslationInference {
    /// The default most output tokens: a little more than the source allows.
    static func outputLimit(sourceLength: Int, maxLength: Int?) -> Int {
        maxLength ?? max(10, sourceLength * 2 + 10)
    }

    /// Translates `sources` (token ids), returning each output's token ids.
    static func translate(
        _ model: TranslationModel, sources: [[Int]], beam: Int = 1, maxLength: Int? = nil, lengthPenalty: Float = 0.6,
        batchSize: Int = 128
    ) throws -> [[Int]] {
        var outputs = [[Int]](repeating: [], count: sources.count)
        let order = sources.indices.sorted { sources[$0].count < sources[$1].count }
        // Beam search: about `batchSize` decoder rows too (k per sentence).
        let sentencesPerBatch = beam > 1 ? max(1, batchSize / beam) : batchSize
        for start in stride(from: 0, to: order.count, by: sentencesPerBatch) {
            let indices = Array(order[start..<min(start + sentencesPerBatch, order.count)])
            let batch = try Seq2Seq.Batch(indices.map { sources[$0] })
            let decoded: [[Int]]
            if beam > 1 {
                decoded = try model.beam(batch, width: beam, maxLengths: indices.map { outputLimit(sourceLength: sources[$0].count, maxLength: maxLength) },
                                         lengthPenalty: lengthPenalty)
            } else {
                let longest = indices.map { sources[$0].count }.max() ?? 1
                decoded = try model.greedy(batch, maxLength: outputLimit(sourceLength: longest, maxLength: maxLength))
            }
            for (row, index) in indices.enumerated() { outputs[index] = decoded[row] }
        }
        return outputs
    }

    /// The validation scores of a model: BLEU and chrF of its greedy detokenised output.
    static func score(
        _ model: TranslationModel, tokenizers: TranslationTokenizers, sources: [[Int]], references: [String],
        beam: Int = 1, maxLength: Int? = nil
    ) throws -> (bleu: BLEU, chrF: ChrF, hypotheses: [String]) {
        let outputs = try translate(model, sources: sources, beam: beam, maxLength: maxLength)
        let hypotheses = outputs.map { tokenizers.detokenize($0) }
        return (BLEU(hypotheses: hypotheses, references: references), ChrF(hypotheses: hypotheses, references: references), hypotheses)
    }

    /// The source ids of each sentence, checked: an empty sentence or one longer than the
    /// model's positions is refused, naming its line.
    static func encodeSources(
        _ lines: [String], tokenizers: TranslationTokenizers, model: TranslationModel, origin: String, lineNumbers: [Int]? = nil
    ) throws -> [[Int]] {
        try lines.enumerated().map { i, line in
            let number = lineNumbers?[i] ?? i + 1
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw SequentError.malformedFile(origin, "line \(number) is empty; give one sentence a line")
            }
            let ids = try tokenizers.encodeSource(line)
            if let limit = model.maxSourceLength, ids.count > limit {
                throw SequentError.malformedFile(origin, "line \(number) has \(ids.count) tokens; the Transformer has \(limit) positions (retrain with a larger --max-length, or split the sentence)")
            }
            return ids
        }
    }
}
