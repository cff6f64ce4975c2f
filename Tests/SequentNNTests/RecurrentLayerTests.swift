import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Parity with PyTorch (fixtures from Tests/Fixtures/make_recurrent_fixtures.py) and the
/// behaviour of the recurrent layers.
final class RecurrentLayerTests: XCTestCase {
    /// Builds the layer a fixture describes, loads its parameters, runs forward and backward
    /// of the fixture's loss, and compares everything with PyTorch.
    private func checkParity(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let f = try Fixtures.load("recurrent/\(name)")
        let parts = name.split(separator: "_").map(String.init)
        let relu = parts[1] == "relu"
        let rest = relu ? Array(parts.dropFirst(2)) : Array(parts.dropFirst(1))
        let layers = Int(rest[0].dropFirst())!
        let bidirectional = rest[1] == "bi"
        let variable = rest[2] == "var"
        let batchFirst = rest[3] == "bf"
        var generator = RandomGenerator(seed: 1)
        let (inputSize, hiddenSize) = (f["input"]!.shape[2], f["h0"]!.shape[2])
        let layer: RecurrentLayer
        switch parts[0] {
        case "rnn":
            layer = try RNN(inputSize: inputSize, hiddenSize: hiddenSize, layerCount: layers, nonlinearity: relu ? .relu : .tanh,
                            batchFirst: batchFirst, bidirectional: bidirectional, generator: &generator)
        case "lstm":
            layer = try LSTM(inputSize: inputSize, hiddenSize: hiddenSize, layerCount: layers, batchFirst: batchFirst,
                             bidirectional: bidirectional, generator: &generator)
        default:
            layer = try GRU(inputSize: inputSize, hiddenSize: hiddenSize, layerCount: layers, batchFirst: batchFirst,
                            bidirectional: bidirectional, generator: &generator)
        }
        var state: [String: Tensor] = [:]
        for (key, value) in f where key.hasPrefix("param.") { state[String(key.dropFirst(6))] = value }
        try layer.loadStateDictionary(state)

        let input = f["input"]!.requiringGrad()
        let h0 = f["h0"]!.requiringGrad()
        let c0 = f["c0"]?.requiringGrad()
        let lengths = variable ? f["lengths"]!.scalars.map { Int($0) } : nil
        let (output, final) = try layer(input, state: RecurrentState(hidden: h0, cell: c0), lengths: lengths)
        assertClose(output, f["output"]!, relative: 1e-4, absolute: 1e-5, "\(name) output", file: file, line: line)
        assertClose(final.hidden, f["h_n"]!, relative: 1e-4, absolute: 1e-5, "\(name) h_n", file: file, line: line)
        var loss = (output * f["w_out"]!).sum() + (final.hidden * f["w_h"]!).sum()
        if let cell = final.cell {
            assertClose(cell, f["c_n"]!, relative: 1e-4, absolute: 1e-5, "\(name) c_n", file: file, line: line)
            loss = loss + (cell * f["w_c"]!).sum()
        }
        loss.backward()
        assertClose(input.grad!, f["grad.input"]!, relative: 1e-4, absolute: 1e-5, "\(name) grad input", file: file, line: line)
        assertClose(h0.grad!, f["grad.h0"]!, relative: 1e-4, absolute: 1e-5, "\(name) grad h0", file: file, line: line)
        if let c0 { assertClose(c0.grad!, f["grad.c0"]!, relative: 1e-4, absolute: 1e-5, "\(name) grad c0", file: file, line: line) }
        for (key, parameter) in layer.namedParameters() {
            assertClose(parameter.grad!, f["grad.\(key)"]!, relative: 1e-4, absolute: 1e-5, "\(name) grad \(key)", file: file, line: line)
        }
    }

    func testPyTorchParityForEveryConfiguration() throws {
        for cell in ["rnn", "lstm", "gru"] {
            for layers in [1, 2] {
                for direction in ["uni", "bi"] {
                    for lengths in ["full", "var"] {
                        try checkParity("\(cell)_l\(layers)_\(direction)_\(lengths)_\(layers == 1 ? "bf" : "tf")")
                    }
                }
            }
        }
        try checkParity("rnn_relu_l2_bi_var_bf")
    }
}

