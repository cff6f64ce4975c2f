import SequentTensor

/// A CTC acoustic model: a stacked, optionally bidirectional LSTM or GRU over feature frames
/// (already stacked by `FrameStacking` when the sequence is shortened), dropout, and a linear
/// layer to the log-probabilities of the blank and every output unit at every step
/// (Graves et al. 2006; Graves & Jaitly 2014).
///
///     h, state = LSTM|GRU(x, lengths)          x (T, B, In), h (T, B, D*H), zero past each length
///     log p = logSoftmax(head(drop(h)))        (T, B, C), C = units + 1 (blank = 0)
///
/// Keys: `rnn.weight_ih_l0[_reverse]`, ..., `head.weight`, `head.bias` (PyTorch's names).
public final class AcousticModel: Module {
    public let recurrent: RecurrentLayer
    public let head: Linear
    public let dropout: Dropout?
    public var isTraining = true

    /// C: the blank and the output units.
    public var classCount: Int { head.outputSize }
    /// In: the width of one (stacked) feature frame.
    public var inputSize: Int { recurrent.inputSize }

    /// - Throws: `SequentError.invalidArgument` for sizes that do not fit.
    public init(
        cell: RecurrentCellType, bidirectional: Bool, inputSize: Int, hiddenSize: Int, layerCount: Int,
        classCount: Int, dropout: Float, generator: inout RandomGenerator
    ) throws {
        guard classCount >= 2 else {
            throw SequentError.invalidArgument("AcousticModel", "needs the blank and at least one unit, got \(classCount) classes")
        }
        recurrent = try RecurrentLayer(
            cell: cell, inputSize: inputSize, hiddenSize: hiddenSize, layerCount: layerCount, batchFirst: false,
            dropout: layerCount > 1 ? dropout : 0, bidirectional: bidirectional, generator: &generator)
        head = Linear(inputSize: hiddenSize * (bidirectional ? 2 : 1), outputSize: classCount, generator: &generator)
        self.dropout = dropout > 0 ? try Dropout(probability: dropout, generator: &generator) : nil
    }

    public var submodules: [(key: String, module: any Module)] {
        var list: [(key: String, module: any Module)] = [("rnn", recurrent), ("head", head)]
        if let dropout { list.append(("drop", dropout)) }
        return list
    }

    /// The log-probabilities of a padded batch.
    ///
    /// - Parameters:
    ///   - input: (T, B, In) frames; steps past a sequence's length are never read.
    ///   - lengths: each sequence's frame count, in 1...T.
    /// - Returns: (T, B, C) log-probabilities (rows past a length are those of a zero output).
    public func callAsFunction(_ input: Tensor, lengths: [Int]) throws -> Tensor {
        let (output, _) = try recurrent(input, lengths: lengths)
        let dropped = dropout.map { $0(output) } ?? output
        return head(dropped).logSoftmax(alongAxis: 2)
    }

    /// One piece of a stream through a unidirectional model: the log-probabilities of the
    /// new frames and the state to carry into the next piece (nothing is recomputed).
    ///
    /// - Parameters:
    ///   - input: (t, 1, In), t >= 1.
    ///   - state: the state the previous piece returned (nil: the start).
    /// - Throws: `SequentError.invalidArgument` for a bidirectional model, whose backward
    ///   direction needs the whole utterance.
    public func stream(_ input: Tensor, state: RecurrentState?) throws -> (logProbabilities: Tensor, state: RecurrentState) {
        guard !recurrent.bidirectional else {
            throw SequentError.invalidArgument("AcousticModel.stream", "a bidirectional model reads the whole utterance; stream with a unidirectional (lstm or gru) model")
        }
        let (output, next) = try recurrent(input, state: state)
        return (head(output).logSoftmax(alongAxis: 2), next)
    }
}
