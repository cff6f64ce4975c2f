import SequentNN
import SequentTensor

// The models of the lab's synthetic tasks and speed measurements: a recurrent layer or a
// Transformer encoder between the task's input and a linear head, behind one interface.
//
// B = batch, T = time, In = input width, Out = output width, H = hidden size,
// D = model width, N = encoder layers.

/// A sequence network with a linear head, as the lab's experiments use it.
protocol SequenceModel: Module {
    /// The head applied to every step: x (B, T, In) -> (B, T, Out).
    func everyStep(_ x: Tensor) throws -> Tensor

    /// The head applied to the last step only: x (B, T, In) -> (B, Out).
    func lastStep(_ x: Tensor) throws -> Tensor

    /// `lastStep(x)`, and a function that, after `backward()` from a loss on that output,
    /// gives ||dLoss/dh_t|| for t = 0..<T (the L2 norm over the batch and the width) of the
    /// step representation h_t: the hidden state of a recurrent layer, the input
    /// representation (projection plus position) of a Transformer.
    func lastStepProbingGradients(_ x: Tensor) throws -> (output: Tensor, stepGradientNorms: () -> [Float])
}

/// A recurrent layer with a linear head.
///
///     y, _ = RNN|LSTM|GRU(x)        x (B, T, In) -> y (B, T, H)
///     out = y W^T + b               (B, T, Out), or only the last step (B, Out)
final class RecurrentSequenceModel: SequenceModel {
    let recurrent: RecurrentLayer
    let head: Linear
    var isTraining = true

    /// - Parameter forgetGate: how an LSTM's forget gate starts (ignored by other cells).
    init(cell: RecurrentCellType, inputSize: Int, hiddenSize: Int, outputSize: Int, forgetGate: ForgetGateInitialisation,
         generator: inout RandomGenerator) throws {
        recurrent = try RecurrentLayer(cell: cell, inputSize: inputSize, hiddenSize: hiddenSize, batchFirst: true, generator: &generator)
        head = Linear(inputSize: hiddenSize, outputSize: outputSize, generator: &generator)
        try forgetGate.apply(to: recurrent, generator: &generator)
    }

    var submodules: [(key: String, module: any Module)] { [("rnn", recurrent), ("head", head)] }

    func everyStep(_ x: Tensor) throws -> Tensor {
        head(try recurrent(x).output)
    }

    func lastStep(_ x: Tensor) throws -> Tensor {
        let output = try recurrent(x).output  // (B, T, H)
        return head(output.select(alongAxis: 1, index: output.shape[1] - 1))
    }

    /// h_t is the layer's hidden state at step t; the layer's gradient probe measures it.
    func lastStepProbingGradients(_ x: Tensor) throws -> (output: Tensor, stepGradientNorms: () -> [Float]) {
        let probe = RecurrentGradientProbe()
        recurrent.gradientProbe = probe  // captured by the forward pass, reported to in backward
        defer { recurrent.gradientProbe = nil }
        return (try lastStep(x), { probe.norms[0][0] })
    }
}

/// A causal pre-norm Transformer encoder with an input projection and a linear head,
///
///     h_0 = x W_in^T + b_in + PE(0..<T)        x (B, T, In) -> (B, T, D); PE sinusoidal
///     h_N = encoder(h_0), causal               N pre-norm layers, h heads, GELU, F wide
///     out = head(norm(h_N))                    (B, T, Out), or the last step's (B, Out)
///
/// Step t attends to steps 0...t only, so each output sees what a recurrent layer has read
/// by then; the last step sees the whole sequence. No dropout. The positions are fixed, so
/// the parameter count does not grow with T (see `ModelFamily.parameterCount`).
final class TransformerSequenceModel: SequenceModel {
    let inputProjection: Linear
    let encoder: TransformerEncoder
    let finalNorm: LayerNorm
    let head: Linear
    var isTraining = true
    /// PE(0..<T) by T, computed once per length.
    private var positionsByLength: [Int: Tensor] = [:]