extension RecurrentLayerTests {
    /// The fused op's gradients against central differences, for each cell, with variable
    /// lengths, two directions and a hidden size that is not a multiple of the vector width.
    func testFusedLayerGradientsMatchFiniteDifferences() throws {
        checkLayerGradients(first: randomTensor([2, 3, 3], seed: 1), inputSize: 3) { x, cell, weights, h0, c0 in
            try! Tensor.recurrentLayer(x, cell: cell, hiddenSize: 5, weights: weights, initialHidden: h0, initialCell: c0, batchFirst: true, lengths: [3, 2])
        }
    }

    /// Checks a two-direction layer op's gradients against central differences, for each
    /// cell: with respect to `first` (its input, In = `inputSize` wide, or an embedding of
    /// that width), both directions' weights (H = 5) and the initial state (B = 2); `run`
    /// maps them to the op's result.
    private func checkLayerGradients(
        first: Tensor, inputSize: Int, file: StaticString = #filePath, line: UInt = #line,
        _ run: (_ first: Tensor, _ cell: RecurrentCellType, _ weights: [RecurrentWeights<Tensor>], _ h0: Tensor, _ c0: Tensor?) -> RecurrentLayerResult
    ) {
        for cell in [RecurrentCellType.rnn(.tanh), .lstm, .gru] {
            let (B, H) = (2, 5)
            let gates = cell.gateCount * H
            var inputs = [first]
            for d in 0..<2 {
                inputs += [randomTensor([gates, inputSize], lower: -0.5, upper: 0.5, seed: 10 + UInt64(d)),
                           randomTensor([gates, H], lower: -0.5, upper: 0.5, seed: 20 + UInt64(d)),
                           randomTensor([gates], seed: 30 + UInt64(d)), randomTensor([gates], seed: 40 + UInt64(d))]
            }
            inputs.append(randomTensor([2, B, H], seed: 50))
            if cell.hasCellState { inputs.append(randomTensor([2, B, H], seed: 60)) }
            checkGradient(inputs, epsilon: 1e-2, tolerance: 1e-2, file: file, line: line) { t in
                let weights = (0..<2).map { (d: Int) -> RecurrentWeights<Tensor> in
                    RecurrentWeights(inputWeight: t[1 + 4 * d], recurrentWeight: t[2 + 4 * d],
                                     inputBias: t[3 + 4 * d], recurrentBias: t[4 + 4 * d])
                }
                let result = run(t[0], cell, weights, t[9], cell.hasCellState ? t[10] : nil)
                var parts = [result.output.reshaped(to: [-1]), result.finalHidden.reshaped(to: [-1])]
                if let c = result.finalCell { parts.append(c.reshaped(to: [-1])) }
                return Tensor.concatenate(parts, alongAxis: 0)
            }
        }
    }

    /// Outputs past each sequence's end are zero, and a sequence's results do not depend on
    /// what padding follows it.
    func testVariableLengthsIgnorePadding() throws {
        var generator = RandomGenerator(seed: 2)
        let lstm = try LSTM(inputSize: 3, hiddenSize: 4, bidirectional: true, generator: &generator)
        let x = randomTensor([6, 2, 3], seed: 3)  // (T, B, In)
        let (output, state) = try lstm(x, lengths: [6, 3])
        XCTAssertTrue(output.slice(alongAxis: 0, 3..<6).select(alongAxis: 1, index: 1).scalars.allSatisfy { $0 == 0 })
        // The short sequence alone, without padding, gives the same outputs and final state.
        let short = x.slice(alongAxis: 0, 0..<3).slice(alongAxis: 1, 1..<2)
        let (alone, aloneState) = try lstm(short)
        assertClose(output.slice(alongAxis: 0, 0..<3).slice(alongAxis: 1, 1..<2), alone, relative: 1e-5, absolute: 1e-6)
        assertClose(state.hidden.slice(alongAxis: 1, 1..<2), aloneState.hidden, relative: 1e-5, absolute: 1e-6)
        assertClose(state.cell!.slice(alongAxis: 1, 1..<2), aloneState.cell!, relative: 1e-5, absolute: 1e-6)
    }

