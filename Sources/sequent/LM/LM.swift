import ArgumentParser
import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

extension Sequent {
    /// `sequent lm`: language models on the user's own text.
    struct LM: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lm",
            abstract: "Train a language model on your text, score text with it, and generate from it.",
            discussion: """
                Example (runs as written from the repository, on ../shared/data):

                  sequent lm train --text ../shared/data/text/tinyshakespeare.txt --out shakespeare --time-limit 10m
                  sequent lm eval shakespeare --text ../shared/data/text/tinyshakespeare.txt --json
                  sequent lm generate shakespeare --prompt "ROMEO:" --length 500 --temperature 0.8
                """,
            subcommands: [LMTrain.self, LMEval.self, LMGenerate.self])
    }
}

/// The model architectures `--model` accepts.
enum LMArchitecture: String, Codable, CaseIterable, ExpressibleByArgument {
    case lstm, gru, rnn, transformer

    var cell: RecurrentCellType? {
        switch self {
        case .lstm: return .lstm
        case .gru: return .gru
        case .rnn: return .rnn(.tanh)
        case .transformer: return nil
        }
    }
}

extension TokenizerKind: ExpressibleByArgument {}

/// What `config.json`'s `config` holds for `sequent lm`: everything that rebuilds the model,
/// its tokenizer settings, the data it was trained on and the training settings.
struct LMConfig: TaskConfig, Equatable {
    /// The architecture.
    var model: LMArchitecture
    /// Stacked layers.
    var layers: Int
    /// The recurrent hidden size, or the Transformer's width (key `hidden`).
    var hiddenSize: Int
    /// The recurrent model's token-vector size (the Transformer's is its width).
    var embedding: Int
    /// The Transformer's attention heads (0 for recurrent models).
    var heads: Int
    /// T: tokens per training window (the Transformer's positions).
    var context: Int
    var dropout: Float
    var tokenizer: TokenizerKind
    /// V.
    var vocabularySize: Int
    var batchSize: Int
    /// Planned optimizer steps (the learning-rate schedule's length).
    var steps: Int
    var learningRate: Float
    var seed: UInt64
    /// How training windows are laid out (`streams` with carried state for recurrent models).
    var windowOrder: WindowOrder
    /// The data.
    var data: LMDataSummary

    enum CodingKeys: String, CodingKey {
        case model, layers
        case hiddenSize = "hidden"
        case embedding, heads, context, dropout, tokenizer, steps, seed, data
        case vocabularySize = "vocabulary_size"
        case batchSize = "batch_size"
        case learningRate = "learning_rate"
        case windowOrder = "window_order"
    }

    /// Builds the model this config describes, its initial weights drawn from `generator`.
    func makeModel(generator: inout RandomGenerator) throws -> LanguageModel {
        if let cell = model.cell {
            return try LanguageModel(
                RecurrentLanguageModel.Configuration(
                    cell: cell, vocabularySize: vocabularySize, embeddingSize: embedding, hiddenSize: hiddenSize,
                    layerCount: layers, dropout: dropout),
                generator: &generator)
        }
        return try LanguageModel(
            vocabularySize: vocabularySize, width: hiddenSize, layerCount: layers, headCount: heads, context: context,
            dropout: dropout, generator: &generator)
    }

    /// One line for the terminal: "LSTM 2 x 512, 3.3M parameters, char tokens (65)".
    func summary(parameterCount: Int) -> String {
        let shape = model == .transformer ? "\(layers) layers x \(hiddenSize) wide, \(heads) heads" : "\(layers) x \(hiddenSize)"
        return "\(model.rawValue.uppercased()) \(shape), \(formatCount(parameterCount)) parameters, \(tokenizer.rawValue) tokens (\(vocabularySize)), context \(context)"
    }
}

/// The text a model was trained and validated on.
struct LMDataSummary: Codable, Equatable {
    var text: String
    var val: String?
    var valFraction: Double?
    var trainTokens: Int
    var valTokens: Int
    var trainCharacters: Int
    var valCharacters: Int

    enum CodingKeys: String, CodingKey {
        case text, val
        case valFraction = "val_fraction"
        case trainTokens = "train_tokens"
        case valTokens = "val_tokens"
        case trainCharacters = "train_characters"
        case valCharacters = "val_characters"
    }
}

/// A model folder of `sequent lm`, opened: config, tokenizer and the best weights.
struct LMFolder {
    static let task = "lm"

    let folder: ModelFolder
    let config: LMConfig
    let tokenizer: any Tokenizer
    let model: LanguageModel

    /// Opens `path`, refusing a folder of another task, and loads the best weights.
    static func open(_ path: String) throws -> LMFolder {
        let (folder, config) = try ModelFolder.open(URL(fileURLWithPath: path), task: task, config: LMConfig.self)
        let tokenizer = try folder.loadTokenizer(vocabularySize: config.vocabularySize)
        let model = try folder.loadTrainedModel(config, hint: " (resume it with `sequent lm train --resume --out \(path)`)")
        return LMFolder(folder: folder, config: config, tokenizer: tokenizer, model: model)
    }
}

/// What a language model scores on a token sequence.
struct LMScore: Equatable {
    /// Mean negative log-likelihood per scored token, in nats.
    var loss: Double
    /// Tokens scored (all but the first).
    var tokens: Int
    /// Characters (Unicode scalars) those tokens decode to.
    var characters: Int

    var perplexity: Double { exp(loss) }
    /// Bits per character: the total negative log-likelihood in bits over the characters.
    var bitsPerCharacter: Double { characters > 0 ? loss * Double(tokens) / (Double(characters) * M_LN2) : .nan }

    var metrics: [String: Double] {
        ["loss": loss, "perplexity": perplexity, "bits_per_char": bitsPerCharacter]
    }
}

enum LMEvaluation {
    /// Scores every token of `tokens` after the first, in order.
    ///
    /// A recurrent model reads B contiguous streams with its state carried from window to
    /// window, so each token is predicted from all the text before it in its stream. A
    /// Transformer reads windows of its context, each from scratch.
    ///
    /// - Parameter characters: the Unicode scalars of the text, for bits per character.
    static func score(
        _ model: LanguageModel, tokens: [Int], characters: Int, tokenizer: any Tokenizer, batchSize: Int, context: Int
    ) throws -> LMScore {
        let (loss, scored) = try LanguageModelScore.loss(model, tokens: tokens, batchSize: batchSize, context: context)
        let firstCharacters = tokenizer.decode([tokens[0]]).unicodeScalars.count
        return LMScore(loss: loss, tokens: scored, characters: max(0, characters - firstCharacters))
    }
}

/// "3.3M", "65.5k", "812".
func formatCount(_ value: Int) -> String {
    if value >= 1_000_000 { return String(format: "%.1fM", Double(value) / 1e6) }
    if value >= 10_000 { return String(format: "%.1fk", Double(value) / 1e3) }
    return String(value)
}

