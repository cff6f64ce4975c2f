import Foundation
import SequentTensor

/// Connected-word utterances built from isolated takes (`sequent speech make-sequences`):
/// each joins 2 to 7 clips drawn at random, with a random pause before, between and after
/// them, so that a CTC model learns to segment without alignments. The recipe (seed, counts,
/// pauses, sources) is what makes the set again.
public struct ConnectedUtteranceRecipe: Codable, Equatable, Sendable {
    public var seed: UInt64
    public var count: Int
    public var minimumWords: Int
    public var maximumWords: Int
    /// Pause lengths in seconds, drawn uniformly.
    public var minimumPause: Double
    public var maximumPause: Double
    /// The standard deviation of the noise in the pauses (silence of a quiet room).
    public var pauseNoise: Double
    public var sampleRate: Int
    /// The source folder, the file-name pattern and the takes kept (e.g. "0-4").
    public var source: String
    public var pattern: String
    public var takes: String?
    public var sourceFiles: Int

    enum CodingKeys: String, CodingKey {
        case seed, count, source, pattern, takes
        case minimumWords = "minimum_words"
        case maximumWords = "maximum_words"
        case minimumPause = "minimum_pause_s"
        case maximumPause = "maximum_pause_s"
        case pauseNoise = "pause_noise"
        case sampleRate = "sample_rate"
        case sourceFiles = "source_files"
    }

    public init(seed: UInt64, count: Int, minimumWords: Int = 2, maximumWords: Int = 7, minimumPause: Double = 0.05,
                maximumPause: Double = 0.5, pauseNoise: Double = 3e-4, sampleRate: Int, source: String, pattern: String,
                takes: String?, sourceFiles: Int) {
        self.seed = seed
        self.count = count
        self.minimumWords = minimumWords
        self.maximumWords = maximumWords
        self.minimumPause = minimumPause
        self.maximumPause = maximumPause
        self.pauseNoise = pauseNoise
        self.sampleRate = sampleRate
        self.source = source
        self.pattern = pattern
        self.takes = takes
        self.sourceFiles = sourceFiles
    }

    /// Builds the utterances from `clips` (each a mono signal at `sampleRate` and its word).
    ///
    /// - Returns: each utterance's samples and transcript (words separated by spaces).
    /// - Throws: `SequentError.invalidArgument` for counts or pauses that do not fit.
    public func build(from clips: [(samples: [Float], text: String)]) throws -> [(samples: [Float], text: String)] {
        guard !clips.isEmpty else { throw SequentError.invalidArgument("make-sequences", "no source clips") }
        guard count >= 1, minimumWords >= 1, minimumWords <= maximumWords else {
            throw SequentError.invalidArgument("make-sequences", "need a count >= 1 and 1 <= minimum words <= maximum words, got \(count), \(minimumWords), \(maximumWords)")
        }
        guard minimumPause >= 0, minimumPause <= maximumPause, maximumPause <= 10, pauseNoise >= 0 else {
            throw SequentError.invalidArgument("make-sequences", "pauses must satisfy 0 <= min <= max <= 10 s, got \(minimumPause) and \(maximumPause)")
        }
        var generator = RandomGenerator(seed: seed)
        func uniform(_ n: Int) -> Int { Int(generator.next() % UInt64(n)) }
        func pause() -> [Float] {
            let seconds = minimumPause + Double(generator.nextUniform()) * (maximumPause - minimumPause)
            let noise = Float(pauseNoise)
            return (0..<Int(seconds * Double(sampleRate))).map { _ in noise * generator.nextNormal() }
        }
        return (0..<count).map { _ in
            let words = minimumWords + uniform(maximumWords - minimumWords + 1)
            var samples = pause(), text: [String] = []
            for _ in 0..<words {
                let clip = clips[uniform(clips.count)]
                samples += clip.samples
                samples += pause()
                text.append(clip.text)
            }
            return (samples, text.joined(separator: " "))
        }
    }
}

/// A set of take numbers such as "0-4" or "5-49" or "0,2,4".
public struct TakeRange: Sendable {
    public let takes: Set<Int>

    /// - Throws: `SequentError.invalidArgument` naming `flag` for text that is not a list of
    ///   numbers and ranges.
    public init(_ text: String, flag: String) throws {
        var takes = Set<Int>()
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            if bounds.count == 1, let a = bounds[0], a >= 0 {
                takes.insert(a)
            } else if bounds.count == 2, let a = bounds[0], let b = bounds[1], a >= 0, a <= b, b - a < 1_000_000 {
                takes.formUnion(a...b)
            } else {
                throw SequentError.invalidArgument(flag, "expected take numbers and ranges such as 0-4 or 5-49 or 0,2,4; got '\(text)'")
            }
        }
        self.takes = takes
    }

    /// The take number of an FSDD-style name `{label}_{speaker}_{take}` (the last `_` field).
    public static func take(of url: URL) -> Int? {
        url.deletingPathExtension().lastPathComponent.split(separator: "_").last.flatMap { Int($0) }
    }

    /// The speaker of an FSDD-style name (the second-to-last `_` field).
    public static func speaker(of url: URL) -> String? {
        let parts = url.deletingPathExtension().lastPathComponent.split(separator: "_")
        return parts.count >= 3 ? String(parts[parts.count - 2]) : nil
    }
}
