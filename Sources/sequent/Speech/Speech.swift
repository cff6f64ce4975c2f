import ArgumentParser
import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

extension Sequent {
    /// `sequent speech`: speech recognition with CTC, from audio files to transcripts.
    struct Speech: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "speech",
            abstract: "Train a CTC speech recogniser on audio files, transcribe files or a live stream, score it.",
            discussion: """
                Example (runs as written from the repository, on ../shared/data; FSDD's test \
                split is takes 0-4 of every speaker):

                  sequent speech train --audio ../shared/data/fsdd/recordings --label-from-filename '{label}_*' --takes 5-49 --out digits --time-limit 10m
                  sequent speech eval digits --audio ../shared/data/fsdd/recordings --label-from-filename '{label}_*' --takes 0-4 --json
                  sequent speech transcribe digits ../shared/data/fsdd/recordings/7_jackson_0.wav
                """,
            subcommands: [SpeechTrain.self, SpeechEval.self, SpeechTranscribe.self, SpeechMakeSequences.self])
    }
}

/// The architectures `sequent speech train --model` accepts.
enum SpeechArchitecture: String, Codable, CaseIterable, ExpressibleByArgument {
    case bilstm, bigru, lstm, gru

    var cell: RecurrentCellType { self == .bilstm || self == .lstm ? .lstm : .gru }
    var bidirectional: Bool { self == .bilstm || self == .bigru }
}

extension FeatureSettings.Kind: ExpressibleByArgument {}
extension FeatureNormalization.Mode: ExpressibleByArgument {}
extension SpeechAlphabet.Units: ExpressibleByArgument {}

/// What `config.json`'s `config` holds for `sequent speech`.
struct SpeechConfig: TaskConfig, Equatable {
    var model: SpeechArchitecture
    var layers: Int
    var hidden: Int
    var dropout: Float
    /// Frames stacked into one step of the recurrent layer (1: none).
    var stack: Int
    var features: FeatureSettings
    var normalization: FeatureNormalization
    var alphabet: SpeechAlphabet
    var specAugment: SpecAugment?
    var batchSize: Int
    var steps: Int
    var learningRate: Float
    var seed: UInt64
    var data: SpeechDataSummary

    enum CodingKeys: String, CodingKey {
        case model, layers, hidden, dropout, stack, features, normalization, alphabet, steps, seed, data
        case specAugment = "spec_augment"
        case batchSize = "batch_size"
        case learningRate = "learning_rate"
    }

    /// The width of one step's input: stacked frames.
    var inputSize: Int { features.featureSize * stack }

    func makeModel(generator: inout RandomGenerator) throws -> AcousticModel {
        try AcousticModel(cell: model.cell, bidirectional: model.bidirectional, inputSize: inputSize, hiddenSize: hidden,
                          layerCount: layers, classCount: alphabet.classCount, dropout: dropout, generator: &generator)
    }

    /// Seconds of audio per output step.
    var secondsPerStep: Double { Double(features.hopSize * stack) / Double(features.sampleRate) }
}

struct SpeechDataSummary: Codable, Equatable {
    var audio: String
    var transcripts: String?
    var labelFromFilename: String?
    var takes: String?
    var trainUtterances: Int
    var valUtterances: Int
    var skipped: Int
    var trainSeconds: Double

    enum CodingKeys: String, CodingKey {
        case audio, transcripts, takes, skipped
        case labelFromFilename = "label_from_filename"
        case trainUtterances = "train_utterances"
        case valUtterances = "val_utterances"
        case trainSeconds = "train_seconds"
    }
}

/// A model folder of `sequent speech`, opened.
struct SpeechFolder {
    static let task = "speech"

    let folder: ModelFolder
    let config: SpeechConfig
    let model: AcousticModel
    let extractor: FeatureExtractor

    static func open(_ path: String) throws -> SpeechFolder {
        let (folder, config) = try ModelFolder.open(URL(fileURLWithPath: path), task: task, config: SpeechConfig.self)
        let model = try folder.loadTrainedModel(config)
        var settings = config.features
        settings.dither = 0
        return SpeechFolder(folder: folder, config: config, model: model, extractor: try FeatureExtractor(settings: settings))
    }
}

