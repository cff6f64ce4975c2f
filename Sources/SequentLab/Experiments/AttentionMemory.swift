import Foundation
import SequentNN
import SequentTensor

/// The memory of causal self-attention against T, on the two paths Sequent has: the plain
/// path (scores q k^T, softmax, weights times v: PyTorch's `need_weights=True` path),
/// which keeps the (B, h, T, T) weights for backward, and the fused kernel (online softmax),
/// which never stores a T x T matrix.
///
/// Measured: the growth of the peak resident size during one forward and backward pass of
/// `MultiheadAttention` (E = 64, h = 4, B = 4, batch first), each path at each length
/// (`Memory.peakResidentGrowth`, page granularity). Computed from the shapes: the bytes of
/// one (B, h, T, T) Float32 tensor, which the plain path stores (the weights it returns
/// have that shape) and the fused kernel does not.
public struct AttentionMemoryExperiment {
    public struct Measurement: Sendable {
        public var length: Int
        /// Peak resident growth of a forward and backward pass, bytes; nil where not measurable.
        public var plainBytes: Double?
        public var fusedBytes: Double?
        /// B h T^2 x 4: one T x T tensor of every head, as the plain path stores it.
        public var weightBytes: Double
    }

    public struct Result: Sendable {
        public var measurements: [Measurement]
        public var batch: Int, width: Int, heads: Int

        /// The exponent k of memory ~ T^k by least squares, or nil if any point is missing.
        func exponent(_ value: (Measurement) -> Double?) -> Double? {
            let points = measurements.compactMap { m in value(m).map { (x: Double(m.length), y: $0) } }
            return points.count == measurements.count ? SpeedExperiment.exponent(points) : nil
        }
        public var plainExponent: Double? { exponent(\.plainBytes) }
        public var fusedExponent: Double? { exponent(\.fusedBytes) }
    }

    let settings: LabSettings
    let progress: LabProgress

    public init(settings: LabSettings, progress: LabProgress) {
        self.settings = settings
        self.progress = progress
    }

    public func run() throws -> Result {
        let (B, E, h) = (4, 64, 4)
        var generator = RandomGenerator(seed: 8)
        let attention = try MultiheadAttention(embedDim: E, headCount: h, batchFirst: true, generator: &generator)
        var measurements: [Measurement] = []
        for T in settings.attentionMemoryLengths {
            progress("comparison table: attention memory at T = \(T) (plain path and fused kernel)")
            let x = Tensor.randomUniform([B, T, E], lower: -1, upper: 1, using: &generator)
            func pass(plain: Bool) throws {
                let input = x.detached().requiringGrad()
                let (output, weights) = try attention(query: input, key: input, value: input, causal: true, needWeights: plain,
                                                      averageAttentionWeights: false)
                output.sum().backward()
                attention.zeroGradients()
                _ = weights
            }
            try pass(plain: true)  // warm-up: oneDNN primitives, first allocations
            try pass(plain: false)
            let plain = try Memory.peakResidentGrowth { try pass(plain: true) }
            let fused = try Memory.peakResidentGrowth { try pass(plain: false) }
            measurements.append(Measurement(length: T, plainBytes: plain.map(Double.init), fusedBytes: fused.map(Double.init),
                                            weightBytes: Double(B * h * T * T * 4)))
        }
        return Result(measurements: measurements, batch: B, width: E, heads: h)
    }

    /// The exponents that count as "O(T)" and as "O(T^2)".
    static let linearExponents = 0.7...1.3
    static let quadraticExponent = 1.7

    /// The paragraph, table, figure and two claims (one per path), added to `section`.
    static func report(_ result: Result, into section: inout ReportSection) -> [Claim] {
        let mib = 1_048_576.0
        section.paragraph("""
            **Attention memory, measured on each path.** Causal self-attention (`MultiheadAttention`, E = \(result.width), \
            h = \(result.heads), B = \(result.batch)), one forward and backward pass per length: the plain path (scores, \
            softmax, weights times values; it keeps the (B, h, T, T) weights for backward, and is what PyTorch runs with \
            `need_weights=True`) and the fused kernel (online softmax over blocks of keys: it never stores a T x T matrix; \
            the Transformers of this lab run on it). Measured: the growth of the peak resident size during the pass. Computed \
            from the shapes: B h T^2 x 4 bytes, one T x T tensor of every head. "O(T^2)" holds for a fitted exponent of at \
            least \(formatted(quadraticExponent, 2)), "O(T)" for one in [\(formatted(linearExponents.lowerBound, 2)), \(formatted(linearExponents.upperBound, 2))].
            """)
        section.table(ReportTable(header: ["T", "plain path, measured (MiB)", "fused kernel, measured (MiB)", "one (B, h, T, T) tensor, computed (MiB)"],
                                  rows: result.measurements.map { m in
                                      ["\(m.length)", formatted(m.plainBytes.map { $0 / mib }), formatted(m.fusedBytes.map { $0 / mib }), formatted(m.weightBytes / mib)]
                                  }))
        let axis = Axis("sequence length T (steps)", scale: .log)
        section.figure("attention_memory", "Peak memory of one forward and backward pass of causal self-attention against T, plain path and fused kernel (measured), and one T x T tensor per head (computed), log-log.", LineChart(
            title: "Attention memory vs T (B = \(result.batch), E = \(result.width), h = \(result.heads))", x: axis, y: Axis("MiB", scale: .log),
            series: [LineSeries(name: "plain path (measured)", points: result.measurements.compactMap { m in m.plainBytes.map { (x: Double(m.length), y: $0 / mib) } }),
                     LineSeries(name: "fused kernel (measured)", points: result.measurements.compactMap { m in m.fusedBytes.map { (x: Double(m.length), y: $0 / mib) } }),
                     LineSeries(name: "B h T^2 floats (computed)", points: result.measurements.map { (x: Double($0.length), y: $0.weightBytes / mib) }, dashed: true)]).svg)
        guard let plain = result.plainExponent, let fused = result.fusedExponent, let first = result.measurements.first, let last = result.measurements.last else {
            return [Claim("Standard attention needs O(T^2) memory.", measured: "peak memory not measurable here (/proc/self/clear_refs)", verdict: .notMeasured)]
        }
        func range(_ value: (Measurement) -> Double?) -> String {
            "T = \(first.length): \(formatted(value(first).map { $0 / mib })) MiB, T = \(last.length): \(formatted(value(last).map { $0 / mib })) MiB"
        }
        return [
            Claim("Standard attention (the plain path, which stores the attention weights) needs O(T^2) memory.",
                  measured: "peak ~ T^\(formatted(plain, 2)) (\(range(\.plainBytes))); one (B, h, T, T) tensor is \(formatted(last.weightBytes / mib)) MiB at T = \(last.length)",
                  verdict: .from(plain >= quadraticExponent)),
            Claim("The fused attention kernel (online softmax, no stored T x T weights) needs O(T) memory.",
                  measured: "peak ~ T^\(formatted(fused, 2)) (\(range(\.fusedBytes)))",
                  verdict: .from(linearExponents.contains(fused))),
        ]
    }
}
