import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// The one-step cells against PyTorch's RNNCell, LSTMCell and GRUCell, and against the
/// fused sequence layers they must agree with.
final class RecurrentCellsTests: XCTestCase {
    private func load(_ module: any Module, from f: [String: Tensor]) throws {
        var state: [String: Tensor] = [:]
        for (key, value) in f where key.hasPrefix("param.") { state[String(key.dropFirst(6))] = value }
        try module.loadStateDictionary(state)
    }

    private func checkGradients(_ module: any Module, _ f: [String: Tensor], _ inputs: [(Tensor, String)]) {
        for (tensor, key) in inputs { assertClose(tensor.grad!, f[key]!, relative: 1e-4, absolute: 1e-5, key) }
        for (key, parameter) in module.namedParameters() {
            assertClose(parameter.grad!, f["grad.\(key)"]!, relative: 1e-4, absolute: 1e-5, key)
        }
    }

    func testRNNCellMatchesPyTorch() throws {
        let f = try Fixtures.load("recurrent/rnn_cell")
        var generator = RandomGenerator(seed: 1)
        let cell = try RNNCell(inputSize: 4, hiddenSize: 6, generator: &generator)
        try load(cell, from: f)
        let (x, h) = (f["input"]!.requiringGrad(), f["h0"]!.requiringGrad())
        let next = try cell(x, h)
        assertClose(next, f["h1"]!, relative: 1e-4, absolute: 1e-5)
        (next * f["w_h"]!).sum().backward()
        checkGradients(cell, f, [(x, "grad.input"), (h, "grad.h0")])
    }

    func testLSTMCellMatchesPyTorch() throws {
        let f = try Fixtures.load("recurrent/lstm_cell")
        var generator = RandomGenerator(seed: 1)
        let cell = try LSTMCell(inputSize: 4, hiddenSize: 6, generator: &generator)
        try load(cell, from: f)
        let (x, h, c) = (f["input"]!.requiringGrad(), f["h0"]!.requiringGrad(), f["c0"]!.requiringGrad())
        let next = try cell(x, (h, c))
        assertClose(next.h, f["h1"]!, relative: 1e-4, absolute: 1e-5)
        assertClose(next.c, f["c1"]!, relative: 1e-4, absolute: 1e-5)
        ((next.h * f["w_h"]!).sum() + (next.c * f["w_c"]!).sum()).backward()
        checkGradients(cell, f, [(x, "grad.input"), (h, "grad.h0"), (c, "grad.c0")])
    }

    func testGRUCellMatchesPyTorch() throws {
        let f = try Fixtures.load("recurrent/gru_cell")
        var generator = RandomGenerator(seed: 1)
        let cell = try GRUCell(inputSize: 4, hiddenSize: 6, generator: &generator)
        try load(cell, from: f)
        let (x, h) = (f["input"]!.requiringGrad(), f["h0"]!.requiringGrad())
        let next = try cell(x, h)
        assertClose(next, f["h1"]!, relative: 1e-4, absolute: 1e-5)
        (next * f["w_h"]!).sum().backward()
        checkGradients(cell, f, [(x, "grad.input"), (h, "grad.h0")])
    }

    /// A loop of cells over time gives the same outputs as the fused layer with the same weights.
    func testCellLoopEqualsFusedLayer() throws {
        var generator = RandomGenerator(seed: 3)
        let layer = try GRU(inputSize: 5, hiddenSize: 7, batchFirst: true, generator: &generator)
        let cell = try GRUCell(inputSize: 5, hiddenSize: 7, generator: &generator)
        try cell.loadStateDictionary(Dictionary(uniqueKeysWithValues: layer.stateDictionary().map { (String($0.key.dropLast(3)), $0.value) }))
        let x = randomTensor([2, 4, 5], seed: 9)
        let (output, _) = try layer(x)
        var h: Tensor? = nil
        for t in 0..<4 {
            h = try cell(x.select(alongAxis: 1, index: t), h)
            assertClose(h!, output.select(alongAxis: 1, index: t), relative: 1e-5, absolute: 1e-6)
        }
    }

    /// The default state is zeros (Swift for TensorFlow's untested default path was wrong).
    func testDefaultStateIsZeros() throws {
        var generator = RandomGenerator(seed: 4)
        let cell = try LSTMCell(inputSize: 3, hiddenSize: 4, generator: &generator)
        let x = randomTensor([2, 3], seed: 5)
        let implicit = try cell(x)
        let explicit = try cell(x, (Tensor.zeros([2, 4]), Tensor.zeros([2, 4])))
        XCTAssertEqual(implicit.h.scalars, explicit.h.scalars)
        XCTAssertEqual(implicit.c.scalars, explicit.c.scalars)
        let unbatched = try cell(x.select(alongAxis: 0, index: 0))
        XCTAssertEqual(unbatched.h.shape, [4])
    }

    func testWrongShapesAreNamed() throws {
        var generator = RandomGenerator(seed: 4)
        let cell = try LSTMCell(inputSize: 3, hiddenSize: 4, generator: &generator)
        XCTAssertThrowsError(try cell(Tensor.zeros([2, 5]))) { error in
            XCTAssertTrue("\(error)".contains("LSTMCell: expected input width 3"), "\(error)")
        }
        XCTAssertThrowsError(try cell(Tensor.zeros([1, 2, 3]))) { error in
            XCTAssertTrue("\(error)".contains("1-D or 2-D, got 3-D"), "\(error)")
        }
        XCTAssertThrowsError(try cell(Tensor.zeros([2, 3]), (Tensor.zeros([2, 5]), Tensor.zeros([2, 4])))) { error in
            XCTAssertTrue("\(error)".contains("expected state of shape [2, 4], got [2, 5]"), "\(error)")
        }
    }
}
