import Foundation
import SequentTensor

/// A mono signal: samples in [-1, 1] at `sampleRate` per second.
public struct AudioClip: Equatable, Sendable {
    public var samples: [Float]
    public var sampleRate: Int

    public init(samples: [Float], sampleRate: Int) {
        self.samples = samples
        self.sampleRate = sampleRate
    }

    /// The length in seconds.
    public var duration: Double { Double(samples.count) / Double(max(1, sampleRate)) }
}

/// The encodings `AudioFile.write` produces (and the tests read back).
public enum AudioEncoding: String, CaseIterable, Sendable {
    case wavPCM8 = "wav-pcm8", wavPCM16 = "wav-pcm16", wavPCM24 = "wav-pcm24", wavPCM32 = "wav-pcm32"
    case wavFloat = "wav-float", flac16 = "flac", oggVorbis = "ogg"

    /// The usual file extension.
    public var fileExtension: String {
        switch self {
        case .flac16: return "flac"
        case .oggVorbis: return "ogg"
        default: return "wav"
        }
    }
}

/// What to do with a file whose sample rate is not the one asked for.
public enum ResamplingPolicy: String, Codable, Sendable {
    /// Convert it with libsamplerate's band-limited sinc converter.
    case resample
    /// Refuse it, naming the file and both rates.
    case refuse
}

/// Audio files in, through libsndfile: WAV (8/16/24/32-bit PCM, 32/64-bit float), FLAC, Ogg
/// Vorbis, AIFF and the other formats it knows; channels mixed down to mono (their mean);
/// another sample rate converted with libsamplerate, or refused.
///
///     let clip = try AudioFile.read(URL(fileURLWithPath: "7_jackson_0.wav"), sampleRate: 8000)
public enum AudioFile {
    /// The extensions `files(in:)` lists.
    public static let extensions: Set<String> = ["wav", "wave", "flac", "ogg", "oga", "aiff", "aif", "au", "snd"]

    /// Reads `url` as mono at `sampleRate` (nil: the file's own rate).
    ///
    /// - Throws: `SequentError.io` for a file that cannot be opened; `.malformedFile` naming
    ///   the file for one that is not audio, is truncated or whose header declares more
    ///   frames than it holds, holds no samples or non-finite ones, or (with `.refuse`) has
    ///   another sample rate.
    public static func read(_ url: URL, sampleRate: Int? = nil, resampling: ResamplingPolicy = .resample) throws -> AudioClip {
        let path = url.path
        try InputFile.checkReadable(url, flag: "audio")
        let sound: DecodedSound
        switch SoundFileKernels.read(path: path) {
        case .success(let decoded): sound = decoded
        case .failure(let failure):
            throw SequentError.malformedFile(path, "not a readable audio file (libsndfile: \(failure.message))")
        }
        let frames = sound.samples.count / sound.channels
        if frames < sound.declaredFrames || headerLengthDisagrees(sound) {
            throw SequentError.malformedFile(
                path, "the header declares \(sound.declaredFrames) frames but the file holds \(frames) (truncated, or a header that lies about its length)")
        }
        guard frames > 0 else {
            throw SequentError.malformedFile(path, "holds no audio samples")
        }
        if let bad = sound.samples.firstIndex(where: { !$0.isFinite }) {
            throw SequentError.malformedFile(path, "sample \(bad / sound.channels) is not a finite number")
        }
        var mono = sound.samples
        if sound.channels > 1 {
            let C = sound.channels, scale = 1 / Float(C)
            mono = (0..<frames).map { f in
                var sum: Float = 0
                for c in 0..<C { sum += sound.samples[f * C + c] }
                return sum * scale
            }
        }
        guard let target = sampleRate, target != sound.sampleRate else {
            return AudioClip(samples: mono, sampleRate: sound.sampleRate)
        }
        guard resampling == .resample else {
            throw SequentError.malformedFile(
                path, "is sampled at \(sound.sampleRate) Hz; the model reads \(target) Hz (resampling was turned off)")
        }
        return AudioClip(samples: try resample(mono, from: sound.sampleRate, to: target, path: path), sampleRate: target)
    }

    /// The format of `url` in words ("WAV 16-bit PCM, 2 channels, 44100 Hz"), for messages.
    public static func describe(_ url: URL) throws -> String {
        switch SoundFileKernels.read(path: url.path) {
        case .success(let s):
            return "\(SoundFileKernels.describe(majorFormat: s.majorFormat, subtype: s.subtype)), \(s.channels) channel\(s.channels == 1 ? "" : "s"), \(s.sampleRate) Hz"
        case .failure(let failure):
            throw SequentError.malformedFile(url.path, "not a readable audio file (libsndfile: \(failure.message))")
        }
    }

    /// `samples` (mono) converted from `rate` to `target` Hz with libsamplerate.
    ///
    /// - Throws: `SequentError` for a rate outside 1...768000 or a ratio libsamplerate refuses.
    public static func resample(_ samples: [Float], from rate: Int, to target: Int, path: String = "signal") throws -> [Float] {
        guard (1...768_000).contains(rate), (1...768_000).contains(target) else {
            throw SequentError.invalidArgument("resample", "\(path): rates must be in 1...768000 Hz, got \(rate) -> \(target)")
        }
        if rate == target { return samples }
        switch ResamplerKernels.resample(samples, ratio: Double(target) / Double(rate)) {
        case .success(let out): return out
        case .failure(let failure):
            throw SequentError.malformedFile(path, "cannot resample \(rate) Hz to \(target) Hz (libsamplerate: \(failure.message))")
        }
    }

    /// Writes `channels` interleaved channels of samples in [-1, 1] as `encoding`.
    ///
    /// - Throws: `SequentError.io` naming the file when libsndfile cannot write it.
    public static func write(_ samples: [Float], channels: Int = 1, sampleRate: Int, to url: URL, encoding: AudioEncoding) throws {
        guard channels >= 1, samples.count % channels == 0 else {
            throw SequentError.invalidArgument("AudioFile.write", "\(samples.count) samples do not split into \(channels) channels")
        }
        if let failure = SoundFileKernels.write(path: url.path, samples: samples, channels: channels, sampleRate: sampleRate,
                                                format: SoundFileKernels.formatCode(encoding)) {
            throw SequentError.io(url.path, "cannot write \(encoding.rawValue) audio (libsndfile: \(failure.message))")
        }
    }

    /// The audio files directly inside `folder` (by extension), sorted by name.
    ///
    /// - Throws: `SequentError.io` when the folder cannot be listed or holds no audio file.
    public static func files(in folder: URL, flag: String = "--audio") throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SequentError.io(folder.path, "\(flag): no such folder")
        }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder.path) } catch {
            throw SequentError.io(folder.path, "\(flag): cannot list the folder (\(InputFile.describe(error)))")
        }
        let found = names.filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
        guard !found.isEmpty else {
            throw SequentError.io(folder.path, "\(flag): the folder holds no audio files (looked for .\(extensions.sorted().joined(separator: ", .")))")
        }
        return found.map { folder.appendingPathComponent($0) }
    }

    /// Whether libsndfile's log of a WAV header says its data chunk claims more bytes than
    /// the file has (libsndfile then shortens the frame count silently).
    private static func headerLengthDisagrees(_ sound: DecodedSound) -> Bool {
        guard SoundFileKernels.isWAV(sound.majorFormat) else { return false }
        // libsndfile writes e.g. "data : 64000 (should be 32000)" when the chunk is cut.
        return sound.log.split(separator: "\n").contains { line in
            line.contains("data") && line.contains("should be")
        }
    }
}
