import Foundation
import SequentData
import SequentTensor
import TestSupport
import XCTest

/// `FeatureExtractor` against torchaudio's Kaldi-compatible fbank and mfcc
/// (`Tests/Fixtures/make_speech_fixtures.py`). Tolerance: 5e-4 absolute on log-mel energies
/// and MFCCs whose magnitudes reach tens (float32 FFTs of two libraries, KissFFT and
/// PocketFFT, summed in different orders; 1.2e-4 measured).
final class AudioFeaturesTests: XCTestCase {
    private static let tolerance: Float = 5e-4

    private func check(_ name: String, signal: String, _ settings: FeatureSettings) throws {
        let fixtures = try Fixtures.load("speech_features")
        let x = try XCTUnwrap(fixtures[signal]).scalars
        let expected = try XCTUnwrap(fixtures[name])
        let extractor = try FeatureExtractor(settings: settings)
        let features = extractor.features(of: x)
        XCTAssertEqual(extractor.frameCount(sampleCount: x.count), expected.shape[0], name)
        XCTAssertEqual(features.count, expected.count, name)
        let worst = zip(features, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThan(worst, Self.tolerance, "\(name): largest difference \(worst)")
        print("\(name): largest difference from torchaudio \(worst)")
    }

    func testFilterbankMatchesTorchaudioAt8kHz() throws {
        try check("fbank_8k_40", signal: "signal_8k", FeatureSettings(kind: .fbank, sampleRate: 8000, melBins: 40))
    }

    func testMFCCMatchesTorchaudioAt8kHz() throws {
        try check("mfcc_8k_23_13", signal: "signal_8k", FeatureSettings(kind: .mfcc, sampleRate: 8000, melBins: 23))
    }

    func testFilterbankWithOtherSettingsMatchesTorchaudio() throws {
        var s = FeatureSettings(kind: .fbank, sampleRate: 16_000, melBins: 23)
        s.window = .hamming
        s.preemphasis = 0
        s.removeDCOffset = false
        s.frameLength = 20
        s.frameShift = 5
        s.lowFrequency = 100
        s.highFrequency = -400
        try check("fbank_16k_hamming", signal: "signal_16k", s)
    }

    func testMFCCWithOtherSettingsMatchesTorchaudio() throws {
        var s = FeatureSettings(kind: .mfcc, sampleRate: 16_000, melBins: 30)
        s.cepstralCoefficients = 20
        s.cepstralLifter = 0
        s.window = .hanning
        try check("mfcc_16k_30_20", signal: "signal_16k", s)
    }

    func testBatchesOnManyThreadsEqualOneAtATime() throws {
        let extractor = try FeatureExtractor(settings: FeatureSettings(kind: .mfcc, sampleRate: 8000))
        var generator = RandomGenerator(seed: 3)
        let signals = (0..<9).map { i in (0..<(800 + 97 * i)).map { _ in 0.1 * generator.nextNormal() } }
        let batch = Parallelism.withThreads(2) { extractor.features(of: signals) }
        for (i, signal) in signals.enumerated() { XCTAssertEqual(batch[i], extractor.features(of: signal)) }
    }

    func testSettingsThatCannotWorkAreRefusedByName() {
        var s = FeatureSettings(kind: .mfcc, sampleRate: 8000, melBins: 10)
        s.cepstralCoefficients = 13
        XCTAssertThrowsError(try FeatureExtractor(settings: s)) { XCTAssertTrue("\($0)".contains("MFCC coefficients"), "\($0)") }
        s = FeatureSettings(kind: .fbank, sampleRate: 8000)
        s.lowFrequency = 5000
        XCTAssertThrowsError(try FeatureExtractor(settings: s)) { XCTAssertTrue("\($0)".contains("low frequency"), "\($0)") }
    }

    func testASignalShorterThanOneWindowHasNoFrames() throws {
        let extractor = try FeatureExtractor(settings: FeatureSettings(kind: .fbank, sampleRate: 8000))
        XCTAssertEqual(extractor.features(of: [Float](repeating: 0.1, count: 199)).count, 0)
        XCTAssertEqual(extractor.frameCount(sampleCount: 200), 1)
        XCTAssertEqual(extractor.frameCount(sampleCount: 279), 1)
        XCTAssertEqual(extractor.frameCount(sampleCount: 280), 2)
    }
}