    /// With 16 or more batch entries per thread each thread runs its own entries through all
    /// steps: every cell type, both layouts, both directions and variable lengths give the
    /// results of one thread, which shares each step out instead.
    func testBatchSplitBetweenThreadsMatchesOneThread() throws {
        var generator = RandomGenerator(seed: 8)
        let lengths = (0..<40).map { 1 + $0 % 5 }
        for batchFirst in [false, true] {
            let layers: [RecurrentLayer] = [
                try RNN(inputSize: 3, hiddenSize: 20, batchFirst: batchFirst, bidirectional: true, generator: &generator),
                try LSTM(inputSize: 3, hiddenSize: 20, batchFirst: batchFirst, bidirectional: true, generator: &generator),
                try GRU(inputSize: 3, hiddenSize: 20, batchFirst: batchFirst, bidirectional: true, generator: &generator),
            ]
            let x = randomTensor(batchFirst ? [40, 5, 3] : [5, 40, 3], seed: 9)
            // Also at bfloat16, where each thread's step runs on its own packed product.
            for (layer, precision) in layers.flatMap({ layer in MatmulPrecision.allCases.map { (layer, $0) } }) {
                let (split, splitState) = try GEMM.withPrecision(precision) { try Parallelism.withThreads(2) { try layer(x, lengths: lengths) } }
                let (shared, sharedState) = try GEMM.withPrecision(precision) { try Parallelism.withThreads(1) { try layer(x, lengths: lengths) } }
                let context = "\(type(of: layer)) batchFirst \(batchFirst) \(precision)"
                assertClose(split, shared, relative: 1e-5, absolute: 1e-6, context)
                assertClose(splitState.hidden, sharedState.hidden, relative: 1e-5, absolute: 1e-6, context)
                if let cell = splitState.cell { assertClose(cell, sharedState.cell!, relative: 1e-5, absolute: 1e-6, context) }
            }
        }
    }

    /// Truncated backpropagation through time: two halves with the state carried (detached)
    /// give the same outputs as one pass, and no gradient crosses the boundary.
    func testCarriedStateContinuesTheSequence() throws {
        var generator = RandomGenerator(seed: 5)
        let gru = try GRU(inputSize: 3, hiddenSize: 4, layerCount: 2, batchFirst: true, generator: &generator)
        let x = randomTensor([2, 8, 3], seed: 6)
        let (whole, _) = try gru(x)
        let (first, carried) = try gru(x.slice(alongAxis: 1, 0..<4))
        let (second, _) = try gru(x.slice(alongAxis: 1, 4..<8), state: carried.detached())
        assertClose(Tensor.concatenate([first, second], alongAxis: 1), whole, relative: 1e-5, absolute: 1e-6)
        XCTAssertFalse(carried.detached().hidden.requiresGrad)
        second.sum().backward()
        // Only the second half's gradient reached the weights; the first half's graph is untouched.
        XCTAssertNotNil(gru.parameters()[0].grad)
    }

    /// The probe reports one gradient norm per step, per layer and direction, and the
    /// gradient of a loss on the last step only shrinks going back in a tanh RNN.
    func testGradientProbeReportsEveryStep() throws {
        var generator = RandomGenerator(seed: 7)
        let rnn = try RNN(inputSize: 2, hiddenSize: 8, layerCount: 2, bidirectional: true, generator: &generator)
        let probe = RecurrentGradientProbe()
        rnn.gradientProbe = probe
        let (output, _) = try rnn(randomTensor([30, 1, 2], seed: 8))
        output.select(alongAxis: 0, index: 29).sum().backward()
        XCTAssertEqual(probe.norms.count, 2)
        XCTAssertEqual(probe.norms[0].count, 2)
        XCTAssertEqual(probe.norms[1][0].count, 30)
        let forward = probe.norms[1][0]
        XCTAssertGreaterThan(forward[29], forward[0] * 10, "gradient at the last step should dwarf the first: \(forward)")
    }

