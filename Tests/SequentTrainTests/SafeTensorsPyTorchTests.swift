import Foundation
import SequentNN
import SequentTensor
import SequentTrain
import TestSupport
import XCTest

/// Interchange with PyTorch in both directions, through committed fixtures:
/// `make_safetensors_fixtures.py` (torch writes, Sequent reads) and
/// `check_torch_loads_sequent.py` (Sequent writes `sequent_lstm.safetensors`, torch loads it).
final class SafeTensorsPyTorchTests: XCTestCase {
    static let directory = Fixtures.directory.appendingPathComponent("safetensors")

    /// Weights written by `safetensors.torch.save_file` give PyTorch's outputs (computed in
    /// float64 from the same float32 weights) to 1e-5.
    func testLoadsTorchLSTMAndGRUWeights() throws {
        let file = try SafeTensors.read(from: Self.directory.appendingPathComponent("torch_lstm_gru.safetensors"))
        XCTAssertEqual(file.metadata, ["format": "pt"])
        let expected = try Fixtures.load("safetensors/torch_lstm_gru")
        var generator = RandomGenerator(seed: 1)
        let lstm = try LSTM(inputSize: 4, hiddenSize: 6, layerCount: 2, bidirectional: true, generator: &generator)
        let gru = try GRU(inputSize: 4, hiddenSize: 5, layerCount: 2, generator: &generator)
        func withPrefix(_ prefix: String) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: file.tensors.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        }
        try lstm.loadStateDictionary(withPrefix("lstm."))
        try gru.loadStateDictionary(withPrefix("gru."))
        XCTAssertEqual(file.tensors.count, lstm.namedParameters().count + gru.namedParameters().count)

        let input = try XCTUnwrap(expected["input"])
        let (lstmOutput, lstmState) = try lstm(input)
        let (gruOutput, gruState) = try gru(input)
        var worst: Float = 0
        for (name, actual) in [("lstm.output", lstmOutput), ("lstm.h_n", lstmState.hiddenState), ("lstm.c_n", lstmState.cellState!),
                               ("gru.output", gruOutput), ("gru.h_n", gruState.hiddenState)] {
            let reference = try XCTUnwrap(expected[name])
            assertClose(actual, reference, relative: 0, absolute: 1e-5, name)
            worst = max(worst, zip(actual.scalars, reference.scalars).map { abs($0 - $1) }.max() ?? 0)
        }
        print("torch -> Sequent: LSTM + GRU outputs, max |Sequent - torch| = \(worst)")
    }

    /// F64, F32, BF16 and F16 (written by torch in its alignment order, F64 first), a rank-0
    /// and an empty tensor, all converted exactly as torch's `.float()` does.
    func testReadsEveryFloatDtypeTorchWrites() throws {
        let file = try SafeTensors.read(from: Self.directory.appendingPathComponent("torch_dtypes.safetensors"))
        let expected = try Fixtures.load("safetensors/torch_dtypes")
        XCTAssertEqual(Set(file.tensors.keys), Set(expected.keys))
        for (name, reference) in expected {
            let actual = try XCTUnwrap(file.tensors[name], name)
            XCTAssertEqual(actual.shape, reference.shape, name)
            XCTAssertEqual(actual.scalars, reference.scalars, name)
        }
    }

    func testRejectsIntegerTensorsNamingFileAndTensor() {
        XCTAssertThrowsError(try SafeTensors.read(from: Self.directory.appendingPathComponent("torch_int64.safetensors"))) { error in
            let message = "\(error)"
            XCTAssertEqual((error as? SequentError)?.kind, .malformedFile)
            XCTAssertTrue(message.contains("torch_int64.safetensors") && message.contains("tensor 'steps'") && message.contains("I64"), message)
        }
    }

    /// The LSTM whose file and outputs are committed as `sequent_lstm.safetensors/.json`.
    static func sequentLSTMFixture() throws -> (bytes: [UInt8], json: Data) {
        var generator = RandomGenerator(seed: 42)
        let lstm = try LSTM(inputSize: 4, hiddenSize: 6, layerCount: 2, bidirectional: true, generator: &generator)
        let input = randomTensor([5, 3, 4], seed: 43)
        let (output, state) = try lstm(input)
        let bytes = try SafeTensors(tensors: lstm.stateDictionary(), metadata: ["format": "pt"]).encoded()
        func entry(_ t: Tensor) -> [String: Any] { ["shape": t.shape, "data": t.scalars.map(Double.init)] }
        let object: [String: Any] = [
            "config": ["input_size": 4, "hidden_size": 6, "num_layers": 2, "bidirectional": true],
            "input": entry(input), "output": entry(output), "h_n": entry(state.hiddenState), "c_n": entry(state.cellState!),
        ]
        return (bytes, try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    /// Sequent still writes, byte for byte, the file that `check_torch_loads_sequent.py`
    /// verified (torch loads it strictly and reproduces the outputs), and the same outputs.
    ///
    /// The files are also written to a temporary directory (path printed) for re-checking;
    /// set SEQUENT_REGENERATE_FIXTURES=1 to overwrite the committed ones.
    func testWritesTheFileTorchWasCheckedToLoad() throws {
        let (bytes, json) = try Self.sequentLSTMFixture()
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("sequent-lstm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        try Data(bytes).write(to: temporary.appendingPathComponent("sequent_lstm.safetensors"))
        try json.write(to: temporary.appendingPathComponent("sequent_lstm.json"))
        print("Sequent -> torch: wrote \(temporary.path)/sequent_lstm.safetensors; check with Tests/Fixtures/check_torch_loads_sequent.py")

        let committed = Self.directory.appendingPathComponent("sequent_lstm.safetensors")
        if ProcessInfo.processInfo.environment["SEQUENT_REGENERATE_FIXTURES"] == "1" {
            try Data(bytes).write(to: committed)
            try json.write(to: Self.directory.appendingPathComponent("sequent_lstm.json"))
        }
        XCTAssertEqual(bytes, [UInt8](try Data(contentsOf: committed)), "sequent_lstm.safetensors changed: re-run check_torch_loads_sequent.py")
        let expected = try Fixtures.load("safetensors/sequent_lstm")
        let actual = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        for name in ["input", "output", "h_n", "c_n"] {
            let entry = actual[name] as! [String: Any]
            let tensor = Tensor(shape: entry["shape"] as! [Int], scalars: (entry["data"] as! [Double]).map(Float.init))
            assertClose(tensor, try XCTUnwrap(expected[name]), relative: 0, absolute: 1e-6, name)
        }
    }
}
