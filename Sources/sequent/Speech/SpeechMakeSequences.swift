import ArgumentParser
import Foundation
import SequentData
import SequentTensor

extension Sequent.Speech {
    /// `sequent speech make-sequences`: connected-word utterances from isolated takes.
    struct SpeechMakeSequences: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "make-sequences",
            abstract: "Build connected utterances of 2-7 words from single-word takes, with random pauses.",
            discussion: """
                Writes NAME.wav files (16-bit PCM), transcripts.tsv (path<TAB>words) and \
                recipe.json (seed, counts, pauses, source and takes) into --out. Build the \
                training set from training takes and the test set from test takes only. Example:

                  sequent speech make-sequences --audio ../shared/data/fsdd/recordings --label-from-filename '{label}_*' --takes 5-49 --count 3000 --out digits-train
                  sequent speech make-sequences --audio ../shared/data/fsdd/recordings --label-from-filename '{label}_*' --takes 0-4 --count 500 --seed 7 --out digits-test
                """)

        @OptionGroup var input: SpeechInputOptions

        @Option(help: "The folder to write the utterances, transcripts.tsv and recipe.json into.")
        var out: String

        @Option(parsing: .unconditional, help: "Utterances to build.")
        var count = 1000

        @Option(name: .customLong("min-words"), parsing: .unconditional, help: "Fewest words an utterance.")
        var minWords = 2

        @Option(name: .customLong("max-words"), parsing: .unconditional, help: "Most words an utterance.")
        var maxWords = 7

        @Option(name: .customLong("min-pause"), parsing: .unconditional, help: "Shortest pause, seconds.")
        var minPause = 0.05

        @Option(name: .customLong("max-pause"), parsing: .unconditional, help: "Longest pause, seconds.")
        var maxPause = 0.5

        @Option(parsing: .unconditional, help: "The seed of every random choice.")
        var seed: UInt64 = 42

        func validate() throws {
            try TrainingOptions.check(count, "--count", in: 1...10_000_000)
            try TrainingOptions.check(minWords, "--min-words", in: 1...1000)
            try TrainingOptions.check(maxWords, "--max-words", in: minWords...1000)
            guard minPause >= 0, minPause <= maxPause, maxPause <= 10 else {
                throw ValidationError("pauses must satisfy 0 <= --min-pause <= --max-pause <= 10; got \(minPause) and \(maxPause)")
            }
        }

        func run() throws {
            let (selected, unmatched) = try input.utterances()
            let outURL = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
            let rate = try selected.lazy.compactMap { try? AudioFile.read($0.url).sampleRate }.first
                ?? { throw SequentError.invalidArgument("--audio", "\(input.audio): no readable audio file") }()
            var clips: [(samples: [Float], text: String)] = []
            var skipped = unmatched
            for u in selected {
                do { clips.append((try AudioFile.read(u.url, sampleRate: rate).samples, u.text)) } catch let error as SequentError {
                    skipped.append(error.message)
                }
            }
            reportSkipped(skipped)
            let recipe = ConnectedUtteranceRecipe(
                seed: seed, count: count, minimumWords: minWords, maximumWords: maxWords, minimumPause: minPause, maximumPause: maxPause,
                sampleRate: rate, source: input.audio, pattern: input.labelFromFilename ?? input.transcripts ?? "", takes: input.takes,
                sourceFiles: clips.count)
            let built = try recipe.build(from: clips)
            var tsv = "path\ttext\n"
            let digits = String(built.count - 1).count
            for (i, utterance) in built.enumerated() {
                let name = "seq_" + String(repeating: "0", count: max(0, digits - String(i).count)) + String(i) + ".wav"
                let peak = utterance.samples.map(abs).max() ?? 0
                let samples = peak > 1 ? utterance.samples.map { $0 / peak } : utterance.samples
                try AudioFile.write(samples, sampleRate: rate, to: outURL.appendingPathComponent(name), encoding: .wavPCM16)
                tsv += "\(name)\t\(utterance.text)\n"
            }
            try AtomicWrite.text(tsv, to: outURL.appendingPathComponent("transcripts.tsv"))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try AtomicWrite.text(String(decoding: try encoder.encode(recipe), as: UTF8.self) + "\n", to: outURL.appendingPathComponent("recipe.json"))
            let seconds = built.reduce(0.0) { $0 + Double($1.samples.count) } / Double(rate)
            print(String(format: "wrote %d utterances (%.1f min of audio, %d-%d words) from %d takes into %@", built.count, seconds / 60, minWords, maxWords, clips.count, out))
            print("next:  sequent speech train --audio \(out) --transcripts \(out)/transcripts.tsv --units words --out MODEL")
        }
    }
}

/// Writes a text file atomically (a temporary file renamed over it).
enum AtomicWrite {
    static func text(_ text: String, to url: URL) throws {
        do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
            throw SequentError.io(url.path, "cannot write (\(InputFile.describe(error)))")
        }
    }
}
