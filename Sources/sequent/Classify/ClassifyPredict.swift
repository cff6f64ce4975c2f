import ArgumentParser
import Foundation
import SequentData
import SequentTensor

extension Sequent.Classify {
    /// `sequent classify predict DIR`: labels for texts, one a line, from stdin or --input.
    struct ClassifyPredict: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "predict",
            abstract: "Label texts (one a line, from --input or stdin) with a trained classifier.",
            discussion: """
                Each non-empty line is one text. Output, one line a text: the label and every \
                class's probability, tab-separated (a header line names the columns), or one \
                JSON object a line with --json. --explain adds the text's tokens with their \
                attention weights (attention pooling only). Example:

                  echo "a gorgeous , witty , seductive movie ." | sequent classify predict sst2 --explain
                """)

        @Argument(help: "The model folder written by `sequent classify train`.")
        var model: String

        @Option(help: "A UTF-8 file of texts, one a line; default: stdin.")
        var input: String?

        @Flag(help: "One JSON object a line: text, label, probabilities (and attention with --explain).")
        var json = false

        @Flag(help: "Show each token with its attention weight (models with attention pooling).")
        var explain = false

        @Option(parsing: .unconditional, help: "Threads (default: all cores).")
        var threads: Int?

        func validate() throws { _ = try ThreadCount.checked(threads) }

        func run() throws {
            try Parallelism.withThreads(try ThreadCount.checked(threads)) {
                let opened = try ClassifyFolder.open(model)
                if explain, opened.config.pooling != .attention {
                    throw SequentError.invalidArgument("--explain", "needs a model with attention pooling; \(model) pools with '\(opened.config.pooling.rawValue)'")
                }
                let content: String
                if let input {
                    let bytes = try InputFile.read(URL(fileURLWithPath: input), flag: "--input")
                    guard let text = String(data: bytes, encoding: .utf8) else { throw SequentError.malformedFile(input, "is not UTF-8 text") }
                    content = text
                } else {
                    let bytes = FileHandle.standardInput.readDataToEndOfFile()
                    guard let text = String(data: bytes, encoding: .utf8) else { throw SequentError.malformedFile("<stdin>", "is not UTF-8 text") }
                    content = text
                }
                let lines = content.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
                    .map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                guard !lines.isEmpty else {
                    throw SequentError.invalidArgument(input == nil ? "stdin" : "--input", "no text to classify (every line is empty)")
                }
                let config = opened.config
                let sequences = try lines.map { try classifierTokens($0, tokenizer: opened.tokenizer, maxLength: config.maxLength) }
                let output = try ClassifierInference.run(opened.model, sequences: sequences, keepsAttention: explain)
                if !json { print((["label"] + config.classes.map { "p(\($0))" } + ["text"]).joined(separator: "\t")) }
                for (i, text) in lines.enumerated() {
                    let p = output.probabilities[i]
                    let label = config.classes[ClassifierInference.argmax(p).0]
                    let tokens = sequences[i].map { opened.tokenizer.displayName(of: $0) }
                    if json {
                        var object: [String: Any] = [
                            "text": text, "label": label,
                            "probabilities": Dictionary(uniqueKeysWithValues: zip(config.classes, p.map(Double.init))),
                        ]
                        if explain, let weights = output.attention?[i] {
                            object["attention"] = zip(tokens, weights).map { ["token": $0, "weight": Double($1)] as [String: Any] }
                        }
                        let encoded = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                        print(String(decoding: encoded, as: UTF8.self))
                    } else {
                        print(([label] + p.map { String(format: "%.4f", $0) } + [text]).joined(separator: "\t"))
                        if explain, let weights = output.attention?[i] {
                            print("  " + zip(tokens, weights).map { String(format: "%@(%.3f)", $0, $1) }.joined(separator: " "))
                        }
                    }
                }
            }
        }
    }
}
