import Foundation
import SequentTensor

/// The settings of log-mel filterbank and MFCC features, with the names and defaults of
/// Kaldi's `compute-fbank-feats` / `compute-mfcc-feats` and `torchaudio.compliance.kaldi`
/// (`snip_edges=True`, no energy term, dither off by default).
public struct FeatureSettings: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, CaseIterable, Sendable { case fbank, mfcc }
    public enum Window: String, Codable, CaseIterable, Sendable { case povey, hamming, hanning, rectangular }

    public var kind: Kind
    public var sampleRate: Int
    /// Window length and hop in milliseconds (Kaldi's frame_length, frame_shift).
    public var frameLength: Double
    public var frameShift: Double
    /// Mel filters (Kaldi's num_mel_bins).
    public var melBins: Int
    /// MFCC coefficients kept (num_ceps); ignored for fbank.
    public var cepstralCoefficients: Int
    public var cepstralLifter: Double
    public var preemphasis: Double
    public var lowFrequency: Double
    /// <= 0: offset from the Nyquist frequency (Kaldi's convention; 0 is Nyquist).
    public var highFrequency: Double
    public var window: Window
    public var removeDCOffset: Bool
    /// The standard deviation of Gaussian noise added to each sample (0: off).
    public var dither: Double
    /// The FFT size: the window rounded up to a power of two.
    public var roundToPowerOfTwo: Bool

    /// Kaldi's defaults for `kind` at `sampleRate` (23 mel bins, 13 coefficients).
    public init(kind: Kind = .fbank, sampleRate: Int = 16_000, melBins: Int? = nil) {
        self.kind = kind
        self.sampleRate = sampleRate
        frameLength = 25
        frameShift = 10
        self.melBins = melBins ?? 23
        cepstralCoefficients = 13
        cepstralLifter = 22
        preemphasis = 0.97
        lowFrequency = 20
        highFrequency = 0
        window = .povey
        removeDCOffset = true
        dither = 0
        roundToPowerOfTwo = true
    }

    enum CodingKeys: String, CodingKey {
        case kind, window, dither
        case sampleRate = "sample_rate"
        case frameLength = "frame_length_ms"
        case frameShift = "frame_shift_ms"
        case melBins = "mel_bins"
        case cepstralCoefficients = "cepstral_coefficients"
        case cepstralLifter = "cepstral_lifter"
        case preemphasis = "preemphasis"
        case lowFrequency = "low_frequency"
        case highFrequency = "high_frequency"
        case removeDCOffset = "remove_dc_offset"
        case roundToPowerOfTwo = "round_to_power_of_two"
    }

    /// Samples a window covers and samples between windows.
    public var windowSize: Int { Int(Double(sampleRate) * frameLength * 0.001) }
    public var hopSize: Int { Int(Double(sampleRate) * frameShift * 0.001) }
    /// Values per frame.
    public var featureSize: Int { kind == .fbank ? melBins : cepstralCoefficients }
}

/// Log-mel filterbank and MFCC features of mono signals, as `torchaudio.compliance.kaldi.fbank`
/// and `.mfcc` compute them. Per frame of `windowSize` samples every `hopSize` (frames that
/// would run past the end are dropped, Kaldi's snip_edges):
///
///     x <- x - mean(x)                          (removeDCOffset)
///     x[j] <- x[j] - a x[max(j-1, 0)]           (pre-emphasis a)
///     x <- x * w   (Povey: hann(N)^0.85)        zero-padded to the FFT size F
///     P_k = |FFT(x)_k|^2,  k = 0..F/2
///     fbank_m = log(max(sum_k M[m, k] P_k, eps))    triangular mel filters M on 1127 ln(1 + f/700)
///     mfcc = (fbank DCT-II ortho, c0 scaled by sqrt(1/mel)) * (1 + L/2 sin(pi i / L))
///
/// The FFT is KissFFT's real transform. `features(of:)` over many signals runs on all threads
/// of `Parallelism.threadCount`.
public final class FeatureExtractor: @unchecked Sendable {
    public let settings: FeatureSettings
    /// The FFT size F.
    public let fftSize: Int
    private let window: [Float]
    /// M: melBins rows of F/2 + 1 weights (the last, Nyquist, column zero).
    private let melBank: [Float]
    /// DCT (melBins, cepstralCoefficients) with the lifter folded in; empty for fbank.
    private let cepstral: [Float]

