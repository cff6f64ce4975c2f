import SequentTensor

/// The sizes of a `NeuralTuringMachine`.
public struct NeuralTuringMachineConfiguration: Codable, Equatable, Sendable {
    /// X: the width of each input vector.
    public var inputSize: Int
    /// Y: the width of each output vector (logits).
    public var outputSize: Int
    /// H: the LSTM controller's hidden size.
    public var controllerSize: Int
    /// N: memory slots.
    public var memorySlots: Int
    /// W: the width of each slot.
    public var memoryWidth: Int
    /// Read heads (the write head is always one).
    public var readHeads: Int
    /// R: each head shifts its focus by -R...R slots.
    public var shiftRange: Int
    /// Every memory cell's value at the start of a sequence (Collier and Beel 2018 found a
    /// small constant trains more reliably than learned or random memory).
    public var initialMemoryValue: Float
    /// The controller's forget-gate bias (b_ih's f block; b_hh's set to 0); nil keeps
    /// PyTorch's U(-1/sqrt(H), 1/sqrt(H)).
    public var controllerForgetBias: Float?
    /// Learn the read vectors and weightings at t = 0 (r_0 = tanh(b_r), w_0 = softmax(b_w),
    /// one bias per head); false starts every weighting on slot 0 and every read at zeros.
    public var learnsInitialState: Bool
    /// The heads' raw parameters and the output logits are clipped to [-c, c]; nil: no clip.
    public var clipValue: Float?

    /// The sizes; defaults are the paper's copy machine (100-unit LSTM, 128 x 20 memory), with
    /// a fixed start, PyTorch's controller initialisation and no clipping
    /// (`withCollierBeelRecipe()` gives the reliable recipe).
    public init(inputSize: Int, outputSize: Int, controllerSize: Int = 100, memorySlots: Int = 128, memoryWidth: Int = 20,
                readHeads: Int = 1, shiftRange: Int = 1, initialMemoryValue: Float = 1e-6,
                controllerForgetBias: Float? = nil, learnsInitialState: Bool = false, clipValue: Float? = nil) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.controllerSize = controllerSize
        self.memorySlots = memorySlots
        self.memoryWidth = memoryWidth
        self.readHeads = readHeads
        self.shiftRange = shiftRange
        self.initialMemoryValue = initialMemoryValue
        self.controllerForgetBias = controllerForgetBias
        self.learnsInitialState = learnsInitialState
        self.clipValue = clipValue
    }

    /// Reads a configuration; one saved before the recipe's fields existed gets the fixed
    /// start, PyTorch's controller initialisation and no clipping.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        inputSize = try container.decode(Int.self, forKey: .inputSize)
        outputSize = try container.decode(Int.self, forKey: .outputSize)
        controllerSize = try container.decode(Int.self, forKey: .controllerSize)
        memorySlots = try container.decode(Int.self, forKey: .memorySlots)
        memoryWidth = try container.decode(Int.self, forKey: .memoryWidth)
        readHeads = try container.decode(Int.self, forKey: .readHeads)
        shiftRange = try container.decode(Int.self, forKey: .shiftRange)
        initialMemoryValue = try container.decode(Float.self, forKey: .initialMemoryValue)
        controllerForgetBias = try container.decodeIfPresent(Float.self, forKey: .controllerForgetBias)
        learnsInitialState = try container.decodeIfPresent(Bool.self, forKey: .learnsInitialState) ?? false
        clipValue = try container.decodeIfPresent(Float.self, forKey: .clipValue)
    }

    /// This machine trained as Collier and Beel (2018, "Implementing Neural Turing Machines")
    /// found reliable: memory initialised to the constant 1e-6, learned initial read vectors
    /// and weightings, controller forget-gate bias 1, heads' parameters and outputs clipped
    /// to [-20, 20] (their code's `clip_value`).
    public func withCollierBeelRecipe() -> NeuralTuringMachineConfiguration {
        var recipe = self
        recipe.initialMemoryValue = 1e-6
        recipe.controllerForgetBias = 1
        recipe.learnsInitialState = true
        recipe.clipValue = 20
        return recipe
    }

    /// Checks every size.
    ///
    /// - Throws: `SequentError.invalidArgument` naming the first size that cannot work (zero
    ///   memory slots, a shift range as wide as the memory, ...).
    public func validate() throws(SequentError) {
        func positive(_ value: Int, _ name: String) throws(SequentError) {
            guard value >= 1 else { throw .invalidArgument("NeuralTuringMachine", "\(name) must be at least 1, got \(value)") }
        }
        try positive(inputSize, "the input size")
        try positive(outputSize, "the output size")
        try positive(controllerSize, "the controller size")
        try positive(memorySlots, "the number of memory slots")
        try positive(memoryWidth, "the memory width")
        try positive(readHeads, "the number of read heads")
        guard shiftRange >= 0, 2 * shiftRange + 1 <= memorySlots else {
            throw .invalidArgument("NeuralTuringMachine", "the shift range \(shiftRange) (shifts -\(shiftRange)...\(shiftRange)) is wider than the memory of \(memorySlots) slots; use at most \((memorySlots - 1) / 2)")
        }
        guard initialMemoryValue.isFinite else {
            throw .invalidArgument("NeuralTuringMachine", "the initial memory value must be finite, got \(initialMemoryValue)")
        }
        guard controllerForgetBias?.isFinite ?? true else {
            throw .invalidArgument("NeuralTuringMachine", "the controller's forget-gate bias must be finite, got \(controllerForgetBias ?? 0)")
        }
        if let clipValue, !(clipValue > 0 && clipValue.isFinite) {
            throw .invalidArgument("NeuralTuringMachine", "the clip value must be positive and finite, got \(clipValue)")
        }
    }
}

