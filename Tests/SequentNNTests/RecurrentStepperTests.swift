import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// The streaming stepper gives, token by token, exactly what the fused layer gives for the
/// whole sequence.
final class RecurrentStepperTests: XCTestCase {
    func testStepperMatchesSequenceLayer() throws {
        for cell in [RecurrentCellType.rnn(.tanh), .rnn(.relu), .lstm, .gru] {
            var generator = RandomGenerator(seed: 11)
            // 37 units: two threads' ranges and a vector tail.
            let layer = try RecurrentLayer(cell: cell, inputSize: 5, hiddenSize: 37, layerCount: 2, batchFirst: true, generator: &generator)
            let x = randomTensor([1, 6, 5], seed: 12)
            let (expected, finalState) = try withoutGradients { try layer(x) }
            let stepper = try layer.stepper()
            for t in 0..<6 {
                let h = try stepper.step(x.select(alongAxis: 0, index: 0).select(alongAxis: 0, index: t))
                assertClose(h, expected.select(alongAxis: 0, index: 0).select(alongAxis: 0, index: t), relative: 1e-5, absolute: 1e-6, "\(cell) step \(t)")
            }
            assertClose(stepper.state.hiddenState, finalState.hiddenState, relative: 1e-5, absolute: 1e-6)
            if let c = finalState.cellState { assertClose(stepper.state.cellState!, c, relative: 1e-5, absolute: 1e-6) }
        }
    }

    func testTokenTableAndHeadMatchTheLayers() throws {
        var generator = RandomGenerator(seed: 3)
        let embedding = Embedding(vocabularySize: 11, embeddingSize: 4, generator: &generator)
        let lstm = try LSTM(inputSize: 4, hiddenSize: 20, batchFirst: true, generator: &generator)
        let head = Linear(inputSize: 20, outputSize: 11, generator: &generator)
        let tokens = [3, 1, 4, 1, 5, 9]
        let (output, _) = try withoutGradients { try lstm(try embedding(tokens, shape: [1, 6])) }
        let expected = withoutGradients { head(output) }
        let stepper = try lstm.stepper(embedding: embedding.weight.value, head: (head.weight.value, head.bias?.value))
        var logits: [Float] = []
        for (t, token) in tokens.enumerated() {
            try stepper.step(token: token)
            stepper.logits(into: &logits)
            assertClose(logits, expected.select(alongAxis: 0, index: 0).select(alongAxis: 0, index: t).scalars, relative: 1e-5, absolute: 1e-6)
        }
        XCTAssertThrowsError(try stepper.step(token: 11)) { XCTAssertTrue("\($0)".contains("token 11 is outside the vocabulary 0..<11")) }
    }
}

extension RecurrentStepperTests {
    /// bfloat16 weights: the packing is exact for values bfloat16 can hold, and generation
    /// stays close to Float (the accuracy the streaming benchmark relies on).
    func testBFloat16WeightsStayCloseToFloat() throws {
        for cell in [RecurrentCellType.rnn(.tanh), .lstm, .gru] {
            var generator = RandomGenerator(seed: 21)
            let model = try RecurrentLanguageModel(.init(cell: cell, vocabularySize: 65, embeddingSize: 32, hiddenSize: 64,
                                                         layerCount: 2), generator: &generator)
            func stepper(_ precision: WeightPrecision) throws -> RecurrentStepper {
                try model.stepper(weightPrecision: precision)
            }
            let (exact, reduced) = (try stepper(.float32), try stepper(.bfloat16))
            var (exactLogits, reducedLogits) = ([Float](), [Float]())
            var worst: Float = 0
            var token = 0
            var sameChoice = 0
            for _ in 0..<60 {
                try exact.step(token: token)
                try reduced.step(token: token)
                exact.logits(into: &exactLogits)
                reduced.logits(into: &reducedLogits)
                let scale = exactLogits.map(abs).max()!
                worst = max(worst, zip(exactLogits, reducedLogits).map { abs($0 - $1) }.max()! / scale)
                token = exactLogits.indices.max { exactLogits[$0] < exactLogits[$1] }!  // both follow the same tokens
                if reducedLogits.indices.max(by: { reducedLogits[$0] < reducedLogits[$1] })! == token { sameChoice += 1 }
            }
            print("bfloat16 \(cell): largest relative logit difference \(worst), same greedy choice \(sameChoice)/60")
            XCTAssertLessThan(worst, 0.02, "\(cell): largest logit difference relative to the largest logit")
        }
    }

    /// A stepper whose state is set by `reset` continues exactly as the one it came from: the
    /// head applied on the calling thread after a reset equals the one applied in the step's
    /// parallel region, and the state's bfloat16 rounding is redone from the new state.
    func testResetContinuesBitForBit() throws {
        for precision in [WeightPrecision.float32, .bfloat16] {
            var generator = RandomGenerator(seed: 31)
            let model = try RecurrentLanguageModel(.init(cell: .lstm, vocabularySize: 20, embeddingSize: 8, hiddenSize: 40,
                                                         layerCount: 2), generator: &generator)
            func stepper() throws -> RecurrentStepper {
                try model.stepper(weightPrecision: precision)
            }
            let (original, copy) = (try stepper(), try stepper())
            for token in [1, 7, 3] { try original.step(token: token) }
            try copy.reset(hiddenState: original.state.hiddenState, cellState: original.state.cellState)
            var (expected, got) = ([Float](), [Float]())
            original.logits(into: &expected)
            copy.logits(into: &got)
            XCTAssertEqual(got, expected, "\(precision): logits after a reset")
            try original.step(token: 5)
            try copy.step(token: 5)
            original.logits(into: &expected)
            copy.logits(into: &got)
            XCTAssertEqual(got, expected, "\(precision): the step after a reset")
        }
    }

    /// Steps on input vectors (no embedding) with bfloat16 weights stay close to the layer.
    func testBFloat16StepsOnInputVectorsStayClose() throws {
        var generator = RandomGenerator(seed: 41)
        let layer = try RecurrentLayer(cell: .gru, inputSize: 9, hiddenSize: 37, layerCount: 2, batchFirst: true, generator: &generator)
        let x = randomTensor([1, 5, 9], seed: 42)
        let (expected, _) = try withoutGradients { try layer(x) }
        let stepper = try layer.stepper(weightPrecision: .bfloat16)
        for t in 0..<5 {
            let h = try stepper.step(x.select(alongAxis: 0, index: 0).select(alongAxis: 0, index: t))
            assertClose(h, expected.select(alongAxis: 0, index: 0).select(alongAxis: 0, index: t), relative: 0, absolute: 2e-2, "step \(t)")
        }
    }
}