    /// An extractor for `settings`.
    ///
    /// - Throws: `SequentError.invalidArgument` naming the setting that does not fit.
    public init(settings: FeatureSettings) throws {
        self.settings = settings
        let op = "features"
        guard (1...768_000).contains(settings.sampleRate) else {
            throw SequentError.invalidArgument(op, "sample rate must be in 1...768000 Hz, got \(settings.sampleRate)")
        }
        guard settings.frameLength > 0, settings.frameShift > 0, settings.windowSize >= 2, settings.hopSize >= 1 else {
            throw SequentError.invalidArgument(op, "frame length \(settings.frameLength) ms and shift \(settings.frameShift) ms give windows of \(settings.windowSize) samples every \(settings.hopSize); need at least 2 and 1")
        }
        guard (1...512).contains(settings.melBins) else {
            throw SequentError.invalidArgument(op, "mel bins must be in 1...512, got \(settings.melBins)")
        }
        guard settings.kind == .fbank || (1...settings.melBins).contains(settings.cepstralCoefficients) else {
            throw SequentError.invalidArgument(op, "MFCC coefficients must be in 1...\(settings.melBins) (the mel bins), got \(settings.cepstralCoefficients)")
        }
        guard (0...1).contains(settings.preemphasis), settings.dither >= 0, settings.dither.isFinite else {
            throw SequentError.invalidArgument(op, "pre-emphasis must be in [0, 1] and dither >= 0, got \(settings.preemphasis) and \(settings.dither)")
        }
        let N = settings.windowSize
        var F = N
        if settings.roundToPowerOfTwo { F = 1; while F < N { F *= 2 } }
        if F % 2 == 1 { F += 1 }
        fftSize = F

        let nyquist = 0.5 * Double(settings.sampleRate)
        let low = settings.lowFrequency
        let high = settings.highFrequency <= 0 ? settings.highFrequency + nyquist : settings.highFrequency
        guard low >= 0, low < nyquist, high > 0, high <= nyquist, low < high else {
            throw SequentError.invalidArgument(op, "low frequency \(low) Hz and high frequency \(high) Hz must satisfy 0 <= low < high <= \(nyquist) (Nyquist)")
        }

        // The window function (torch's symmetric windows, as Kaldi).
        window = (0..<N).map { n in
            let a = 2 * Double.pi * Double(n) / Double(N - 1)
            switch settings.window {
            case .hanning: return Float(0.5 - 0.5 * cos(a))
            case .povey: return Float(pow(0.5 - 0.5 * cos(a), 0.85))
            case .hamming: return Float(0.54 - 0.46 * cos(a))
            case .rectangular: return 1
            }
        }

        // Triangular filters, equally spaced on the mel scale between low and high.
        func mel(_ f: Double) -> Double { 1127 * log(1 + f / 700) }
        let bins = settings.melBins, columns = F / 2 + 1
        let melLow = mel(low), melHigh = mel(high)
        let delta = (melHigh - melLow) / Double(bins + 1)
        let binWidth = Double(settings.sampleRate) / Double(F)
        var bank = [Float](repeating: 0, count: bins * columns)
        for m in 0..<bins {
            let left = melLow + Double(m) * delta, center = left + delta, right = center + delta
            for k in 0..<(F / 2) {
                let z = mel(binWidth * Double(k))
                let up = (z - left) / (center - left), down = (right - z) / (right - center)
                bank[m * columns + k] = Float(max(0, min(up, down)))
            }
        }
        melBank = bank

        if settings.kind == .mfcc {
            let C = settings.cepstralCoefficients, L = settings.cepstralLifter
            var dct = [Float](repeating: 0, count: bins * C)
            for n in 0..<bins {
                for k in 0..<C {
                    var value = cos(Double.pi / Double(bins) * (Double(n) + 0.5) * Double(k)) * (2 / Double(bins)).squareRoot()
                    if k == 0 { value = (1 / Double(bins)).squareRoot() }
                    let lifter = L != 0 ? 1 + 0.5 * L * sin(Double.pi * Double(k) / L) : 1
                    dct[n * C + k] = Float(value * lifter)
                }
            }
            cepstral = dct
        } else {
            cepstral = []
        }
    }

