import ArgumentParser
import Foundation
import SequentData
import SequentTensor

extension Sequent.LM {
    /// `sequent lm generate DIR`: text from a trained model, printed as it is produced.
    struct LMGenerate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Continue a prompt with a trained language model, printing tokens as they come.",
            discussion: """
                Recurrent models step token by token with their state carried (no recomputation); \
                a Transformer keeps each layer's keys and values. Sampling: softmax at \
                --temperature (0 is greedy), restricted to the --top-k most probable tokens and \
                to the smallest set holding --top-p of the probability. The prompt: --prompt, \
                --prompt-file (- for standard input), or standard input when it is a pipe or a \
                file; with none, the text starts after a line break. Examples:

                  sequent lm generate shakespeare --prompt "ROMEO:" --length 500 --temperature 0.8 --top-k 40
                  echo "JULIET:" | sequent lm generate shakespeare --length 200
                """)

        @Argument(help: "The model folder written by `sequent lm train`.")
        var model: String

        @Option(help: "The text to continue.")
        var prompt: String?

        @Option(name: .customLong("prompt-file"), help: "A UTF-8 file whose text to continue; - reads standard input.")
        var promptFile: String?

        @Option(parsing: .unconditional, help: "Tokens to generate.")
        var length = 500

        @Option(parsing: .unconditional, help: "Softmax temperature; 0 for greedy decoding.")
        var temperature: Float = 1

        @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Sample only from the k most probable tokens.")
        var topK: Int?

        @Option(name: .customLong("top-p"), parsing: .unconditional, help: "Sample only from the most probable tokens holding this share of the probability, in (0, 1].")
        var topP: Float?

        @Option(parsing: .unconditional, help: "The seed of the sampling.")
        var seed: UInt64 = 42

        @OptionGroup var threads: ThreadOption

        @Flag(help: "Print the generated text only (no prompt echo, no speed on standard error).")
        var quiet = false

        func validate() throws {
            try TrainingOptions.check(length, "--length", in: 0...100_000_000)
            if prompt != nil && promptFile != nil { throw ValidationError("give --prompt or --prompt-file, not both") }
            // The sampler's checks, with its messages.
            do { _ = try TokenSampler(temperature: temperature, topK: topK, topP: topP, seed: seed) } catch let error as SequentError {
                throw ValidationError(error.message)
            }
        }

        func run() throws {
            try Parallelism.withThreads(threads.count) {
                let opened = try LMFolder.open(model)
                let promptText: String
                var promptSource = "--prompt"
                if let promptFile, promptFile != "-" {
                    promptText = try TextFiles.read(URL(fileURLWithPath: promptFile), option: "--prompt-file")
                    promptSource = promptFile
                } else if promptFile == "-" || (prompt == nil && isatty(STDIN_FILENO) == 0) {
                    // A pipe's text, without the line break `echo` ends it with.
                    let bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
                    var text = bytes.isEmpty ? "" : try TextFiles.decode(bytes, path: "<stdin>")
                    if text.hasSuffix("\n") && promptFile == nil { text.removeLast() }
                    promptText = text
                    promptSource = "<stdin>"
                } else {
                    promptText = prompt ?? ""
                }
                var promptTokens = try opened.tokenizer.encode(promptText, path: promptSource)
                if promptTokens.isEmpty {
                    promptTokens = (try? opened.tokenizer.encode("\n")).flatMap { $0.isEmpty ? nil : $0 } ?? [0]
                }
                var sampler = try TokenSampler(temperature: temperature, topK: topK, topP: topP, seed: seed)
                let generator = try LMGenerator(model: opened.model)
                let output = FileHandle.standardOutput
                if !quiet { output.write(Data(promptText.utf8)) }
                try generator.feed(promptTokens)
                var stream = UTF8Stream()
                var previous = promptTokens.last
                var bytes: [UInt8] = []
                let started = Date()
                try generator.generate(count: length, sampler: &sampler) { token in
                    bytes.removeAll(keepingCapacity: true)
                    opened.tokenizer.appendBytes(of: token, after: previous, to: &bytes)
                    previous = token
                    let piece = stream.append(bytes)
                    if !piece.isEmpty { output.write(Data(piece.utf8)) }
                }
                let seconds = Date().timeIntervalSince(started)
                output.write(Data((stream.finish() + "\n").utf8))
                if !quiet {
                    FileHandle.standardError.write(Data(String(
                        format: "generated %d tokens in %.2f s: %.0f tokens/s, %.1f us/token\n",
                        length, seconds, Double(length) / max(seconds, 1e-9), seconds * 1e6 / Double(max(length, 1))).utf8))
                }
            }
        }
    }
}
