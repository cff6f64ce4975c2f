import Foundation
import SequentTensor

/// Mean and variance normalisation of feature frames (Kaldi's CMVN), saved with the model:
/// per utterance (each utterance's own mean and deviation per feature) or global (those of
/// the training set, fixed at training time, which streaming needs).
public struct FeatureNormalization: Codable, Equatable, Sendable {
    public enum Mode: String, Codable, CaseIterable, Sendable { case none, utterance, global }

    public var mode: Mode
    /// Global mode: the training set's per-feature mean and standard deviation.
    public var mean: [Float]?
    public var standardDeviation: [Float]?

    enum CodingKeys: String, CodingKey {
        case mode, mean
        case standardDeviation = "standard_deviation"
    }

    /// No normalisation, or per-utterance normalisation.
    public init(mode: Mode) {
        self.mode = mode
    }

    /// Global normalisation with the statistics of `utterances` ((frames, size) row-major each).
    public static func global(from utterances: [[Float]], size: Int) -> FeatureNormalization {
        let (mean, deviation) = statistics(utterances, size: size)
        var result = FeatureNormalization(mode: .global)
        result.mean = mean
        result.standardDeviation = deviation
        return result
    }

    /// `features` ((frames, size) row-major) normalised.
    ///
    /// - Throws: `SequentError` when global statistics are missing or of another size.
    public func apply(_ features: [Float], size: Int) throws -> [Float] {
        switch mode {
        case .none: return features
        case .utterance:
            let (mean, deviation) = Self.statistics([features], size: size)
            return Self.normalized(features, mean: mean, deviation: deviation)
        case .global:
            guard let mean, let standardDeviation, mean.count == size, standardDeviation.count == size else {
                throw SequentError.invalidArgument(
                    "normalisation", "global normalisation needs \(size) means and deviations, the model has \(mean?.count ?? 0) and \(standardDeviation?.count ?? 0)")
            }
            return Self.normalized(features, mean: mean, deviation: standardDeviation)
        }
    }

    static func normalized(_ x: [Float], mean: [Float], deviation: [Float]) -> [Float] {
        let size = mean.count
        let inverse = deviation.map { 1 / $0 }
        var out = x
        for i in out.indices { out[i] = (out[i] - mean[i % size]) * inverse[i % size] }
        return out
    }

    /// Per-feature mean and standard deviation (floored at 1e-5) in Double.
    static func statistics(_ utterances: [[Float]], size: Int) -> ([Float], [Float]) {
        var sum = [Double](repeating: 0, count: size), squares = [Double](repeating: 0, count: size)
        var frames = 0
        for u in utterances {
            for i in u.indices {
                let v = Double(u[i])
                sum[i % size] += v
                squares[i % size] += v * v
            }
            frames += u.count / max(1, size)
        }
        let n = Double(max(1, frames))
        let mean = sum.map { $0 / n }
        let deviation = (0..<size).map { max(1e-5, (max(0, squares[$0] / n - mean[$0] * mean[$0])).squareRoot()) }
        return (mean.map(Float.init), deviation.map(Float.init))
    }
}

/// Frame stacking (as in Sak et al. 2015's low-frame-rate models): every `factor`
/// consecutive frames become one frame `factor` times as wide, so the recurrent layer runs
/// `factor` times fewer steps; a last incomplete group is dropped.
public enum FrameStacking {
    /// (frames, size) row-major -> (frames / factor, size * factor) row-major.
    public static func stack(_ features: [Float], size: Int, factor: Int) -> [Float] {
        guard factor > 1 else { return features }
        let frames = features.count / size
        return Array(features[0..<((frames / factor) * factor * size)])
    }

    /// Frames after stacking.
    public static func frameCount(_ frames: Int, factor: Int) -> Int { frames / max(1, factor) }
}

/// SpecAugment's masks for training (Park et al., 2019), without time warping: `frequencyMasks`
/// bands of up to `frequencyWidth` features and `timeMasks` runs of up to `timeWidth` frames
/// (at most `maxTimeFraction` of the utterance each) set to 0, the normalised mean.
public struct SpecAugment: Codable, Equatable, Sendable {
    public var frequencyMasks: Int
    public var frequencyWidth: Int
    public var timeMasks: Int
    public var timeWidth: Int
    public var maxTimeFraction: Double

    enum CodingKeys: String, CodingKey {
        case frequencyMasks = "frequency_masks"
        case frequencyWidth = "frequency_width"
        case timeMasks = "time_masks"
        case timeWidth = "time_width"
        case maxTimeFraction = "max_time_fraction"
    }

    public init(frequencyMasks: Int = 2, frequencyWidth: Int = 4, timeMasks: Int = 2, timeWidth: Int = 8, maxTimeFraction: Double = 0.15) {
        self.frequencyMasks = frequencyMasks
        self.frequencyWidth = frequencyWidth
        self.timeMasks = timeMasks
        self.timeWidth = timeWidth
        self.maxTimeFraction = maxTimeFraction
    }

    /// Masks `features` ((frames, size) row-major) in place with draws from `generator`.
    public func apply(to features: inout [Float], size: Int, generator: inout RandomGenerator) {
        let frames = features.count / max(1, size)
        guard frames > 0, size > 0 else { return }
        func draw(_ upTo: Int) -> Int { upTo <= 0 ? 0 : Int(generator.next() % UInt64(upTo + 1)) }
        for _ in 0..<frequencyMasks {
            let width = draw(min(frequencyWidth, size))
            let start = draw(size - width)
            for t in 0..<frames { for f in start..<(start + width) { features[t * size + f] = 0 } }
        }
        let widest = min(timeWidth, Int(maxTimeFraction * Double(frames)))
        for _ in 0..<timeMasks {
            let width = draw(widest)
            let start = draw(frames - width)
            for t in start..<(start + width) { for f in 0..<size { features[t * size + f] = 0 } }
        }
    }
}
