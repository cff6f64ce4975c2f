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
