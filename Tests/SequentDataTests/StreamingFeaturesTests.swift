import Foundation
import SequentData
import SequentTensor
import TestSupport
import XCTest

/// `StreamingFeatures`: pieces of any size give the frames of the whole signal, bitwise.
final class StreamingFeaturesTests: XCTestCase {
    func testStreamedFeaturesEqualOfflineFeatures() throws {
        let extractor = try FeatureExtractor(settings: FeatureSettings(kind: .fbank, sampleRate: 8000, melBins: 40))
        let x = try XCTUnwrap(try Fixtures.load("speech_features")["signal_8k"]).scalars
        var stream = StreamingFeatures(extractor: extractor)
        var streamed: [Float] = []
        var start = 0
        for size in [1, 7, 150, 333, 80, 1000, 10_000] where start < x.count {
            let end = min(x.count, start + size)
            streamed += stream.append(Array(x[start..<end]))
            start = end
        }
        XCTAssertEqual(streamed, extractor.features(of: x))
    }

    func testNothingComesOutBeforeAWholeWindow() throws {
        let extractor = try FeatureExtractor(settings: FeatureSettings(kind: .mfcc, sampleRate: 8000))
        var stream = StreamingFeatures(extractor: extractor)
        XCTAssertTrue(stream.append([Float](repeating: 0.1, count: 199)).isEmpty)
        XCTAssertEqual(stream.append([0.1]).count, 13)
        XCTAssertTrue(stream.append([Float](repeating: 0.1, count: 79)).isEmpty)
        XCTAssertEqual(stream.append([0.1]).count, 13)
    }
}
