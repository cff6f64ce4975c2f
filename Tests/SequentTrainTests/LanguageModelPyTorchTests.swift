import Foundation
import SequentNN
import SequentTensor
import SequentTrain
import TestSupport
import XCTest

/// A `sequent lm` LSTM checkpoint loads into the PyTorch module a user would write
/// (`check_torch_loads_lm.py`: `load_state_dict`, strict) and gives the same logits.
final class LanguageModelPyTorchTests: XCTestCase {
    static let directory = Fixtures.directory.appendingPathComponent("lm")

    /// The model, its weights file and the JSON (config, tokens, logits) the script reads.
    static func fixture() throws -> (bytes: [UInt8], json: Data) {
        var generator = RandomGenerator(seed: 42)
        let model = try LanguageModel(.init(cell: .lstm, vocabularySize: 11, embeddingSize: 5, hiddenSize: 7, layerCount: 2,
                                            dropout: 0.2), generator: &generator)
        model.setTraining(false)
        var tokenGenerator = RandomGenerator(seed: 43)
        let tokens = (0..<(3 * 6)).map { _ in Int(tokenGenerator.next() % 11) }
        let (logits, _) = try model(tokens, batchSize: 3, time: 6)
        let bytes = try SafeTensors(tensors: model.stateDictionary(), metadata: ["format": "pt"]).encoded()
        let object: [String: Any] = [
            "config": ["vocabulary_size": 11, "embedding": 5, "hidden": 7, "layers": 2, "dropout": 0.2],
            "tokens": ["shape": [3, 6], "data": tokens.map(Double.init)],
            "logits": ["shape": logits.shape, "data": logits.scalars.map(Double.init)],
        ]
        return (bytes, try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    /// Sequent still writes, byte for byte, the file the script verified, with the same logits.
    /// SEQUENT_REGENERATE_FIXTURES=1 overwrites the committed files (then re-run the script).
    func testWritesTheCheckpointTorchWasCheckedToLoad() throws {
        let (bytes, json) = try Self.fixture()
        let weights = Self.directory.appendingPathComponent("sequent_lm_lstm.safetensors")
        if ProcessInfo.processInfo.environment["SEQUENT_REGENERATE_FIXTURES"] == "1" {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            try Data(bytes).write(to: weights)
            try json.write(to: Self.directory.appendingPathComponent("sequent_lm_lstm.json"))
        }
        XCTAssertEqual(bytes, [UInt8](try Data(contentsOf: weights)), "sequent_lm_lstm.safetensors changed: re-run check_torch_loads_lm.py")
        let expected = try Fixtures.load("lm/sequent_lm_lstm")
        let actual = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        let logits = (actual["logits"] as! [String: Any])["data"] as! [Double]
        assertClose(logits.map(Float.init), try XCTUnwrap(expected["logits"]).scalars, relative: 0, absolute: 1e-6)
        let keys = try SafeTensors.read(from: weights).tensors.keys.sorted()
        XCTAssertEqual(keys, ["emb.weight", "head.bias", "head.weight",
                              "rnn.bias_hh_l0", "rnn.bias_hh_l1", "rnn.bias_ih_l0", "rnn.bias_ih_l1",
                              "rnn.weight_hh_l0", "rnn.weight_hh_l1", "rnn.weight_ih_l0", "rnn.weight_ih_l1"])
    }
}