/// Which audio files and transcripts a command reads: `--audio DIR` with `--transcripts TSV`
/// or `--label-from-filename PATTERN`, optionally only some takes or speakers (FSDD names).
struct SpeechInputOptions: ParsableArguments {
    @Option(help: "The folder of audio files (WAV, FLAC, Ogg, ...).")
    var audio: String

    @Option(help: "A TSV file of `path<TAB>transcript` lines (paths relative to --audio).")
    var transcripts: String?

    @Option(name: .customLong("label-from-filename"), help: "Take each transcript from the file name: `{label}` is the text, `*` anything (e.g. '{label}_*').")
    var labelFromFilename: String?

    @Option(help: "Only files whose last `_` field (FSDD's take) is in this set, e.g. 5-49 or 0-4.")
    var takes: String?

    @Option(help: "Only these speakers (the second-to-last `_` field of FSDD names), comma-separated.")
    var speakers: String?

    @Option(name: .customLong("exclude-speakers"), help: "Leave out these speakers, comma-separated (leave-one-speaker-out).")
    var excludeSpeakers: String?

    func validate() throws {
        if (transcripts == nil) == (labelFromFilename == nil) {
            throw ValidationError("give one of --transcripts FILE or --label-from-filename PATTERN")
        }
        if let takes { _ = try TakeRange(takes, flag: "--takes") }
        if let labelFromFilename {
            do { _ = try LabelPattern(labelFromFilename) } catch let error as SequentError { throw ValidationError(error.message) }
        }
    }

    /// The utterances selected, and the names of the files left out with the reason.
    func utterances() throws -> (utterances: [SpeechUtterance], skipped: [String]) {
        let folder = URL(fileURLWithPath: audio)
        var utterances: [SpeechUtterance], skipped: [String] = []
        if let transcripts {
            utterances = try SpeechTranscripts.read(URL(fileURLWithPath: transcripts), audioFolder: folder)
        } else {
            let files = try AudioFile.files(in: folder)
            let labelled = try SpeechTranscripts.fromFileNames(files, pattern: labelFromFilename ?? "{label}")
            utterances = labelled.utterances
            skipped += labelled.unmatched.map { "\($0) (the name does not match '\(labelFromFilename ?? "")')" }
        }
        if let takes {
            let range = try TakeRange(takes, flag: "--takes")
            utterances = utterances.filter { TakeRange.take(of: $0.url).map(range.takes.contains) ?? false }
        }
        func list(_ text: String?) -> Set<String>? {
            text.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
        }
        if let keep = list(speakers) { utterances = utterances.filter { TakeRange.speaker(of: $0.url).map(keep.contains) ?? false } }
        if let drop = list(excludeSpeakers) { utterances = utterances.filter { !(TakeRange.speaker(of: $0.url).map(drop.contains) ?? false) } }
        guard !utterances.isEmpty else {
            throw SequentError.invalidArgument("--audio", "\(audio): no utterance left to read (after --takes/--speakers/--exclude-speakers and the transcripts)")
        }
        return (utterances, skipped)
    }

    /// A short name of the selection, for summaries.
    var description: String {
        var parts = [audio]
        if let takes { parts.append("takes \(takes)") }
        if let speakers { parts.append("speakers \(speakers)") }
        if let excludeSpeakers { parts.append("without \(excludeSpeakers)") }
        return parts.joined(separator: ", ")
    }
}

/// Audio files read and turned into feature frames.
struct SpeechFeatures {
    var utterances: [SpeechUtterance]
    /// Raw features of each utterance, (frames, featureSize) row-major.
    var features: [[Float]]
    /// Files left out and why.
    var skipped: [String]
    /// Seconds of audio read.
    var seconds: Double

