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

        @Option(name: .customLong("explain-html"), help: "Also write the texts as HTML, each token highlighted by its attention weight (attention pooling).")
        var explainHTML: String?

        @OptionGroup var threads: ThreadOption

        func run() throws {
            try Parallelism.withThreads(threads.count) {
                let opened = try ClassifyFolder.open(model)
                if explain || explainHTML != nil, opened.config.pooling != .attention {
                    throw SequentError.invalidArgument(explain ? "--explain" : "--explain-html", "needs a model with attention pooling; \(model) pools with '\(opened.config.pooling.rawValue)'")
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
                let output = try ClassifierInference.run(opened.model, sequences: sequences, keepsAttention: explain || explainHTML != nil)
                if let explainHTML, let attention = output.attention {
                    let rows = lines.indices.map { i in
                        (text: lines[i], label: config.classes[ClassifierInference.argmax(output.probabilities[i]).0],
                         probability: ClassifierInference.argmax(output.probabilities[i]).1,
                         tokens: sequences[i].map { opened.tokenizer.displayName(of: $0) }, weights: attention[i])
                    }
                    let html = ClassifyExplanation.html(rows)
                    do {
                        try Data(html.utf8).write(to: URL(fileURLWithPath: explainHTML), options: .atomic)
                    } catch {
                        throw SequentError.io(explainHTML, "cannot write the explanation: \(error.localizedDescription)")
                    }
                }
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

/// Texts as HTML with each token's background as strong as its attention weight.
enum ClassifyExplanation {
    static func html(_ rows: [(text: String, label: String, probability: Float, tokens: [String], weights: [Float])]) -> String {
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        var page = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>sequent classify: attention</title></head>\n<body style=\"font-family: sans-serif\">\n"
        for row in rows {
            let largest = max(row.weights.max() ?? 1, 1e-9)
            page += "<p><b>\(escape(row.label))</b> (\(String(format: "%.3f", row.probability))): "
            for (token, weight) in zip(row.tokens, row.weights) {
                let alpha = String(format: "%.3f", weight / largest)
                page += "<span title=\"\(String(format: "%.4f", weight))\" style=\"background: rgba(255, 120, 0, \(alpha))\">\(escape(token))</span> "
            }
            page += "</p>\n"
        }
        return page + "</body></html>\n"
    }
}
