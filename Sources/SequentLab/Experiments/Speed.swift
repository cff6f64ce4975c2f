import Foundation
import SequentNN
import SequentTensor
import SequentTrain

/// The cost measurements of the comparison table: training-step time, tokens per second and
/// the peak memory of a step against sequence length at one width, the speed-up from one
/// thread to all, and the counted FLOPs.
///
/// Each model is one layer of width W: a recurrent layer with H = W, or one Transformer
/// encoder layer with D = W (causal, heads of width 16, F = 2 D), with an input projection for the Transformer
/// and a linear head for all. B = batch, T = time, In = input width.
public struct SpeedExperiment {
    public struct Measurement: Sendable {
        public var architecture: Architecture
        public var length: Int
        /// The fastest of the timings of one training step (forward, backward, clipping, Adam,
        /// on the Trainer).
        public var stepSeconds: Double
        /// The same on one thread: measured at the longest length only, when the run uses
        /// more than one thread.
        public var singleThreadStepSeconds: Double?
        /// Every timed step on all threads, and on one thread (longest length only): their
        /// spread is the timing noise. At the longest length the i-th value of every model
        /// comes from the same interleaved round, so values of one index pair up.
        public var repeats: [Double] = []
        public var singleThreadRepeats: [Double] = []
        /// The process's CPU seconds of the same steps (all threads together): the work of a
        /// step, which other processes on the cores do not inflate as they do wall time.
        public var cpuRepeats: [Double] = []
        public var singleThreadCPURepeats: [Double] = []
        public var tokensPerSecond: Double
        /// Forward FLOPs of the sequence network for the whole batch, counted
        /// (`ModelFamily.forwardFLOPs`).
        public var forwardFLOPs: Double
        /// How much the resident memory grew during one training step (activations kept for
        /// backward, gradients, workspaces), measured; nil where it cannot be
        /// (`Memory.peakResidentGrowth`).
        public var peakMemoryBytes: Double?

        /// Single-thread time over all-thread time: what the extra cores bought.
        public var parallelSpeedUp: Double? { singleThreadStepSeconds.map { $0 / stepSeconds } }

        /// The speed-up of each pair of repeats (i-th single-thread over i-th all-thread
        /// step), for its spread; empty where one thread was not timed.
        public var parallelSpeedUps: SeedValues {
            SeedValues(zip(singleThreadRepeats, repeats).map { $0 / $1 })
        }

        /// The CPU seconds of a step of each round: on one thread where it was timed (the
        /// work alone, with no threads waiting for each other), else on all threads.
        public var workSeconds: [Double] { singleThreadCPURepeats.isEmpty ? cpuRepeats : singleThreadCPURepeats }

        /// The achieved training FLOP/s of each repeat, counting a training step as three
        /// forward passes (forward, and backward's two products per forward product).
        public var achievedFLOPRates: SeedValues { SeedValues(repeats.map { 3 * forwardFLOPs / $0 }) }
    }

    public struct Result: Sendable {
        public var measurements: [Measurement]
        public var batch: Int, inputSize: Int, width: Int
        /// The threads of the all-thread timings.
        public var threads: Int

        public func series(_ architecture: Architecture) -> [Measurement] {
            measurements.filter { $0.architecture == architecture }.sorted { $0.length < $1.length }
        }

        /// The exponent k of step time ~ T^k, by least squares on the log-log points.
        public func lengthExponent(_ architecture: Architecture) -> Double? {
            SpeedExperiment.exponent(series(architecture).map { (Double($0.length), $0.stepSeconds) })
        }

        /// The exponent of step time ~ T^k between the two longest lengths, where a term
        /// that grows faster than T shows first: one value per interleaved round from the
        /// steps' CPU seconds (both lengths are timed in every round), or from the best wall
        /// times when there are no rounds.
        public func longLengthExponents(_ architecture: Architecture) -> SeedValues {
            let pair = series(architecture).suffix(2)
            guard pair.count == 2, let short = pair.first, let long = pair.last else { return SeedValues([]) }
            let ratio = Foundation.log(Double(long.length) / Double(short.length))
            // The CPU seconds of the rounds (all threads): the work, which the load does not inflate.
            guard short.cpuRepeats.count == long.cpuRepeats.count, short.cpuRepeats.count >= 2 else {
                return SeedValues([Foundation.log(long.stepSeconds / short.stepSeconds) / ratio])
            }
            return SeedValues(zip(short.cpuRepeats, long.cpuRepeats).map { Foundation.log($1 / $0) / ratio })
        }

        /// The exponent of peak step memory ~ T^k, by least squares on the log-log points.
        public func memoryExponent(_ architecture: Architecture) -> Double? {
            let points = series(architecture).compactMap { m in m.peakMemoryBytes.map { (Double(m.length), $0) } }
            return points.count == series(architecture).count ? SpeedExperiment.exponent(points) : nil
        }
    }

