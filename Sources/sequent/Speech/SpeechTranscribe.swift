import ArgumentParser
import Foundation
import SequentData
import SequentNN
import SequentTensor

extension Sequent.Speech {
    /// `sequent speech transcribe DIR FILE...`: transcripts of audio files, or of a live stream.
    struct SpeechTranscribe: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "transcribe",
            abstract: "Transcribe audio files (one `path<TAB>transcript` line each), or raw PCM on standard input with --stream.",
            discussion: """
                Greedy (best-path) decoding by default, prefix beam search with --beam N. \
                --json prints one object a file: the transcript, its log-probability, and \
                every token with its start and end time (seconds, from the best CTC \
                alignment) and its mean probability there. --stream (unidirectional lstm/gru \
                models with global normalisation) reads raw 16-bit little-endian mono PCM at \
                the model's sample rate from standard input, carries the recurrent state from \
                piece to piece, and prints the transcript each time it grows; the last line \
                is the whole transcript. Examples:

                  sequent speech transcribe digits ../shared/data/fsdd/recordings/7_jackson_0.wav --json
                  sox in.wav -t raw -r 8000 -e signed -b 16 -c 1 - | sequent speech transcribe digits-lstm --stream
                """)

        @Argument(help: "The model folder written by `sequent speech train`.")
        var model: String

        @Argument(help: "Audio files (WAV, FLAC, Ogg, ...).")
        var files: [String] = []

        @Option(parsing: .unconditional, help: "Prefix beam search of this width (1: greedy).")
        var beam = 1

        @Flag(help: "One JSON object a line: path, transcript, score, tokens with start/end seconds and probability.")
        var json = false

        @Flag(help: "Read raw 16-bit little-endian mono PCM from standard input and print the transcript as it grows.")
        var stream = false

        @Option(name: .customLong("chunk-ms"), parsing: .unconditional, help: "With --stream: milliseconds of audio read per piece.")
        var chunkMilliseconds = 100

        @OptionGroup var threads: ThreadOption

        func validate() throws {
            try TrainingOptions.check(beam, "--beam", in: 1...1024)
            try TrainingOptions.check(chunkMilliseconds, "--chunk-ms", in: 1...600_000)
            if stream && !files.isEmpty { throw ValidationError("--stream reads standard input; give no files with it") }
            if !stream && files.isEmpty { throw ValidationError("give audio files to transcribe, or --stream to read raw PCM from standard input") }
            if stream && beam > 1 { throw ValidationError("--stream decodes greedily; --beam needs whole files") }
        }

        func run() throws {
            try Parallelism.withThreads(threads.count) {
                let opened = try SpeechFolder.open(model)
                if stream {
                    let input = FileHandle.standardInput
                    try SpeechStream.run(opened, chunkMilliseconds: chunkMilliseconds, read: { count in
                        let data = input.readData(ofLength: count)
                        return data.isEmpty ? nil : [UInt8](data)
                    }, emit: { line in
                        print(line)
                        fflush(nil)
                    })
                    return
                }
                try transcribeFiles(opened)
            }
        }

        private func transcribeFiles(_ opened: SpeechFolder) throws {
            let config = opened.config
            let utterances = files.map { SpeechUtterance(url: URL(fileURLWithPath: $0), text: "") }
            let audio = SpeechFeatures.load(utterances, extractor: opened.extractor)
            if audio.utterances.count < utterances.count {
                reportSkipped(audio.skipped)
                if audio.utterances.isEmpty {
                    throw SequentError.invalidArgument("transcribe", "none of the \(files.count) files could be read")
                }
            }
            let lps = try SpeechInference.logProbabilities(opened.model, inputs: try audio.prepared(config))
            for (u, lp) in zip(audio.utterances, lps) {
                let t = try SpeechInference.decode(lp, classCount: config.alphabet.classCount, beam: beam, alphabet: config.alphabet)
                if json {
                    let step = config.secondsPerStep
                    let tokens: [[String: Any]] = t.tokens.map { token in
                        ["token": config.alphabet.decode([token.label]), "start": Double(token.start) * step,
                         "end": Double(token.end + 1) * step, "probability": token.probability]
                    }
                    let object: [String: Any] = ["path": u.url.path, "transcript": t.text, "score": t.score, "tokens": tokens]
                    let encoded = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                    print(String(decoding: encoded, as: UTF8.self))
                } else {
                    print("\(u.url.path)\t\(t.text)")
                }
            }
            if audio.utterances.count < utterances.count {
                throw SequentError.invalidArgument("transcribe", "\(utterances.count - audio.utterances.count) of \(files.count) files could not be read (named above)")
            }
        }
    }
}