    /// Dropout between layers: same seed, same results; eval mode turns it off.
    func testDropoutIsSeededAndOffInEvaluation() throws {
        func run(seed: UInt64, training: Bool) throws -> Tensor {
            var generator = RandomGenerator(seed: seed)
            let lstm = try LSTM(inputSize: 3, hiddenSize: 16, layerCount: 3, dropout: 0.5, generator: &generator)
            lstm.setTraining(training)
            return try lstm(randomTensor([5, 2, 3], seed: 1)).output
        }
        XCTAssertEqual(try run(seed: 1, training: true).scalars, try run(seed: 1, training: true).scalars)
        XCTAssertNotEqual(try run(seed: 1, training: true).scalars, try run(seed: 1, training: false).scalars)
        XCTAssertEqual(try run(seed: 1, training: false).scalars, try run(seed: 1, training: false).scalars)
    }

    func testParameterNamesFollowPyTorch() throws {
        var generator = RandomGenerator(seed: 1)
        let gru = try GRU(inputSize: 3, hiddenSize: 4, layerCount: 2, bidirectional: true, generator: &generator)
        XCTAssertEqual(gru.namedParameters().map(\.key), [
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
            "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
            "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
            "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse",
        ])
        XCTAssertEqual(gru.namedParameters()[8].parameter.shape, [12, 8])
        let bound = 1 / Float(4).squareRoot()
        XCTAssertTrue(gru.parameters().allSatisfy { $0.value.scalars.allSatisfy { abs($0) <= bound } })
    }

    func testBadInputGetsAClearError() throws {
        var generator = RandomGenerator(seed: 1)
        let lstm = try LSTM(inputSize: 3, hiddenSize: 4, layerCount: 2, batchFirst: true, generator: &generator)
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message { _ = try lstm(Tensor.zeros([2, 5, 7])) },
                       "LSTM: expected input width 3 in (B, T, 3), got shape [2, 5, 7]")
        XCTAssertEqual(message { _ = try lstm(Tensor.zeros([2, 5])) },
                       "LSTM: expected input of shape (B, T, 3), got a 2-D tensor of shape [2, 5]")
        XCTAssertEqual(message { _ = try lstm(Tensor.zeros([2, 5, 3]), state: RecurrentState(hidden: Tensor.zeros([2, 2, 4]), cell: Tensor.zeros([1, 2, 4]))) },
                       "LSTM: expected cell state of shape [2, 2, 4], got [1, 2, 4]")
        XCTAssertEqual(message { _ = try lstm(Tensor.zeros([2, 5, 3]), lengths: [5, 0]) },
                       "LSTM: sequence length 0 must be in 1...5 (the input has 5 steps)")
        XCTAssertEqual(message { _ = try lstm(Tensor.zeros([2, 5, 3]), lengths: [6, 1]) },
                       "LSTM: sequence length 6 must be in 1...5 (the input has 5 steps)")
        XCTAssertEqual(message { _ = try lstm(Tensor.zeros([2, 5, 3]), lengths: [5]) },
                       "LSTM: expected 2 sequence lengths (one per batch entry), got 1")
        XCTAssertEqual(message { _ = try lstm(Tensor(shape: [1, 1, 3], scalars: [1, .nan, 0])) },
                       "LSTM: the input contains NaN or infinity")
        XCTAssertEqual(message { _ = try LSTM(inputSize: 3, hiddenSize: 4, dropout: 1, generator: &generator) },
                       "LSTM: dropout must be in [0, 1), got 1.0")
    }
}

