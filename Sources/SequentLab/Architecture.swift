import SequentNN
import SequentTensor

/// The sequence architectures the lab compares: the columns of its tables.
public enum Architecture: String, CaseIterable, Sendable {
    case rnn = "RNN"
    case lstm = "LSTM"
    case gru = "GRU"
    case transformer = "Transformer"

    /// The recurrent architectures.
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
}

/// The size of a lab model: its width W (the hidden size H of a recurrent layer, the model
/// width D of a Transformer) and its layers (always one recurrent layer; N encoder layers).
public struct ModelSize: Sendable, Equatable, CustomStringConvertible {
    public var width: Int
    public var layerCount: Int

    public init(width: Int, layerCount: Int = 1) {
        self.width = width
        self.layerCount = layerCount
    }

    public var description: String { "W = \(width), \(layerCount) layer(s)" }
}

/// One architecture's lab model at any size: a recurrent layer or a Transformer encoder
/// between the task's input and a linear head.
///
/// It counts parameters and FLOPs, finds the size whose parameter count comes closest to a
/// budget (the lab's "same parameter budget") and builds the model. The Transformer's
/// shape follows two fixed rules: heads of width 16 (h = D / 16, so D is a multiple of 16,
/// the vector width of Sequent's kernels, which run narrower rows several times slower) and
/// a feed-forward width F = 2 D.
public struct ModelFamily: Sendable {
    public var architecture: Architecture
    /// In: the width of each input step.
    public var inputSize: Int
    /// Out: the width of the head's output.
    public var outputSize: Int

    /// The width of each attention head.
    public static let headWidth = 16
    /// F / D.
    public static let feedForwardRatio = 2
    /// The most encoder layers the budget search considers.
    static let maximumLayers = 4

    public init(_ architecture: Architecture, inputSize: Int, outputSize: Int) {
        self.architecture = architecture
        self.inputSize = inputSize
        self.outputSize = outputSize
    }

    /// The widths a model can have: any H >= 1; D a multiple of the head width.
    var widthStep: Int { architecture == .transformer ? ModelFamily.headWidth : 1 }

    /// The parameter count of the model of `size` (head included):
    ///
    ///     recurrent:    G (H In + H H + 2 H) + H Out + Out,           G = 1, 4, 3 (RNN, LSTM, GRU)
    ///     Transformer:  In D + D + N (8 D^2 + 11 D) + 2 D + D Out + Out
    ///
    /// A pre-norm encoder layer holds 4 D^2 + 4 D in the attention (q, k, v and output
    /// projections), 2 D F + F + D in the feed-forward network and 4 D in its two
    /// LayerNorms: 8 D^2 + 11 D with F = 2 D. Sinusoidal positions have no parameters, so
    /// the count does not depend on T.
    public func parameterCount(_ size: ModelSize) -> Int {
        let w = size.width
        let head = w * outputSize + outputSize
        guard let cell = architecture.cell else {
            return inputSize * w + w + size.layerCount * (8 * w * w + 11 * w) + 2 * w + head
        }
        return cell.gateCount * (w * inputSize + w * w + 2 * w) + head
    }

    /// The size whose parameter count comes closest to `budget`: the width of the one
    /// recurrent layer, or the Transformer's D and N (N up to 4; on a tie the fewer layers).
    public func size(closestTo budget: Int) -> ModelSize {
        let layerCounts = architecture == .transformer ? Array(1...ModelFamily.maximumLayers) : [1]
        var best = ModelSize(width: widthStep), bestGap = Int.max
        for layers in layerCounts {
            for w in stride(from: widthStep, through: 1024, by: widthStep) {
                let size = ModelSize(width: w, layerCount: layers)
                let count = parameterCount(size)
                if abs(count - budget) < bestGap { (best, bestGap) = (size, abs(count - budget)) }
                if count > budget { break }
            }
        }
        return best
    }

    /// The counted multiply-adds (times 2) of the sequence network's forward pass over a
    /// batch of B sequences of T steps, head excluded:
    ///
    ///     recurrent:    2 B T G H (In + H)
    ///     Transformer:  2 B T In D + N (2 B T 8 D^2 + 2 B D T (T + 1))
    ///
    /// per Transformer layer 8 D^2 multiply-adds per position in the four projections and
    /// the feed-forward network (F = 2 D), and 2 D per query-key pair in the scores and the
    /// weighted sum of the values, over the T (T + 1) / 2 pairs of causal attention.
    public func forwardFLOPs(_ size: ModelSize, batch: Int, length: Int) -> Double {
        let (B, T, In, W) = (Double(batch), Double(length), Double(inputSize), Double(size.width))
        guard let cell = architecture.cell else {
            let layer = 2 * B * T * 8 * W * W + 2 * B * W * T * (T + 1)
            return 2 * B * T * In * W + Double(size.layerCount) * layer
        }
        return 2 * B * T * Double(cell.gateCount) * W * (In + W)
    }

    /// "H = 32", or "D = 32, 2 layers, 2 heads".
    public func sizeDescription(_ size: ModelSize) -> String {
        guard architecture == .transformer else { return "H = \(size.width)" }
        let heads = size.width / ModelFamily.headWidth
        return "D = \(size.width), \(size.layerCount) layer\(size.layerCount == 1 ? "" : "s"), \(heads) head\(heads == 1 ? "" : "s")"
    }

    /// The model of `size`, its values drawn from `generator`; an LSTM's forget gate starts
    /// as `forgetGate` says.
    ///
    /// - Throws: `SequentError` when the Transformer's D is not a multiple of the head width.
    func model(_ size: ModelSize, forgetGate: ForgetGateInitialisation = .unitBias, generator: inout RandomGenerator) throws -> any SequenceModel {
        guard let cell = architecture.cell else {
            guard size.width % ModelFamily.headWidth == 0 else {
                throw SequentError.invalidArgument("lab", "the Transformer's D must be a multiple of \(ModelFamily.headWidth), got \(size.width)")
            }
            return try TransformerSequenceModel(
                inputSize: inputSize, dModel: size.width, layerCount: size.layerCount, headCount: size.width / ModelFamily.headWidth,
                dimFeedforward: ModelFamily.feedForwardRatio * size.width, outputSize: outputSize, generator: &generator)
        }
        return try RecurrentSequenceModel(cell: cell, inputSize: inputSize, hiddenSize: size.width, outputSize: outputSize,
                                          forgetGate: forgetGate, generator: &generator)
    }
}