    /// The slope of log y against log x by least squares; nil for fewer than two usable points.
    static func exponent(_ points: [(x: Double, y: Double)]) -> Double? {
        let logs = points.filter { $0.x > 0 && $0.y > 0 }.map { (Foundation.log($0.x), Foundation.log($0.y)) }
        guard logs.count >= 2 else { return nil }
        let mx = logs.map(\.0).reduce(0, +) / Double(logs.count), my = logs.map(\.1).reduce(0, +) / Double(logs.count)
        let sxy = logs.map { ($0.0 - mx) * ($0.1 - my) }.reduce(0, +), sxx = logs.map { ($0.0 - mx) * ($0.0 - mx) }.reduce(0, +)
        return sxx > 0 ? sxy / sxx : nil
    }

    let settings: LabSettings
    let progress: LabProgress

    public init(settings: LabSettings, progress: LabProgress) {
        self.settings = settings
        self.progress = progress
    }

    public func run() throws -> Result {
        let (B, In, W) = (32, 32, settings.speedWidth)
        let threads = Parallelism.threadCount
        let longest = settings.speedLengths.max() ?? 0
        // The two longest lengths are timed in the rounds: the speed comparisons use the
        // longest, the Transformer's growth exponent both.
        let roundLengths = Set(settings.speedLengths.sorted().suffix(2))
        let size = ModelSize(width: W)
        var measurements: [Measurement] = []
        /// The timing of one step of each model at the round lengths, by measurement index.
        var roundTimings: [(index: Int, length: Int, timeOneStep: () throws -> (wall: Double, cpu: Double))] = []
        for architecture in Architecture.allCases {
            let family = ModelFamily(architecture, inputSize: In, outputSize: 1)
            var generator = RandomGenerator(seed: 5)
            let model = try family.model(size, generator: &generator)
            for T in settings.speedLengths {
                progress("comparison table: timing \(architecture.rawValue) training steps at T = \(T), \(family.sizeDescription(size))")
                let input = Tensor.randomUniform([B, T, In], lower: -1, upper: 1, using: &generator)
                // Training steps on the Trainer, each on a fresh random target (so that the
                // gradients never shrink toward 0); the first step of each run is a warm-up
                // (allocations, oneDNN primitive creation, Adam's state) and is not counted.
                let targets = GeneratedBatches(generator: RandomGenerator(seed: 6 &+ UInt64(T))) {
                    Tensor.randomUniform([B, T, 1], lower: -1, upper: 1, using: &$0)
                }
                func timedSteps(_ count: Int) throws -> [(wall: Double, cpu: Double)] {
                    let outcome = try LabTraining(learningRate: 1e-3, steps: count + 1).run(model, data: targets) { target in
                        (try Loss.meanSquaredError(try model.everyStep(input), target), B * T)
                    }
                    return Array(zip(outcome.stepSeconds, outcome.stepCPUSeconds).dropFirst()).map { (wall: $0, cpu: $1) }
                }
                var repeats: [Double] = []
                if roundLengths.contains(T) {
                    // Warm up (both thread counts at the longest); the timed steps come in the
                    // interleaved rounds below.
                    _ = try timedSteps(0)
                    if T == longest && threads > 1 { _ = try Parallelism.withThreads(1) { try timedSteps(0) } }
                    roundTimings.append((measurements.count, T, { try timedSteps(1)[0] }))
                } else {
                    repeats = try timedSteps(settings.speedRepeats).map(\.wall)
                }
                // The peak of one more step (the memory of the warm steps is freed by then).
                let peak = try Memory.peakResidentGrowth { _ = try timedSteps(0) }
                measurements.append(Measurement(
                    architecture: architecture, length: T, stepSeconds: repeats.min() ?? .nan, singleThreadStepSeconds: nil,
                    repeats: repeats, tokensPerSecond: .nan, forwardFLOPs: family.forwardFLOPs(size, batch: B, length: T),
                    peakMemoryBytes: peak.map(Double.init)))
            }
        }
        // At the two longest lengths, rounds: RNN, LSTM, GRU, Transformer, RNN, ..., each
        // model's step at the longest on all threads then on one, so that a change of the
        // machine's load hits every model (and both thread counts) of a round alike; the
        // comparisons use the rounds' ratios (`SeedComparison.higherPaired`).
        for round in 1...max(1, settings.speedRounds) {
            progress("comparison table: timing round \(round) of \(settings.speedRounds) at T = \(roundLengths.sorted().map(String.init).joined(separator: " and ")), every model in turn")
            for (index, length, timeOneStep) in roundTimings {
                let step = try timeOneStep()
                measurements[index].repeats.append(step.wall)
                measurements[index].cpuRepeats.append(step.cpu)
                if length == longest && threads > 1 {
                    let single = try Parallelism.withThreads(1) { try timeOneStep() }
                    measurements[index].singleThreadRepeats.append(single.wall)
                    measurements[index].singleThreadCPURepeats.append(single.cpu)
                }
            }
        }
        for index in measurements.indices {
            let m = measurements[index]
            measurements[index].stepSeconds = m.repeats.min()!
            measurements[index].singleThreadStepSeconds = m.singleThreadRepeats.min()
            measurements[index].tokensPerSecond = Double(B * m.length) / m.repeats.min()!
        }
        return Result(measurements: measurements, batch: B, inputSize: In, width: W, threads: threads)
    }
}
