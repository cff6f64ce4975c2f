import SequentTensor

/// Token-by-token inference through a stack of unidirectional recurrent layers with carried
/// state, for one sequence at a time (text generation, streaming).
///
/// The weights are copied once into a layout for matrix-vector products; a step allocates
/// nothing and records nothing on the tape (the kernel: `RecurrentStackStepKernel`).
/// Changing the layers' parameters afterwards does not affect a stepper; make a new one.
/// `RecurrentLayer.stepper(...)` makes one for a layer's weights.
///
/// Shapes: L = layers, H = hiddenSize, In = input width of the first layer, V = head outputs.
public final class RecurrentStepper {
    /// The cell type of every layer.
    public let cell: RecurrentCellType
    /// H.
    public let hiddenSize: Int
    /// In.
    public let inputSize: Int
    /// How the weight matrices are stored.
    public let weightPrecision: WeightPrecision
    private let kernel: RecurrentStackStepKernel

    /// Prepares a stepper for `layers` (one entry per layer, forward direction only).
    ///
    /// - Parameters:
    ///   - embedding: optional (V', In) embedding matrix: then `step(token:)` looks up the
    ///     first layer's input projection, computed once here for every token.
    ///   - head: optional output layer, weight (V, H) and bias (V), for `logits(into:)`.
    ///   - weightPrecision: `.bfloat16` halves the bytes read per step (the recurrent and head
    ///     matrices; the token table stays Float), for models whose weights outgrow the caches.
    public init(
        cell: RecurrentCellType, inputSize: Int, hiddenSize: Int, layers: [RecurrentWeights<Tensor>],
        embedding: Tensor? = nil, head: (weight: Tensor, bias: Tensor?)? = nil, weightPrecision: WeightPrecision = .float32
    ) throws {
        let op = "RecurrentStepper"
        guard !layers.isEmpty else { throw SequentError.invalidArgument(op, "no layers given") }
        guard inputSize > 0, hiddenSize > 0 else {
            throw SequentError.invalidArgument(op, "input size and hidden size must be positive, got \(inputSize) and \(hiddenSize)")
        }
        for (index, layer) in layers.enumerated() {
            try layer.validate(cell: cell, inputSize: index == 0 ? inputSize : hiddenSize, hiddenSize: hiddenSize,
                               op: "\(op) layer \(index)")
        }
        if let embedding, embedding.rank != 2 || embedding.shape[1] != inputSize {
            throw SequentError.shapeMismatch(op, "embedding \(embedding.shape) does not fit the first layer's input size \(inputSize)")
        }
        if let head, head.weight.rank != 2 || head.weight.shape[1] != hiddenSize || (head.bias.map { $0.shape != [head.weight.shape[0]] } ?? false) {
            throw SequentError.shapeMismatch(op, "head weight \(head.weight.shape) and bias \(head.bias?.shape ?? []) do not fit hidden size \(hiddenSize)")
        }
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.weightPrecision = weightPrecision
        kernel = RecurrentStackStepKernel(cell: cell, hiddenSize: hiddenSize, inputSize: inputSize,
                                          layers: layers.map(\.detachedValues), embedding: embedding?.detached(),
                                          head: head.map { ($0.weight.detached(), $0.bias?.detached()) },
                                          weightPrecision: weightPrecision)
    }

    /// The number of layers.
    public var layerCount: Int { kernel.layerCount }

    /// The carried state: hidden (L, 1, H) and, for LSTM, cell (L, 1, H).
    public var state: (hidden: Tensor, cell: Tensor?) { kernel.state }

    /// Sets the carried state (zeros when nil).
    public func reset(hidden newHidden: Tensor? = nil, cell newCell: Tensor? = nil) throws {
        let shape = [layerCount, 1, hiddenSize]
        for (name, tensor) in [("hidden", newHidden), ("cell", newCell)] {
            if let tensor, tensor.shape != shape {
                throw SequentError.shapeMismatch("RecurrentStepper", "\(name) state has shape \(tensor.shape), expected \(shape)")
            }
        }
        kernel.reset(hidden: newHidden, cell: newCell)
    }

    /// Advances one step on input x (In) and returns the top layer's new hidden state (H).
    public func step(_ input: Tensor) throws -> Tensor {
        guard input.shape == [inputSize] else {
            throw SequentError.shapeMismatch("RecurrentStepper", "expected an input of shape [\(inputSize)], got \(input.shape)")
        }
        return kernel.step(input)
    }

    /// Advances one step on a token of the embedding given at construction.
    public func step(token: Int) throws {
        guard kernel.tokenCount > 0 else {
            throw SequentError.invalidArgument("RecurrentStepper", "step(token:) needs an embedding given at construction")
        }
        guard token >= 0 && token < kernel.tokenCount else {
            throw SequentError.invalidArgument("RecurrentStepper", "token \(token) is outside the vocabulary 0..<\(kernel.tokenCount)")
        }
        kernel.step(token: token)
    }

    /// The number of outputs of the head (0 without one).
    public var headSize: Int { kernel.headSize }

    /// Writes the head's outputs W h + b for the current top hidden state into `logits`
    /// (resized to V if needed; no allocation when it already has that size). A stepper
    /// made without a head has none to apply: calling this is a programming error.
    public func logits(into logits: inout [Float]) {
        precondition(headSize > 0, "RecurrentStepper.logits(into:): no head was given at construction")
        kernel.logits(into: &logits)
    }
}