    init(inputSize: Int, dModel: Int, layerCount: Int, headCount: Int, dimFeedforward: Int, outputSize: Int,
         generator: inout RandomGenerator) throws {
        inputProjection = Linear(inputSize: inputSize, outputSize: dModel, generator: &generator)
        let configuration = TransformerLayerConfiguration(
            dModel: dModel, headCount: headCount, dimFeedforward: dimFeedforward, dropout: 0, activation: .gelu,
            batchFirst: true, normFirst: true)
        encoder = try TransformerEncoder(configuration, layerCount: layerCount, generator: &generator)
        finalNorm = LayerNorm(featureCount: dModel)
        head = Linear(inputSize: dModel, outputSize: outputSize, generator: &generator)
    }

    var submodules: [(key: String, module: any Module)] {
        [("input", inputProjection), ("encoder", encoder), ("norm", finalNorm), ("head", head)]
    }

    /// h_0: the projected input plus the sinusoidal positions, (B, T, D).
    func inputRepresentation(_ x: Tensor) -> Tensor {
        let T = x.shape[1]
        let positions = positionsByLength[T] ?? PositionalEncoding.sinusoidal(positions: 0..<T, width: inputProjection.outputSize)
        positionsByLength[T] = positions
        return inputProjection(x) + positions
    }

    /// norm(h_N) from h_0, (B, T, D).
    private func encoded(_ representation: Tensor) throws -> Tensor {
        finalNorm(try encoder(representation, causal: true))
    }

    func everyStep(_ x: Tensor) throws -> Tensor {
        head(try encoded(inputRepresentation(x)))
    }

    func lastStep(_ x: Tensor) throws -> Tensor {
        try lastStep(representation: inputRepresentation(x))
    }

    /// The last step's output from h_0, (B, Out).
    ///
    /// Equal to the last row of `everyStep`, computed without the rows nothing reads: the
    /// layers below the last run on every step (the last layer's keys and values need
    /// them), the last layer on the last query only. Its pre-norm sublayers, written out
    /// (z = h_{N-1} (B, T, D), the layer's norms n1, n2):
    ///
    ///     a = z_{T-1} + attention(query: n1(z)_{T-1}, keys and values: n1(z))    (B, 1, D)
    ///     h_N = a + FFN(n2(a))
    ///
    /// which leaves out (T - 1)/T of the last layer's attention and feed-forward work
    /// (a quarter of a 4-layer encoder's attention, the cost that dominates at long T).
    func lastStep(representation: Tensor) throws -> Tensor {
        let layers = encoder.layers
        var z = representation  // (B, T, D)
        for layer in layers.dropLast() { z = try layer(z, causal: true) }
        let last = layers[layers.count - 1]
        let T = z.shape[1]
        let normed = last.norm1(z)
        let query = normed.slice(alongAxis: 1, (T - 1)..<T)  // (B, 1, D): the last query sees every key
        let attended = z.slice(alongAxis: 1, (T - 1)..<T) + (try last.selfAttention(query: query, key: normed, value: normed).output)
        let feedForward = Tensor.feedForward(
            last.norm2(attended), weight1: last.linear1.weight.value, bias1: last.linear1.bias?.value,
            activation: last.configuration.activation, weight2: last.linear2.weight.value, bias2: last.linear2.bias?.value)
        let y = encoder.norm.map { $0(attended + feedForward) } ?? (attended + feedForward)
        return head(finalNorm(y).select(alongAxis: 1, index: 0))
    }

    /// h_t is the input representation of step t: the gradient reaches it through the
    /// attention of the later steps, not through a chain of T - 1 - t recurrent steps.
    func lastStepProbingGradients(_ x: Tensor) throws -> (output: Tensor, stepGradientNorms: () -> [Float]) {
        let representation = inputRepresentation(x).requiringGrad()  // a leaf that collects dLoss/dh_0
        let output = try lastStep(representation: representation)
        return (output, {
            guard let gradient = representation.grad else { return [] }
            let (B, T, D) = (gradient.shape[0], gradient.shape[1], gradient.shape[2])
            let g = gradient.scalars
            return (0..<T).map { t in
                var sum = 0.0  // in Double: the probe's loss scale makes the squares large
                for b in 0..<B {
                    for d in 0..<D { sum += Double(g[(b * T + t) * D + d]) * Double(g[(b * T + t) * D + d]) }
                }
                return Float(sum.squareRoot())
            }
        })
    }
}