    /// Reads every file (in parallel) at the extractor's rate and computes its features; a
    /// file that cannot be read, or too short for one frame, is skipped with its reason.
    static func load(_ utterances: [SpeechUtterance], extractor: FeatureExtractor, resampling: ResamplingPolicy = .resample) -> SpeechFeatures {
        let rate = extractor.settings.sampleRate
        let results = ParallelMap.map(count: utterances.count, makeState: { () }) { _, i -> Result<(features: [Float], seconds: Double), SequentError> in
            do {
                let clip = try AudioFile.read(utterances[i].url, sampleRate: rate, resampling: resampling)
                let features = extractor.features(of: clip.samples, ditherSeed: UInt64(i))
                if features.isEmpty {
                    throw SequentError.malformedFile(utterances[i].url.path, "is \(String(format: "%.3f", clip.duration)) s long, shorter than one \(extractor.settings.frameLength) ms frame")
                }
                return .success((features, clip.duration))
            } catch let error as SequentError {
                return .failure(error)
            } catch {
                return .failure(SequentError.io(utterances[i].url.path, "\(error)"))
            }
        }
        var loaded = SpeechFeatures(utterances: [], features: [], skipped: [], seconds: 0)
        for (i, result) in results.enumerated() {
            switch result {
            case .success(let value):
                loaded.utterances.append(utterances[i])
                loaded.features.append(value.features)
                loaded.seconds += value.seconds
            case .failure(let error):
                loaded.skipped.append(error.message)
            }
        }
        return loaded
    }

    /// Each utterance's normalised, stacked frames ((steps, inputSize) row-major).
    func prepared(_ config: SpeechConfig) throws -> [[Float]] {
        try features.map { try SpeechInference.prepare($0, config: config) }
    }
}

/// Prints "skipped N files: ..." on standard error (the first few by name).
func reportSkipped(_ skipped: [String], what: String = "files") {
    guard !skipped.isEmpty else { return }
    var lines = "skipped \(skipped.count) \(what):"
    for reason in skipped.prefix(10) { lines += "\n  " + reason }
    if skipped.count > 10 { lines += "\n  ... and \(skipped.count - 10) more" }
    FileHandle.standardError.write(Data((lines + "\n").utf8))
}

/// One transcription with its tokens' times and scores.
struct Transcription {
    var labels: [Int]
    var text: String
    /// The log-probability of the labels (beam: summed over alignments; greedy: of its path).
    var score: Double
    /// Each label's first and last step on the best alignment and its mean probability there.
    var tokens: [(label: Int, start: Int, end: Int, probability: Double)]
}

enum SpeechInference {
    /// Normalised, stacked frames of raw features.
    static func prepare(_ features: [Float], config: SpeechConfig) throws -> [Float] {
        let size = config.features.featureSize
        let normalised = try config.normalization.apply(features, size: size)
        return FrameStacking.stack(normalised, size: size, factor: config.stack)
    }

    /// A padded (T, B, In) batch of `inputs[indices]` and their step counts.
    static func batch(_ inputs: [[Float]], indices: [Int], inputSize: Int) -> (Tensor, [Int]) {
        let lengths = indices.map { inputs[$0].count / inputSize }
        let T = max(1, lengths.max() ?? 1), B = indices.count
        var values = [Float](repeating: 0, count: T * B * inputSize)
        for (b, i) in indices.enumerated() {
            let x = inputs[i]
            for t in 0..<lengths[b] {
                let to = (t * B + b) * inputSize
                values.replaceSubrange(to..<(to + inputSize), with: x[(t * inputSize)..<((t + 1) * inputSize)])
            }
        }
        return (Tensor(shape: [T, B, inputSize], scalars: values), lengths)
    }

    /// Each utterance's log-probabilities ((steps, C) row-major), in batches of similar length.
    static func logProbabilities(_ model: AcousticModel, inputs: [[Float]], batchSize: Int = 64) throws -> [[Float]] {
        let In = model.inputSize, C = model.classCount
        let order = inputs.indices.sorted { inputs[$0].count < inputs[$1].count }
        var result = [[Float]](repeating: [], count: inputs.count)
        try withoutGradients {
            for start in stride(from: 0, to: order.count, by: batchSize) {
                let indices = Array(order[start..<min(start + batchSize, order.count)]).filter { inputs[$0].count >= In }
                guard !indices.isEmpty else { continue }
                let (x, lengths) = batch(inputs, indices: indices, inputSize: In)
                let lp = try model(x, lengths: lengths).scalars
                let B = indices.count
                for (b, i) in indices.enumerated() {
                    var rows = [Float](repeating: 0, count: lengths[b] * C)
                    for t in 0..<lengths[b] {
                        let from = (t * B + b) * C
                        rows.replaceSubrange((t * C)..<((t + 1) * C), with: lp[from..<(from + C)])
                    }
                    result[i] = rows
                }
            }
        }
        return result
    }

