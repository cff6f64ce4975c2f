import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// The same inputs give bitwise the same outputs and gradients on 1, 2, 3 or 4 threads, for
/// every layer kind, forward and backward (work is split by `Parallelism.splitCount`, never by
/// the thread count). Run under SEQUENT_MAX_CPU_ISA=avx2 and ONEDNN_MAX_CPU_ISA=AVX2 too.
final class ThreadDeterminismTests: XCTestCase {
    static let threadCounts = [1, 2, 3, 4]

    /// Runs `step` (a forward and backward pass) on each thread count and checks that every
    /// returned tensor and every parameter gradient has the same bits as on one thread.
    func assertSameBits(_ name: String, model: some Module, _ step: () throws -> [Tensor]) rethrows {
        var reference: [[Float]]?
        for threads in Self.threadCounts {
            model.zeroGradients()
            let results = try Parallelism.withThreads(threads) { try step() }
            let values = results.map(\.scalars) + model.parameters().map { $0.grad?.scalars ?? [] }
            if let reference {
                for (index, (value, expected)) in zip(values, reference).enumerated() where value != expected {
                    let differing = zip(value, expected).filter { $0.bitPattern != $1.bitPattern }.count
                    XCTFail("\(name): result \(index) differs on \(threads) threads from 1 thread in \(differing) of \(value.count) values")
                }
            } else {
                reference = values
            }
        }
    }

    func testRecurrentLanguageModelsTrainTheSameOnAnyThreadCount() throws {
        let (batch, time, vocabulary) = (48, 7, 29)
        var data = RandomGenerator(seed: 3)
        let tokens = (0..<(batch * time)).map { _ in Int(data.next() % UInt64(vocabulary)) }
        let targets = (0..<(batch * time)).map { _ in Int(data.next() % UInt64(vocabulary)) }
        for cell in [RecurrentCellType.lstm, .gru, .rnn(.tanh)] {
            var generator = RandomGenerator(seed: 1)
            let model = try RecurrentLanguageModel(.init(cell: cell, vocabularySize: vocabulary, embeddingSize: 24, hiddenSize: 40,
                                                         layerCount: 2), generator: &generator)
            try assertSameBits("\(cell.name) language model", model: model) {
                let (logits, state) = try model(tokens, batchSize: batch, time: time)
                let loss = try Loss.crossEntropy(logits: logits, targets: targets)
                loss.backward()
                return [logits, state.hiddenState, loss]
            }
            try assertSameBits("\(cell.name) language model at bfloat16", model: model) {
                try GEMM.withPrecision(.bfloat16) { [try model(tokens, batchSize: batch, time: time).logits] }
            }
        }
    }

    func testBidirectionalLayerWithLengthsTheSameOnAnyThreadCount() throws {
        var generator = RandomGenerator(seed: 4)
        let layer = try LSTM(inputSize: 5, hiddenSize: 33, layerCount: 2, batchFirst: true, bidirectional: true, generator: &generator)
        let x = randomTensor([70, 9, 5], seed: 5).requiringGrad()
        let lengths = (0..<70).map { 1 + $0 % 9 }
        try assertSameBits("bidirectional LSTM", model: layer) {
            x.grad = nil
            let (output, state) = try layer(x, lengths: lengths)
            (output * output).sum().backward()
            return [output, state.hiddenState, state.cellState!, x.grad!]
        }
    }

    func testTransformerLanguageModelTheSameOnAnyThreadCount() throws {
        let (batch, time, vocabulary) = (6, 40, 50)
        var generator = RandomGenerator(seed: 6)
        let model = try TransformerLanguageModel(vocabularySize: vocabulary, dModel: 64, layerCount: 2, headCount: 4,
                                                 maxLength: 64, generator: &generator)
        var data = RandomGenerator(seed: 7)
        let tokens = (0..<(batch * time)).map { _ in Int(data.next() % UInt64(vocabulary)) }
        try assertSameBits("Transformer language model", model: model) {
            let logits = try model(tokens, batchSize: batch, time: time)
            let loss = try Loss.crossEntropy(logits: logits, targets: tokens)
            loss.backward()
            return [logits, loss]
        }
    }

    /// Products alone, over shapes whose tiles are rows, columns or one, in Float and in
    /// bfloat16 (native or emulated).
    func testMatrixProductsTheSameOnAnyThreadCount() {
        for precision in MatmulPrecision.allCases {
            for (m, k, n) in [(300, 333, 64), (7, 512, 2048), (1, 1000, 4000), (65, 3, 1), (2048, 1200, 64)] {
                let a = randomTensor([m, k], seed: 8), b = randomTensor([k, n], seed: 9)
                let products = Self.threadCounts.map { threads in
                    GEMM.withPrecision(precision) { Parallelism.withThreads(threads) { Tensor.matmul(a, b).scalars } }
                }
                for (threads, product) in zip(Self.threadCounts, products) {
                    XCTAssertTrue(product == products[0], "\(precision) (\(m), \(k)) x (\(k), \(n)) on \(threads) threads")
                }
            }
        }
    }
}
