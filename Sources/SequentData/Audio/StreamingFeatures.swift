import SequentTensor

/// Features of a signal that arrives in pieces: `append` returns the frames completed by the
/// new samples, the same values `FeatureExtractor.features(of:)` gives for the whole signal
/// (frames depend only on their own window; with dither on, the noise differs).
public struct StreamingFeatures {
    public let extractor: FeatureExtractor
    private var worker: FeatureExtractor.Worker
    /// Samples from the start of the next frame on.
    private var pending: [Float] = []
    private var generator = RandomGenerator(seed: 0)

    public init(extractor: FeatureExtractor) {
        self.extractor = extractor
        worker = FeatureExtractor.Worker(extractor)
    }

    /// The features ((new frames, featureSize) row-major) that `samples` complete.
    public mutating func append(_ samples: [Float]) -> [Float] {
        pending.append(contentsOf: samples)
        let N = extractor.settings.windowSize, hop = extractor.settings.hopSize
        var output: [Float] = []
        var start = 0
        while start + N <= pending.count {
            worker.appendFrame(pending, start: start, to: &output, generator: &generator)
            start += hop
        }
        pending.removeFirst(min(start, pending.count))
        return output
    }
}
