import ArgumentParser
import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

extension Sequent.Translate {
    /// `sequent translate eval DIR --source FILE --reference FILE`: corpus BLEU and chrF.
    struct TranslateEval: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eval",
            abstract: "Translate --source with a model folder and score it against --reference: corpus BLEU and chrF as sacrebleu's defaults.",
            discussion: """
                BLEU is sacrebleu's default corpus BLEU (13a tokenisation of the detokenised output, exp \
                smoothing, exact brevity penalty); chrF is sacrebleu's default (character 6-grams, beta 2). \
                --json prints one object with bleu, chrf, sentences, and the details. Example:

                  sequent translate eval de-en --source ../shared/data/translation/multi30k/val.de --reference ../shared/data/translation/multi30k/val.en --json
                """)

        @Argument(help: "The model folder written by `sequent translate train`.")
        var model: String

        @Option(help: "Source sentences, one a line.")
        var source: String

        @Option(help: "Reference translations, line i for --source line i.")
        var reference: String

        @OptionGroup var decoding: DecodingOptions



        @Option(help: "Also write the translations to this file, one a line.")
        var output: String?

        @Flag(help: "Print one JSON object on stdout.")
        var json = false

        @OptionGroup var threads: ThreadOption

        func run() throws {
            try Parallelism.withThreads(threads.count) {
                let started = Date()
                let opened = try TranslateFolder.open(model)
                let pairs = try SentencePairs.readParallel(source: URL(fileURLWithPath: source), target: URL(fileURLWithPath: reference),
                                                           sourceFlag: "--source", targetFlag: "--reference")
                let sources = try TranslationInference.encodeSources(pairs.sources, tokenizers: opened.tokenizers, model: opened.model,
                                                                     origin: source, lineNumbers: pairs.lines)
                let outputs = try decoding.translate(opened.model, sources: sources)
                let hypotheses = outputs.map { opened.tokenizers.detokenize($0) }
                let bleu = BLEU(hypotheses: hypotheses, references: pairs.targets)
                let chrF = ChrF(hypotheses: hypotheses, references: pairs.targets)
                if let output {
                    do {
                        try (hypotheses.joined(separator: "\n") + "\n").write(toFile: output, atomically: true, encoding: .utf8)
                    } catch {
                        throw SequentError.io(output, "--output: cannot write the translations (\(InputFile.describe(error)))")
                    }
                }
                let seconds = Date().timeIntervalSince(started)
                if json {
                    let object: [String: Any] = [
                        "bleu": bleu.score, "chrf": chrF.score, "sentences": pairs.count,
                        "bleu_precisions": bleu.precisions, "brevity_penalty": bleu.brevityPenalty,
                        "hypothesis_tokens": bleu.hypothesisLength, "reference_tokens": bleu.referenceLength,
                        "source": source, "reference": reference, "beam": decoding.beam, "seconds": seconds,
                    ]
                    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    print(String(format: "BLEU %.2f (%@; BP %.3f, %d/%d tokens), chrF %.2f over %d sentences (%@, %.1f s)",
                                 bleu.score, bleu.precisions.map { String(format: "%.1f", $0) }.joined(separator: "/"),
                                 bleu.brevityPenalty, bleu.hypothesisLength, bleu.referenceLength, chrF.score, pairs.count,
                                 decoding.beam > 1 ? "beam \(decoding.beam)" : "greedy", seconds))
                }
            }
        }
    }
}
