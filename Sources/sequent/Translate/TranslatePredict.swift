import ArgumentParser
import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

extension Sequent.Translate {
    /// `sequent translate predict DIR`: translates sentences, one a line, from a file or stdin.
    struct TranslatePredict: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "predict",
            abstract: "Translate sentences (one a line, from --input or stdin) with a model folder; one translation a line on stdout.",
            discussion: """
                Greedy decoding by default; --beam N keeps N hypotheses ranked by log-probability over \
                ((5 + length) / 6)^alpha (--length-penalty alpha, GNMT's normalisation). --interactive answers each \
                line as it is typed (a chatbot, for a model trained on message/reply pairs). --attention-svg FILE \
                draws the alignment of the first sentence: the recurrent model's attention, or the Transformer's \
                cross-attention (--attention-layer L|last, --attention-head N|mean; counted from 1; the plot's \
                title says which). Example:

                  echo "Ein Mann fährt Fahrrad." | sequent translate predict de-en --beam 5
                """)

        @Argument(help: "The model folder written by `sequent translate train`.")
        var model: String

        @Option(help: "A file of sentences, one a line (default: stdin).")
        var input: String?

        @OptionGroup var decoding: DecodingOptions

        @Flag(help: "Read a line, answer it, repeat (until end of input).")
        var interactive = false

        @Option(name: .customLong("attention-svg"), help: "Write the alignment of the first sentence (source tokens against output tokens) as an SVG.")
        var attentionSVG: String?

        @Option(name: .customLong("attention-head"), help: "With --attention-svg on a Transformer: the head to draw, 1...heads, or mean (the mean over heads).")
        var attentionHead = NumberOrWord<MeanOfHeads>(number: nil)

        @Option(name: .customLong("attention-layer"), help: "With --attention-svg on a Transformer: the decoder layer to draw, 1...layers, or last.")
        var attentionLayer = NumberOrWord<LastLayer>(number: nil)

        @OptionGroup var threads: ThreadOption

        func validate() throws {
            if interactive && input != nil { throw ValidationError("--interactive reads stdin; leave out --input") }
            if attentionSVG == nil {
                if attentionHead.number != nil { throw ValidationError("--attention-head chooses what --attention-svg draws; give --attention-svg FILE too") }
                if attentionLayer.number != nil { throw ValidationError("--attention-layer chooses what --attention-svg draws; give --attention-svg FILE too") }
            }
        }

        func run() throws {
            try Parallelism.withThreads(threads.count) {
                let opened = try TranslateFolder.open(model)
                try opened.model.check(attentionChoice)
                if interactive {
                    try runInteractive(opened)
                    return
                }
                let origin = input ?? "stdin"
                let text: String
                if let input {
                    text = try TextFiles.readFile(URL(fileURLWithPath: input), option: "--input")
                } else {
                    text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                }
                let lines = SentencePairs.lines(of: text)
                guard !lines.isEmpty else { throw SequentError.malformedFile(origin, "no sentences to translate") }
                let sources = try TranslationInference.encodeSources(lines, tokenizers: opened.tokenizers, model: opened.model, origin: origin)
                let outputs = try decoding.translate(opened.model, sources: sources)
                for output in outputs { print(opened.tokenizers.detokenize(output)) }
                if let attentionSVG { try writeAttention(opened, source: sources[0], to: attentionSVG) }
            }
        }

        func writeAttention(_ opened: TranslateFolder, source: [Int], to path: String) throws {
            let limit = TranslationInference.outputLimit(sourceLength: source.count, maxLength: decoding.maxLength)
            guard let svg = try TranslateReport.attentionSVG(model: opened.model, source: source, tokenizers: opened.tokenizers, maxLength: limit,
                                                             choice: attentionChoice) else {
                throw SequentError.invalidArgument("--attention-svg", "the model in \(model) has no attention weights to draw (\(opened.config.model.rawValue), attention \(opened.config.attention.rawValue)); train with --attention additive, dot or general")
            }
            do {
                try svg.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                throw SequentError.io(path, "--attention-svg: cannot write the picture (\(InputFile.describe(error)))")
            }
            FileHandle.standardError.write(Data("attention: \(path)\n".utf8))
        }

        /// The map the attention flags choose.
        var attentionChoice: AttentionChoice { AttentionChoice(head: attentionHead.index, layer: attentionLayer.index) }

        func runInteractive(_ opened: TranslateFolder) throws {
            let prompt = isatty(0) != 0
            var number = 0
            var first = true
            while true {
                if prompt { print("> ", terminator: ""); fflush(nil) }
                guard let line = readLine() else { break }
                number += 1
                let sentence = line.trimmingCharacters(in: .whitespacesAndNewlines)
                if sentence.isEmpty { continue }
                do {
                    let sources = try TranslationInference.encodeSources([sentence], tokenizers: opened.tokenizers, model: opened.model,
                                                                         origin: "stdin", lineNumbers: [number])
                    let output = try decoding.translate(opened.model, sources: sources)[0]
                    print(opened.tokenizers.detokenize(output))
                    fflush(nil)
                    if first, let attentionSVG { try writeAttention(opened, source: sources[0], to: attentionSVG) }
                    first = false
                } catch let error as SequentError {
                    // One bad line does not end the conversation.
                    FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
                }
            }
        }
    }
}