/// A Neural Turing Machine (Graves, Wayne and Danihelka 2014): an LSTM controller with read
/// heads and one write head on an N x W memory. Per step t, with x_t (B, X):
///
///     (h_t, c_t) = LSTM([x_t, r_{t-1}^1 ... r_{t-1}^R], (h_{t-1}, c_{t-1}))
///     each read head:  w_t = address(M_{t-1}, heads(h_t), w_{t-1}),  r_t = w_t^T M_{t-1}
///     the write head:  w_t = address(M_{t-1}, ...),  e = sigmoid(.), a = tanh(.)
///                      M_t = M_{t-1} (1 - w_t e^T) + w_t a^T
///     y_t = output([h_t, r_t^1 ... r_t^R])   (logits)
///
/// `address` is `Tensor.memoryAddressing` (content, interpolation, shift, sharpening, fused).
/// At t = 0 the memory holds `initialMemoryValue` everywhere and the controller state is
/// zeros; every weighting is on slot 0 and the read vectors are zeros, or, with
/// `learnsInitialState`, w_0 = softmax(b_w) and r_0 = tanh(b_r) from learned biases. With
/// `clipValue` c, the heads' raw parameters and y_t are clipped to [-c, c].
///
/// Keys: `controller.weight_ih` ... (an `LSTMCell`), `heads.weight`, `heads.bias` (one
/// linear map to all heads' raw parameters: each read head's P = W + 3 + 2R + 1, then the
/// write head's P + 2W for erase and add), `output.weight`, `output.bias`; with
/// `learnsInitialState`, `initial_weightings` (R + 1, N: the read heads', then the write
/// head's) and `initial_reads` (R, W).
public final class NeuralTuringMachine: Module {
    public let configuration: NeuralTuringMachineConfiguration
    public let controller: LSTMCell
    public let heads: Linear
    public let output: Linear
    /// b_w, (R + 1, N), when the machine learns its initial state.
    public let initialWeightings: Parameter?
    /// b_r, (R, W), when the machine learns its initial state.
    public let initialReads: Parameter?
    public var isTraining = true

    public var localParameters: [(key: String, parameter: Parameter)] {
        [("initial_weightings", initialWeightings), ("initial_reads", initialReads)].compactMap { key, parameter in
            parameter.map { (key: key, parameter: $0) }
        }
    }

    public var submodules: [(key: String, module: any Module)] {
        [("controller", controller), ("heads", heads), ("output", output)]
    }