    /// The transcription of one utterance's log-probabilities (steps, C): greedy (best path)
    /// or prefix beam search of `beam` > 1, with each token's times from the best alignment.
    static func decode(_ lp: [Float], classCount C: Int, beam: Int, alphabet: SpeechAlphabet) throws -> Transcription {
        let T = lp.count / C
        var labels: [Int], score: Double
        if T == 0 {
            (labels, score) = ([], 0)
        } else if beam <= 1 {
            labels = []
            score = 0
            var previous = SpeechAlphabet.blank
            for t in 0..<T {
                var best = 0
                for c in 1..<C where lp[t * C + c] > lp[t * C + best] { best = c }
                score += Double(lp[t * C + best])
                if best != SpeechAlphabet.blank && best != previous { labels.append(best) }
                previous = best
            }
        } else {
            let hypotheses = try Tensor.ctcBeamSearch(logProbabilities: Tensor(shape: [T, 1, C], scalars: lp), blank: SpeechAlphabet.blank, beamWidth: beam)
            labels = hypotheses[0].first?.labels ?? []
            score = Double(hypotheses[0].first?.logProbability ?? 0)
        }
        return Transcription(labels: labels, text: alphabet.decode(labels), score: score, tokens: align(labels, lp, classCount: C))
    }

    /// The best CTC alignment (Viterbi) of `labels` to (T, C) log-probabilities: for each
    /// label its first and last step and the mean probability of its steps.
    static func align(_ labels: [Int], _ lp: [Float], classCount C: Int) -> [(label: Int, start: Int, end: Int, probability: Double)] {
        let T = lp.count / C
        guard !labels.isEmpty, T > 0 else { return [] }
        // The extended sequence: blank, l1, blank, l2, ..., blank (S = 2L + 1 states).
        let S = 2 * labels.count + 1
        func symbol(_ s: Int) -> Int { s % 2 == 0 ? SpeechAlphabet.blank : labels[s / 2] }
        var score = [Double](repeating: -.infinity, count: S)
        var from = [[Int32]](repeating: [Int32](repeating: -1, count: S), count: T)
        score[0] = Double(lp[symbol(0)])
        if S > 1 { score[1] = Double(lp[symbol(1)]) }
        for t in 1..<T {
            var next = [Double](repeating: -.infinity, count: S)
            for s in 0..<S {
                var best = score[s], arg = s
                if s >= 1, score[s - 1] > best { best = score[s - 1]; arg = s - 1 }
                if s >= 2, symbol(s) != SpeechAlphabet.blank, symbol(s) != symbol(s - 2), score[s - 2] > best { best = score[s - 2]; arg = s - 2 }
                if best > -.infinity {
                    next[s] = best + Double(lp[t * C + symbol(s)])
                    from[t][s] = Int32(arg)
                }
            }
            score = next
        }
        var s = S > 1 && score[S - 2] > score[S - 1] ? S - 2 : S - 1
        guard score[s] > -.infinity else { return [] }   // too few steps for the labels
        var path = [Int](repeating: 0, count: T)
        for t in stride(from: T - 1, through: 0, by: -1) {
            path[t] = s
            if t > 0 { s = Int(from[t][s]) }
        }
        var tokens: [(label: Int, start: Int, end: Int, probability: Double)] = []
        for (k, label) in labels.enumerated() {
            let steps = (0..<T).filter { path[$0] == 2 * k + 1 }
            guard let first = steps.first, let last = steps.last else { continue }
            let mean = steps.map { Double(lp[$0 * C + label]) }.reduce(0, +) / Double(steps.count)
            tokens.append((label, first, last, exp(mean)))
        }
        return tokens
    }

    /// The fewest steps CTC needs for `labels`: one each, plus a blank between repeats.
    static func minimumSteps(_ labels: [Int]) -> Int {
        labels.count + zip(labels, labels.dropFirst()).filter { $0 == $1 }.count
    }
}
