import Foundation
import SequentNN
import SequentTensor
import SequentTrain

/// The cost measurements of the comparison table: training-step time and tokens per second
/// against sequence length at one hidden size, and the counted FLOPs and stored activations.
///
/// B = batch, T = time, In = input width, H = hidden size, G = gate blocks (1 RNN, 3 GRU, 4 LSTM).
public struct SpeedExperiment {
    public struct Measurement: Sendable {
        public var architecture: Architecture
        public var length: Int
        /// The fastest of the repeated timings of one training step (forward, backward, Adam).
        public var stepSeconds: Double
        public var tokensPerSecond: Double
        /// Forward FLOPs of the recurrent layer for the whole batch: 2 B T G H (In + H).
        public var forwardFLOPs: Double
        /// Floats kept for backward per sequence, as counted from the cell (see `storedFloatsPerStep`).
        public var activationBytes: Double
    }

    public struct Result: Sendable {
        public var measurements: [Measurement]
        public var batch: Int, inputSize: Int, hidden: Int

        public func series(_ architecture: Architecture) -> [Measurement] {
            measurements.filter { $0.architecture == architecture }.sorted { $0.length < $1.length }
        }

        /// The exponent k of step time ~ T^k, by least squares on the log-log points.
        public func lengthExponent(_ architecture: Architecture) -> Double? {
            let points = series(architecture).map { (Foundation.log(Double($0.length)), Foundation.log($0.stepSeconds)) }
            guard points.count >= 2 else { return nil }
            let mx = points.map(\.0).reduce(0, +) / Double(points.count), my = points.map(\.1).reduce(0, +) / Double(points.count)
            let sxy = points.map { ($0.0 - mx) * ($0.1 - my) }.reduce(0, +), sxx = points.map { ($0.0 - mx) * ($0.0 - mx) }.reduce(0, +)
            return sxx > 0 ? sxy / sxx : nil
        }
    }

    /// Floats the backward pass needs per step and sequence: the hidden state, the gate
    /// activations, and the cell state for the LSTM (H + G H, + H).
    static func storedFloatsPerStep(_ cell: RecurrentCellType, hidden: Int) -> Int {
        hidden + cell.gateCount * hidden + (cell.hasCellState ? hidden : 0)
    }

    let settings: LabSettings
    let progress: LabProgress

    public init(settings: LabSettings, progress: LabProgress) {
        self.settings = settings
        self.progress = progress
    }

    public func run() throws -> Result {
        let (B, In, H) = (32, 32, settings.speedHidden)
        var measurements: [Measurement] = []
        for architecture in Architecture.recurrent {
            guard let cell = architecture.cell else { continue }
            var generator = RandomGenerator(seed: 5)
            let model = try SequenceModel(cell: cell, inputSize: In, hiddenSize: H, outputSize: 1, generator: &generator)
            let optimizer = try Adam(namedParameters: model.namedParameters(), learningRate: 1e-3)
            for T in settings.speedLengths {
                progress("comparison table: timing \(architecture.rawValue) training steps at T = \(T), H = \(H)")
                let input = Tensor.randomUniform([B, T, In], lower: -1, upper: 1, using: &generator)
                func step() throws {
                    // A fresh random target each step, so that the gradients never shrink toward 0.
                    let target = Tensor.randomUniform([B, T, 1], lower: -1, upper: 1, using: &generator)
                    let loss = try Loss.meanSquaredError(try model.everyStep(input), target)
                    loss.backward()
                    optimizer.step()
                    optimizer.zeroGradients()
                }
                try step()  // warm-up: allocations, oneDNN primitive creation
                var times: [Double] = []
                for _ in 0..<settings.speedRepeats { times.append(try timed { try step() }.1) }
                let median = times.min()!  // the least disturbed by other processes
                let flops = 2.0 * Double(B * T * cell.gateCount * H * (In + H))
                let bytes = Double(4 * T * SpeedExperiment.storedFloatsPerStep(cell, hidden: H))
                measurements.append(Measurement(architecture: architecture, length: T, stepSeconds: median,
                                                tokensPerSecond: Double(B * T) / median, forwardFLOPs: flops, activationBytes: bytes))
            }
        }
        return Result(measurements: measurements, batch: B, inputSize: In, hidden: H)
    }
}