    /// The state between steps.
    public struct State {
        public var hidden: Tensor, cell: Tensor
        /// M, (B, N, W).
        public var memory: Tensor
        /// One (B, N) per read head.
        public var readWeightings: [Tensor]
        /// (B, N).
        public var writeWeighting: Tensor
        /// One (B, W) per read head.
        public var reads: [Tensor]
    }

    /// What the heads looked at on each step, for pictures; filled by a run given one.
    public final class Trace {
        /// [head][step]: that step's (B, N) weighting, row-major.
        public var readWeightings: [[[Float]]] = []
        /// [step]: the write head's (B, N) weighting.
        public var writeWeightings: [[Float]] = []
        public init() {}
    }

    /// A machine with PyTorch-style initial weights drawn from `generator`.
    ///
    /// - Throws: `SequentError` for sizes that cannot work (`configuration.validate()`).
    public init(configuration: NeuralTuringMachineConfiguration, generator: inout RandomGenerator) throws(SequentError) {
        try configuration.validate()
        self.configuration = configuration
        let c = configuration
        do {
            controller = try LSTMCell(inputSize: c.inputSize + c.readHeads * c.memoryWidth, hiddenSize: c.controllerSize, generator: &generator)
        } catch let error as SequentError { throw error } catch { throw .invalidArgument("NeuralTuringMachine", "\(error)") }
        let P = Tensor.memoryAddressingParameterCount(width: c.memoryWidth, shiftRange: c.shiftRange)
        heads = Linear(inputSize: c.controllerSize, outputSize: c.readHeads * P + P + 2 * c.memoryWidth,
                       generator: &generator)
        output = Linear(inputSize: c.controllerSize + c.readHeads * c.memoryWidth, outputSize: c.outputSize, generator: &generator)
        if let forgetBias = c.controllerForgetBias, let inputBias = controller.weights.inputBias,
           let recurrentBias = controller.weights.recurrentBias {
            let H = c.controllerSize  // gates i, f, g, o: the f block is H..<2H
            inputBias.update { for j in H..<(2 * H) { $0[j] = forgetBias } }
            recurrentBias.update { for j in H..<(2 * H) { $0[j] = 0 } }
        }
        if c.learnsInitialState {
            // As Collier and Beel's learned_init: a Glorot-uniform row, U(-sqrt(6 / (1 + n)), sqrt(6 / (1 + n))).
            func learned(_ rows: Int, _ n: Int) -> Parameter {
                let bound = Float(6.0 / Double(1 + n)).squareRoot()
                return Parameter(Tensor.randomUniform([rows, n], lower: -bound, upper: bound, using: &generator))
            }
            initialWeightings = learned(c.readHeads + 1, c.memorySlots)
            initialReads = learned(c.readHeads, c.memoryWidth)
        } else {
            (initialWeightings, initialReads) = (nil, nil)
        }
    }

    /// P: the raw parameters of one head's addressing.
    public var headParameterCount: Int {
        Tensor.memoryAddressingParameterCount(width: configuration.memoryWidth, shiftRange: configuration.shiftRange)
    }

    /// The state at t = 0 for `batchSize` sequences.
    public func initialState(batchSize B: Int) -> State {
        let c = configuration
        let memory = Tensor.full([B, c.memorySlots, c.memoryWidth], value: c.initialMemoryValue)
        let (hidden, cell) = (Tensor.zeros([B, c.controllerSize]), Tensor.zeros([B, c.controllerSize]))
        if let initialWeightings, let initialReads {
            let weightings = initialWeightings.value.softmax(alongAxis: 1)  // (R + 1, N)
            let reads = initialReads.value.tanh()  // (R, W)
            func row(_ table: Tensor, _ index: Int, _ width: Int) -> Tensor {
                table.select(alongAxis: 0, index: index).unsqueezed(at: 0).expanded(to: [B, width])
            }
            return State(hidden: hidden, cell: cell, memory: memory,
                         readWeightings: (0..<c.readHeads).map { row(weightings, $0, c.memorySlots) },
                         writeWeighting: row(weightings, c.readHeads, c.memorySlots),
                         reads: (0..<c.readHeads).map { row(reads, $0, c.memoryWidth) })
        }
        var focus = [Float](repeating: 0, count: B * c.memorySlots)
        for b in 0..<B { focus[b * c.memorySlots] = 1 }
        let weighting = Tensor(shape: [B, c.memorySlots], scalars: focus)
        return State(
            hidden: hidden, cell: cell, memory: memory,
            readWeightings: Array(repeating: weighting, count: c.readHeads), writeWeighting: weighting,
            reads: Array(repeating: Tensor.zeros([B, c.memoryWidth]), count: c.readHeads))
    }

