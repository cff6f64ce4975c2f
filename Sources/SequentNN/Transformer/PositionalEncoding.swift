import Foundation
import SequentTensor

// Positional information for attention, which by itself is blind to order (Vaswani et al.,
// 2017, section 3.5). T = positions, D = model width.

/// Fixed positional encodings: functions of the position and the width, without parameters.
public enum PositionalEncoding {
    /// The sinusoidal encoding of Vaswani et al. (2017),
    ///
    ///     PE(pos, 2i)     = sin(pos / base^(2i / D))
    ///     PE(pos, 2i + 1) = cos(pos / base^(2i / D))
    ///
    /// one row per position in `positions`, (T, D); computed in Double and rounded once.
    /// With an odd D the last column is a sine.
    ///
    /// - Parameters:
    ///   - positions: the absolute positions, e.g. `0..<T`, or `t..<(t + 1)` for one step of
    ///     incremental decoding.
    ///   - width: D, the model width.
    ///   - base: 10000 in the paper.
    public static func sinusoidal(positions: Range<Int>, width: Int, base: Double = 10000) -> Tensor {
        precondition(positions.lowerBound >= 0 && width >= 0, "PositionalEncoding.sinusoidal: positions \(positions) and width \(width) must be non-negative")
        var scalars = [Float](repeating: 0, count: positions.count * width)
        for (row, pos) in positions.enumerated() {
            for column in 0..<width {
                let pair = Double(column / 2 * 2)  // 2i
                let angle = Double(pos) / Foundation.pow(base, pair / Double(width))
                scalars[row * width + column] = Float(column % 2 == 0 ? Foundation.sin(angle) : Foundation.cos(angle))
            }
        }
        return Tensor(shape: [positions.count, width], scalars: scalars)
    }
}

/// Learned positional embeddings: an `Embedding` of positions 0..<maxLength,
///
///     P[t, :] = W[t, :],   W is (maxLength, D),
///
/// added to the token embeddings (GPT; the `pos` table of torch_rnn_bench.py's `GPT`).
///
/// Key: `weight` (maxLength, D). Initialisation as PyTorch's `nn.Embedding`: W ~ N(0, 1).
public final class LearnedPositionalEmbedding: Module {
    /// W, (maxLength, D); key `weight`.
    public let weight: Parameter
    /// The number of positions with a vector; positions >= maxLength have none.
    public let maxLength: Int
    /// D, the size of each vector.
    public let width: Int
    public var isTraining = true

    /// A table of `maxLength` position vectors of size `width`, drawn from `generator`.
    public init(maxLength: Int, width: Int, generator: inout RandomGenerator) {
        precondition(maxLength >= 0 && width >= 0, "LearnedPositionalEmbedding: sizes must be non-negative, got maxLength \(maxLength), width \(width)")
        self.maxLength = maxLength
        self.width = width
        weight = Parameter(Tensor.randomNormal([maxLength, width], using: &generator))
    }

    public var localParameters: [(key: String, parameter: Parameter)] { [("weight", weight)] }

    /// The vectors of `positions`, (T, D).
    ///
    /// - Throws: `SequentError` when a position is at or past `maxLength`.
    public func callAsFunction(positions: Range<Int>) throws(SequentError) -> Tensor {
        guard positions.lowerBound >= 0, positions.upperBound <= maxLength else {
            throw .invalidArgument("LearnedPositionalEmbedding", "positions \(positions) exceed the \(maxLength) learned positions (0..<\(maxLength))")
        }
        return weight.value.slice(alongAxis: 0, positions)
    }
}