/// Token input (`callAsFunction(tokens:shape:embedding:)`): the first layer's input
/// projection looked up in E W_ih^T gives what the embedding followed by the layer gives
/// (to Float rounding: the embedding's gradient sums the same terms in another order).
extension RecurrentLayerTests {
    func testTokenInputMatchesEmbeddingThenLayer() throws {
        let (V, E, H, T) = (7, 5, 6, 4)
        for cell in [RecurrentCellType.rnn(.tanh), .lstm, .gru] {
            for (layers, bidirectional, batchFirst, batch) in [(1, false, true, 3), (2, true, false, 3), (2, false, true, 40), (1, true, true, 40)] {
                for variable in [false, true] {
                    var generator = RandomGenerator(seed: 11)
                    let embedding = Embedding(vocabularySize: V, embeddingSize: E, generator: &generator)
                    let layer = try RecurrentLayer(cell: cell, inputSize: E, hiddenSize: H, layerCount: layers, batchFirst: batchFirst,
                                                   bidirectional: bidirectional, generator: &generator)
                    let shape = batchFirst ? [batch, T] : [T, batch]
                    let tokens = (0..<(batch * T)).map { ($0 * 5 + $0 / 3) % V }
                    let lengths = variable ? (0..<batch).map { 1 + $0 % T } : nil
                    let weights = randomTensor(shape + [layer.directionCount * H], seed: 12)
                    func run(_ body: () throws -> (output: Tensor, state: RecurrentState)) throws -> [Tensor] {
                        embedding.zeroGradients()
                        layer.zeroGradients()
                        let (output, state) = try Parallelism.withThreads(2, body)
                        var loss = (output * weights).sum() + state.hidden.sum()
                        if let c = state.cell { loss = loss + (c * c).sum() }
                        loss.backward()
                        return [output, state.hidden] + (state.cell.map { [$0] } ?? [])
                            + [embedding.weight.grad!] + layer.parameters().map { $0.grad! }
                    }
                    let looked = try run { try layer(tokens: tokens, shape: shape, embedding: embedding, lengths: lengths) }
                    let embedded = try run { try layer(embedding(tokens, shape: shape), lengths: lengths) }
                    let context = "\(cell.name) layers \(layers) bidirectional \(bidirectional) batchFirst \(batchFirst) B \(batch) variable \(variable)"
                    XCTAssertEqual(looked.count, embedded.count, context)
                    for (index, (a, b)) in zip(looked, embedded).enumerated() {
                        assertClose(a, b, relative: 1e-4, absolute: 1e-5, "\(context), result \(index)")
                    }
                }
            }
        }
    }

    /// The token op's gradients (embedding, both directions' weights, initial state) against
    /// central differences, with a token repeated and one never used.
    func testTokenInputGradientsMatchFiniteDifferences() throws {
        let tokens = [2, 0, 2, 1, 2, 0]  // (B, T) = (2, 3); token 3 is never used
        checkLayerGradients(first: randomTensor([4, 3], seed: 1), inputSize: 3) { embedding, cell, weights, h0, c0 in
            try! Tensor.recurrentLayer(tokens: tokens, embedding: embedding, batch: 2, time: 3, cell: cell, hiddenSize: 5, weights: weights,
                                  initialHidden: h0, initialCell: c0, batchFirst: true, lengths: [3, 2])
        }
    }

    func testBadTokenInputGetsAClearError() throws {
        var generator = RandomGenerator(seed: 1)
        let gru = try GRU(inputSize: 3, hiddenSize: 4, batchFirst: true, generator: &generator)
        let embedding = Embedding(vocabularySize: 5, embeddingSize: 3, generator: &generator)
        let wide = Embedding(vocabularySize: 5, embeddingSize: 4, generator: &generator)
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message { _ = try gru(tokens: [0, 1, 5, 2], shape: [2, 2], embedding: embedding) },
                       "GRU: token 5 at position 2 is out of range 0..<5")
        XCTAssertEqual(message { _ = try gru(tokens: [0, 1, 2], shape: [2, 2], embedding: embedding) },
                       "GRU: expected tokens in a 2-D shape (B, T), got 3 tokens in shape [2, 2]")
        XCTAssertEqual(message { _ = try gru(tokens: [0, 1, 2, 3], shape: [2, 2], embedding: wide) },
                       "GRU: expected an embedding of size 3 (the input width), got 4")
        XCTAssertEqual(message { _ = try gru(tokens: [0, 1, 2, 3], shape: [2, 2], embedding: embedding, lengths: [3, 1]) },
                       "GRU: sequence length 3 must be in 1...2 (the input has 2 steps)")
        // A non-finite vector of a token used is bad input, as a non-finite input vector is;
        // one of a token not used is not.
        var scalars = embedding.weight.value.scalars
        scalars[4 * 3 + 1] = .nan
        try embedding.weight.assign(Tensor(shape: [5, 3], scalars: scalars))
        XCTAssertEqual(message { _ = try gru(tokens: [0, 1, 4, 2], shape: [2, 2], embedding: embedding) },
                       "GRU: the input contains NaN or infinity (the embedding of token 4)")
        XCTAssertEqual(message { _ = try gru(tokens: [0, 1, 3, 2], shape: [2, 2], embedding: embedding) }, "no error")
    }
}
