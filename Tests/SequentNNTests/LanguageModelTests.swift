import SequentTensor
@testable import SequentNN
import TestSupport
import XCTest

/// `LanguageModel`: PyTorch's keys, dropout before the head only in training, carried state
/// equal to one long pass, and step-by-step generation equal to recomputation.
final class LanguageModelTests: XCTestCase {
    private func recurrent(_ cell: RecurrentCellType = .lstm, dropout: Float = 0) throws -> LanguageModel {
        var generator = RandomGenerator(seed: 3)
        return try LanguageModel(.init(cell: cell, vocabularySize: 11, embeddingSize: 5, hiddenSize: 8, layerCount: 2,
                                       dropout: dropout), generator: &generator)
    }

    private func tokens(_ count: Int, seed: UInt64) -> [Int] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { _ in Int(generator.next() % 11) }
    }

    func testKeysAreThoseOfPyTorchsModule() throws {
        let keys = Set(try recurrent(dropout: 0.3).stateDictionary().keys)
        XCTAssertEqual(keys, ["emb.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
                              "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1", "head.weight", "head.bias"])
    }

    func testRecurrentModelIsBuiltFromItsConfiguration() throws {
        let configuration = RecurrentLanguageModel.Configuration(
            cell: .gru, vocabularySize: 11, embeddingSize: 5, hiddenSize: 8, layerCount: 2, dropout: 0.25)
        var generator = RandomGenerator(seed: 3)
        let model = try LanguageModel(configuration, generator: &generator)
        guard case .recurrent(let inner) = model.network else { return XCTFail("not recurrent") }
        XCTAssertEqual(inner.configuration, configuration)
        let layer = inner.recurrent
        XCTAssertEqual([layer.inputSize, layer.hiddenSize, layer.layerCount], [5, 8, 2])
        XCTAssertEqual(layer.cellType, .gru)
        XCTAssertEqual(layer.dropout, 0.25)
        XCTAssertEqual(inner.head.weight.value.shape, [11, 8])
        XCTAssertEqual(model.outputDropout?.probability, 0.25)
        var bad = configuration
        bad.hiddenSize = 0
        XCTAssertThrowsError(try LanguageModel(bad, generator: &generator)) { error in
            XCTAssertEqual((error as? SequentError)?.message, "GRU: input size and hidden size must be positive, got 5 and 0")
        }
    }

    func testDropoutActsOnlyInTraining() throws {
        let model = try recurrent(dropout: 0.5)
        guard case .recurrent(let inner) = model.network else { return XCTFail("not recurrent") }
        let x = tokens(12, seed: 1)
        model.setTraining(false)
        let (evaluation, _) = try model(x, batchSize: 2, time: 6)
        let (plain, _) = try inner(x, batchSize: 2, time: 6)
        XCTAssertEqual(evaluation.scalars, plain.scalars)
        model.setTraining(true)
        let (training, _) = try model(x, batchSize: 2, time: 6)
        XCTAssertNotEqual(training.scalars, plain.scalars)
    }

    func testCarriedStateEqualsOneLongPass() throws {
        for cell in [RecurrentCellType.lstm, .gru, .rnn(.tanh)] {
            let model = try recurrent(cell)
            model.setTraining(false)
            let x = tokens(24, seed: 2)
            let (whole, _) = try model(x, batchSize: 1, time: 24)
            let (first, state) = try model(Array(x[0..<10]), batchSize: 1, time: 10)
            let (second, _) = try model(Array(x[10...]), batchSize: 1, time: 14, state: state?.detached())
            assertClose(Tensor(shape: [1, 24, 11], scalars: first.scalars + second.scalars), whole, relative: 1e-4, absolute: 1e-5)
        }
    }

    func testStepperGivesTheLogitsOfRecomputation() throws {
        let model = try recurrent(.lstm, dropout: 0.2)
        model.setTraining(false)
        guard case .recurrent(let inner) = model.network else { return XCTFail("not recurrent") }
        let stepper = try inner.stepper()
        let x = tokens(15, seed: 4)
        let (whole, _) = try model(x, batchSize: 1, time: 15)
        var logits: [Float] = []
        var stepped: [Float] = []
        for token in x {
            try stepper.step(token: token)
            stepper.logits(into: &logits)
            stepped += logits
        }
        assertClose(Tensor(shape: [1, 15, 11], scalars: stepped), whole, relative: 1e-3, absolute: 1e-4)
    }

    func testTransformerCacheGivesTheLogitsOfRecomputation() throws {
        var generator = RandomGenerator(seed: 5)
        let model = try LanguageModel(vocabularySize: 11, width: 8, layerCount: 2, headCount: 2, context: 16,
                                      dropout: 0.1, generator: &generator)
        model.setTraining(false)
        XCTAssertEqual(model.maximumContext, 16)
        XCTAssertFalse(model.isRecurrent)
        guard case .transformer(let inner) = model.network else { return XCTFail("not a transformer") }
        let x = tokens(12, seed: 6)
        let (whole, state) = try model(x, batchSize: 1, time: 12)
        XCTAssertNil(state)
        let stepper = TransformerLanguageModel.Stepper(model: inner)
        var stepped = try stepper.step(tokens: Array(x[0..<5]), count: 5).scalars
        for token in x[5...] { stepped += try stepper.step(token: token).scalars }
        assertClose(Tensor(shape: [1, 12, 11], scalars: stepped), whole, relative: 1e-3, absolute: 1e-4)
    }
}
