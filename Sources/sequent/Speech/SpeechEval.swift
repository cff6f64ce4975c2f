import ArgumentParser
import Foundation
import SequentData
import SequentTensor

extension Sequent.Speech {
    /// `sequent speech eval DIR --audio DIR`: WER, CER and utterance accuracy on labelled audio.
    struct SpeechEval: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eval",
            abstract: "Score a trained recogniser on labelled audio: WER, CER, utterance accuracy.",
            discussion: """
                Files that cannot be read are skipped by name, with a count; units the model \
                never saw in training count as errors. Example (FSDD's test split):

                  sequent speech eval digits --audio ../shared/data/fsdd/recordings --label-from-filename '{label}_*' --takes 0-4 --json
                """)

        @Argument(help: "The model folder written by `sequent speech train`.")
        var model: String

        @OptionGroup var input: SpeechInputOptions

        @Option(parsing: .unconditional, help: "Prefix beam search of this width (1: greedy).")
        var beam = 1

        @Flag(help: "Print one JSON object (wer, cer, accuracy, utterances, skipped, seconds, audio_seconds, real_time_factor, audio, model).")
        var json = false

        @Flag(name: .customLong("show-errors"), help: "List the utterances transcribed wrongly.")
        var showErrors = false

        @OptionGroup var threads: ThreadOption

        func validate() throws {
            try TrainingOptions.check(beam, "--beam", in: 1...1024)
        }

        func run() throws {
            try Parallelism.withThreads(threads.count) {
                let opened = try SpeechFolder.open(model)
                let config = opened.config
                let (selected, unmatched) = try input.utterances()
                let started = Date()
                let audio = SpeechFeatures.load(selected, extractor: opened.extractor)
                let skipped = unmatched + audio.skipped
                reportSkipped(skipped)
                guard !audio.utterances.isEmpty else {
                    throw SequentError.invalidArgument("--audio", "\(input.audio): no readable audio among \(selected.count) files")
                }
                let texts = audio.utterances.map(\.text)
                let known = Set(config.alphabet.symbols)
                let unseen = texts.filter { !SpeechAlphabet.split($0, units: config.alphabet.units).allSatisfy(known.contains) }
                if !unseen.isEmpty {
                    FileHandle.standardError.write(Data("\(unseen.count) transcript(s) hold \(config.alphabet.units.rawValue) the model never saw (e.g. \"\(unseen[0])\"); they count as errors\n".utf8))
                }
                let score = try SpeechEvaluation.score(opened.model, inputs: try audio.prepared(config), targets: nil, texts: texts,
                                                       alphabet: config.alphabet, beam: beam)
                let seconds = Date().timeIntervalSince(started)
                let m = score.recognition
                if json {
                    let object: [String: Any] = [
                        "wer": m.wordErrorRate, "cer": m.characterErrorRate, "accuracy": m.accuracy, "utterances": m.utterances,
                        "skipped": skipped.count, "word_errors": m.wordErrors, "reference_words": m.referenceWords,
                        "seconds": seconds, "audio_seconds": audio.seconds, "real_time_factor": seconds / max(audio.seconds, 1e-9),
                        "audio": input.description, "model": model, "beam": beam,
                    ]
                    let encoded = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                    print(String(decoding: encoded, as: UTF8.self))
                } else {
                    print(String(format: "%@: %d utterances (%.1f min of audio) in %.2f s, %.0fx faster than real time",
                                 input.description, m.utterances, audio.seconds / 60, seconds, audio.seconds / max(seconds, 1e-9)))
                    print(String(format: "WER %.4f (%d errors / %d words), CER %.4f, utterance accuracy %.4f%@",
                                 m.wordErrorRate, m.wordErrors, m.referenceWords, m.characterErrorRate, m.accuracy,
                                 skipped.isEmpty ? "" : ", \(skipped.count) skipped"))
                }
                if showErrors {
                    for (u, hypothesis) in zip(audio.utterances, score.hypotheses) where hypothesis != u.text {
                        FileHandle.standardError.write(Data("\(u.url.lastPathComponent)\tsaid \"\(u.text)\"\theard \"\(hypothesis)\"\n".utf8))
                    }
                }
            }
        }
    }
}