/// Streaming recognition: PCM pieces in, the greedy transcript out as it grows, with the
/// features, the frame stacking and the recurrent state carried from piece to piece.
enum SpeechStream {
    /// Reads pieces with `read(byteCount)` (nil at the end) and calls `emit` with the whole
    /// transcript each time it grows, and once more at the end.
    ///
    /// - Throws: `SequentError` for a bidirectional model or per-utterance normalisation
    ///   (both need the whole utterance).
    static func run(_ opened: SpeechFolder, chunkMilliseconds: Int, read: (Int) throws -> [UInt8]?, emit: (String) -> Void) throws {
        let config = opened.config
        guard !config.model.bidirectional else {
            throw SequentError.invalidArgument("--stream", "\(opened.folder.url.path) is a \(config.model.rawValue) model, which reads whole utterances; train with --model lstm or gru to stream")
        }
        guard config.normalization.mode != .utterance else {
            throw SequentError.invalidArgument("--stream", "\(opened.folder.url.path) normalises each whole utterance; train with --normalization global (the default) to stream")
        }
        var recognizer = try StreamingRecognizer(opened)
        let bytes = max(2, 2 * config.features.sampleRate * chunkMilliseconds / 1000)
        var carry: [UInt8] = []
        var last = ""
        while let piece = try read(bytes) {
            carry += piece
            let usable = carry.count - carry.count % 2
            var samples = [Float](repeating: 0, count: usable / 2)
            for i in 0..<(usable / 2) {
                let value = Int16(bitPattern: UInt16(carry[2 * i]) | UInt16(carry[2 * i + 1]) << 8)
                samples[i] = Float(value) / 32768
            }
            carry.removeFirst(usable)
            let text = try recognizer.append(samples)
            if text != last {
                emit(text)
                last = text
            }
        }
        emit(last)
    }
}

/// The state of one streamed utterance.
struct StreamingRecognizer {
    let opened: SpeechFolder
    private var features: StreamingFeatures
    /// Normalised frames waiting for a full stack.
    private var pendingFrames: [Float] = []
    private var state: RecurrentState?
    private var previous = SpeechAlphabet.blank
    private(set) var labels: [Int] = []

    init(_ opened: SpeechFolder) throws {
        self.opened = opened
        features = StreamingFeatures(extractor: opened.extractor)
    }

    /// Feeds samples; returns the transcript so far.
    mutating func append(_ samples: [Float]) throws -> String {
        let config = opened.config
        let size = config.features.featureSize
        let frames = features.append(samples)
        if !frames.isEmpty { pendingFrames += try config.normalization.apply(frames, size: size) }
        let group = size * config.stack
        let steps = pendingFrames.count / group
        if steps > 0 {
            let input = Tensor(shape: [steps, 1, config.inputSize], scalars: Array(pendingFrames[0..<(steps * group)]))
            pendingFrames.removeFirst(steps * group)
            let (lp, next) = try withoutGradients { try opened.model.stream(input, state: state) }
            state = next
            let C = config.alphabet.classCount
            let values = lp.scalars
            for t in 0..<steps {
                var best = 0
                for c in 1..<C where values[t * C + c] > values[t * C + best] { best = c }
                if best != SpeechAlphabet.blank && best != previous { labels.append(best) }
                previous = best
            }
        }
        return config.alphabet.decode(labels)
    }
}