    /// One step: x is (B, X); returns the logits (B, Y) and the next state.
    public func step(_ x: Tensor, _ state: State) throws(SequentError) -> (logits: Tensor, state: State) {
        let c = configuration
        guard x.rank == 2, x.shape[1] == c.inputSize, x.shape[0] == state.hidden.shape[0] else {
            throw .shapeMismatch("NeuralTuringMachine", "input must be (B, \(c.inputSize)) with B = \(state.hidden.shape[0]), got \(x.shape)")
        }
        let (P, W) = (headParameterCount, c.memoryWidth)
        let controllerInput = Tensor.concatenate([x] + state.reads, alongAxis: 1)
        let hc: (h: Tensor, c: Tensor)
        do { hc = try controller(controllerInput, (state.hidden, state.cell)) } catch let error as SequentError { throw error } catch {
            throw .invalidArgument("NeuralTuringMachine", "\(error)")
        }
        let raw = c.clipValue.map { heads(hc.h).clamped(min: -$0, max: $0) } ?? heads(hc.h)
        var next = state
        (next.hidden, next.cell) = hc
        for head in 0..<c.readHeads {
            let weighting = Tensor.memoryAddressing(
                memory: state.memory, parameters: raw.slice(alongAxis: 1, (head * P)..<((head + 1) * P)),
                previous: state.readWeightings[head], shiftRange: c.shiftRange)
            next.readWeightings[head] = weighting
            next.reads[head] = Tensor.memoryRead(memory: state.memory, weighting: weighting)
        }
        let writeStart = c.readHeads * P
        let writeWeighting = Tensor.memoryAddressing(
            memory: state.memory, parameters: raw.slice(alongAxis: 1, writeStart..<(writeStart + P)),
            previous: state.writeWeighting, shiftRange: c.shiftRange)
        let erase = raw.slice(alongAxis: 1, (writeStart + P)..<(writeStart + P + W)).sigmoid()
        let add = raw.slice(alongAxis: 1, (writeStart + P + W)..<(writeStart + P + 2 * W)).tanh()
        next.writeWeighting = writeWeighting
        next.memory = Tensor.memoryWrite(memory: state.memory, weighting: writeWeighting, erase: erase, add: add)
        let outputs = output(Tensor.concatenate([next.hidden] + next.reads, alongAxis: 1))
        let logits = c.clipValue.map { outputs.clamped(min: -$0, max: $0) } ?? outputs
        return (logits, next)
    }

    /// Runs the machine over a sequence: `inputs` is (T, B, X); returns the logits (T, B, Y)
    /// and, if `trace` is given, fills it with every step's weightings.
    public func callAsFunction(_ inputs: Tensor, trace: Trace? = nil) throws(SequentError) -> Tensor {
        guard inputs.rank == 3, inputs.shape[2] == configuration.inputSize, inputs.shape[0] >= 1 else {
            throw .shapeMismatch("NeuralTuringMachine", "inputs must be (T, B, \(configuration.inputSize)) with T >= 1, got \(inputs.shape)")
        }
        var state = initialState(batchSize: inputs.shape[1])
        var outputs: [Tensor] = []
        outputs.reserveCapacity(inputs.shape[0])
        if let trace { trace.readWeightings = Array(repeating: [], count: configuration.readHeads) }
        for t in 0..<inputs.shape[0] {
            let (logits, next) = try step(inputs.select(alongAxis: 0, index: t), state)
            outputs.append(logits)
            state = next
            if let trace {
                for head in 0..<configuration.readHeads { trace.readWeightings[head].append(state.readWeightings[head].scalars) }
                trace.writeWeightings.append(state.writeWeighting.scalars)
            }
        }
        return Tensor.stack(outputs, alongAxis: 0)
    }
}
