import Foundation
import SequentNN
import SequentTensor

/// The sequence architectures the lab compares: the columns of its tables.
///
/// The Transformer column exists so that tables and plots keep their shape; until
/// `SequentNN/Transformer` lands, its cells say "not yet measured" (`isAvailable` is false).
public enum Architecture: String, CaseIterable, Sendable {
    case rnn = "RNN"
    case lstm = "LSTM"
    case gru = "GRU"
    case transformer = "Transformer"

    /// The recurrent architectures, measured in every experiment.
    public static let recurrent: [Architecture] = [.rnn, .lstm, .gru]

    /// The cell of a recurrent architecture (the vanilla RNN uses tanh); nil for the Transformer.
    public var cell: RecurrentCellType? {
        switch self {
        case .rnn: return .rnn(.tanh)
        case .lstm: return .lstm
        case .gru: return .gru
        case .transformer: return nil
        }
    }

    /// Whether the lab can build and measure this architecture yet.
    public var isAvailable: Bool { cell != nil }

    /// The recurrent layer's parameter count for input size In and hidden size H:
    /// G (H In + H H + 2 H), G = 1, 4, 3 gates' worth of weights.
    public static func recurrentParameterCount(_ cell: RecurrentCellType, inputSize: Int, hiddenSize h: Int) -> Int {
        cell.gateCount * (h * inputSize + h * h + 2 * h)
    }

    /// The hidden size whose recurrent layer plus a head of `outputSize` comes closest to
    /// `budget` parameters: the lab's "same parameter budget".
    public static func hiddenSize(_ cell: RecurrentCellType, inputSize: Int, outputSize: Int, budget: Int) -> Int {
        var best = 1, bestGap = Int.max
        for h in 1...1024 {
            let count = recurrentParameterCount(cell, inputSize: inputSize, hiddenSize: h) + h * outputSize + outputSize
            let gap = abs(count - budget)
            if gap < bestGap { (best, bestGap) = (h, gap) }
            if count > budget { break }
        }
        return best
    }
}

/// A recurrent layer with a linear head: the model of the synthetic tasks.
///
///     y, _ = RNN|LSTM|GRU(x)        x (B, T, In) -> y (B, T, H)
///     out = y W^T + b               (B, T, Out), or only the last step (B, Out)
final class SequenceModel: Module {
    let recurrent: RecurrentLayer
    let head: Linear
    var isTraining = true

    init(cell: RecurrentCellType, inputSize: Int, hiddenSize: Int, outputSize: Int, generator: inout RandomGenerator) throws {
        recurrent = try RecurrentLayer(cell: cell, inputSize: inputSize, hiddenSize: hiddenSize, batchFirst: true, generator: &generator)
        head = Linear(inputSize: hiddenSize, outputSize: outputSize, generator: &generator)
    }

    var submodules: [(key: String, module: any Module)] { [("rnn", recurrent), ("head", head)] }

    /// The head applied to every step: (B, T, Out).
    func everyStep(_ x: Tensor) throws -> Tensor {
        head(try recurrent(x).output)
    }

    /// The head applied to the last step only: (B, Out).
    func lastStep(_ x: Tensor) throws -> Tensor {
        let output = try recurrent(x).output  // (B, T, H)
        return head(output.select(alongAxis: 1, index: output.shape[1] - 1))
    }
}

/// Where the lab reports what it is doing: one line per stage, for the progress display.
public struct LabProgress: Sendable {
    let report: @Sendable (String) -> Void

    public init(_ report: @escaping @Sendable (String) -> Void) { self.report = report }

    /// A progress display that drops everything (tests).
    public static let silent = LabProgress { _ in }

    public func callAsFunction(_ line: String) { report(line) }
}

/// Seconds taken by `body`.
func timed<R>(_ body: () throws -> R) rethrows -> (R, Double) {
    let clock = ContinuousClock()
    let start = clock.now
    let result = try body()
    let (s, atto) = (clock.now - start).components
    return (result, Double(s) + Double(atto) * 1e-18)
}

/// A number with `digits` significant digits, for tables.
func formatted(_ value: Double?, _ digits: Int = 3) -> String {
    guard let value, !value.isNaN else { return "-" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    if abs(value) >= 1000 && abs(value) < 1e5 { return String(format: "%.0f", value) }
    if value != 0 && (abs(value) >= 1e5 || abs(value) < 1e-3) { return String(format: "%.\(max(digits - 1, 0))e", value) }
    return String(format: "%.\(digits)g", value)
}

/// exp(mean(log x)): the average of values spread over decades.
func geometricMean(_ values: [Double]) -> Double {
    let positive = values.filter { $0 > 0 && $0.isFinite }
    guard !positive.isEmpty else { return 0 }
    return Foundation.exp(positive.map { Foundation.log($0) }.reduce(0, +) / Double(positive.count))
}
