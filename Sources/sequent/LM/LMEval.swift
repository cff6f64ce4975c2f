import ArgumentParser
import Foundation
import SequentData
import SequentTensor

extension Sequent.LM {
    /// `sequent lm eval DIR --text FILE`: how well a model predicts a text.
    struct LMEval: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eval",
            abstract: "Score a text with a trained language model: loss, perplexity, bits per character.",
            discussion: """
                Every token after the first is scored once, a recurrent model carrying its \
                state through the text (in --batch-size parallel stretches), a Transformer \
                reading windows of its context. Characters the model's tokenizer has never \
                seen become <unk> (word) or are an error naming them (char); bpe encodes \
                any text. Example:

                  sequent lm eval shakespeare --text ../shared/data/text/tinyshakespeare.txt --json
                """)

        @Argument(help: "The model folder written by `sequent lm train`.")
        var model: String

        @Option(help: "The text to score: a UTF-8 file or a folder of them.")
        var text: String

        @Flag(help: "Print one JSON object (loss, perplexity, bits_per_char, tokens, characters, text, bytes).")
        var json = false

        @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Parallel stretches of the text (default: the training batch size).")
        var batchSize: Int?

        @OptionGroup var threads: ThreadOption

        func validate() throws {
            try TrainingOptions.check(batchSize, "--batch-size", in: 1...1_048_576)
        }

        func run() throws {
            try Parallelism.withThreads(threads.count) {
                let opened = try LMFolder.open(model)
                let textURL = URL(fileURLWithPath: text)
                let content = try TextFiles.read(textURL, option: "--text")
                let tokens = try opened.tokenizer.encode(content, path: text)
                guard tokens.count >= 2 else {
                    throw SequentError.invalidArgument("--text", "\(text) gives \(tokens.count) token(s); at least 2 are needed to score one")
                }
                let started = Date()
                let score = try LMEvaluation.score(
                    opened.model, tokens: tokens, characters: content.unicodeScalars.count, tokenizer: opened.tokenizer,
                    batchSize: batchSize ?? opened.config.batchSize, context: opened.config.context)
                let seconds = Date().timeIntervalSince(started)
                let unknown = opened.tokenizer.unknownID.map { id in tokens.filter { $0 == id }.count } ?? 0
                if json {
                    var object: [String: Any] = [
                        "loss": score.loss, "perplexity": score.perplexity, "bits_per_char": score.bitsPerCharacter,
                        "tokens": score.tokens, "characters": score.characters, "text": text,
                        "bytes": content.utf8.count, "model": model, "seconds": seconds,
                    ]
                    if opened.tokenizer.unknownID != nil { object["unknown_tokens"] = unknown }
                    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    print("\(text): \(score.tokens) tokens scored (\(score.characters) characters) in \(String(format: "%.1f", seconds)) s")
                    print(String(format: "loss %.4f nats/token, perplexity %.3f, %.4f bits/char", score.loss, score.perplexity, score.bitsPerCharacter))
                    if unknown > 0 { print("\(unknown) tokens were <unk> (words the model's vocabulary lacks)") }
                }
            }
        }
    }
}