    /// The frames a signal of `sampleCount` samples gives (snip_edges: only whole windows).
    public func frameCount(sampleCount: Int) -> Int {
        let N = settings.windowSize, hop = settings.hopSize
        return sampleCount < N ? 0 : 1 + (sampleCount - N) / hop
    }

    /// The features of one signal: (frames, featureSize) row-major.
    ///
    /// - Parameter ditherSeed: the seed of the dither noise (used only when dither > 0).
    public func features(of samples: [Float], ditherSeed: UInt64 = 0) -> [Float] {
        var worker = Worker(self)
        return worker.features(of: samples, ditherSeed: ditherSeed)
    }

    /// The features of many signals, computed on `Parallelism.threadCount` threads.
    public func features(of signals: [[Float]], ditherSeed: UInt64 = 0) -> [[Float]] {
        ParallelMap.map(count: signals.count, makeState: { Worker(self) }) { worker, i in
            worker.features(of: signals[i], ditherSeed: ditherSeed &+ UInt64(i))
        }
    }

    /// One thread's FFT plan and scratch rows; `appendFrame` is the one place a frame's
    /// features are computed, offline and streaming.
    struct Worker {
        let extractor: FeatureExtractor
        let fft: RealFFT
        var frame: [Float]
        var power: [Float]
        var mels: [Float]

        init(_ extractor: FeatureExtractor) {
            self.extractor = extractor
            // The FFT size is even and >= 2 by construction.
            fft = RealFFT(size: extractor.fftSize)!
            frame = [Float](repeating: 0, count: extractor.fftSize)
            power = [Float](repeating: 0, count: extractor.fftSize / 2 + 1)
            mels = [Float](repeating: 0, count: extractor.settings.melBins)
        }

        mutating func features(of samples: [Float], ditherSeed: UInt64) -> [Float] {
            let s = extractor.settings
            let frames = extractor.frameCount(sampleCount: samples.count)
            var output: [Float] = []
            output.reserveCapacity(frames * s.featureSize)
            var generator = RandomGenerator(seed: ditherSeed)
            for f in 0..<frames {
                appendFrame(samples, start: f * s.hopSize, to: &output, generator: &generator)
            }
            return output
        }

        /// Appends the features of the window of `samples` that starts at `start`.
        mutating func appendFrame(_ samples: [Float], start: Int, to output: inout [Float], generator: inout RandomGenerator) {
            let s = extractor.settings
            let N = s.windowSize, F = extractor.fftSize
            for j in 0..<N { frame[j] = samples[start + j] }
            if s.dither > 0 {
                let d = Float(s.dither)
                for j in 0..<N { frame[j] += d * generator.nextNormal() }
            }
            if s.removeDCOffset {
                var sum: Float = 0
                for j in 0..<N { sum += frame[j] }
                let mean = sum / Float(N)
                for j in 0..<N { frame[j] -= mean }
            }
            if s.preemphasis != 0 {
                let a = Float(s.preemphasis)
                for j in stride(from: N - 1, to: 0, by: -1) { frame[j] -= a * frame[j - 1] }
                frame[0] -= a * frame[0]
            }
            for j in 0..<N { frame[j] *= extractor.window[j] }
            for j in N..<F { frame[j] = 0 }
            fft.powerSpectrum(frame, into: &power)
            let columns = F / 2 + 1, bins = s.melBins
            let epsilon = Float.ulpOfOne
            for m in 0..<bins {
                var sum: Float = 0
                let row = m * columns
                for k in 0..<columns { sum += extractor.melBank[row + k] * power[k] }
                mels[m] = Foundation.log(max(sum, epsilon))
            }
            if s.kind == .fbank {
                output.append(contentsOf: mels)
            } else {
                let C = s.cepstralCoefficients
                for c in 0..<C {
                    var sum: Float = 0
                    for n in 0..<bins { sum += mels[n] * extractor.cepstral[n * C + c] }
                    output.append(sum)
                }
            }
        }
    }
}
