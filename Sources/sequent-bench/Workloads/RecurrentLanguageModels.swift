import SequentNN
import SequentTensor
import SequentTrain

// lstm-1x256, lstm-2x512, gru-2x512, rnn-2x512: the character language models of
// torch_rnn_bench.py's `LM` (embedding 64, vocabulary 65, recurrent stack, linear head,
// cross-entropy, Adam at 1e-3), on random tokens from RandomGenerator(seed: 0).
//   train:  zero gradients, forward, loss, backward, Adam step over a (B, T) batch
//   infer:  forward over a (B, T) batch without gradients, evaluation mode
//   stream: batch-1 greedy generation with carried state (RecurrentStepper), weights in
//           Float or, with --stream-weights bfloat16, bfloat16

extension Workload {
    static let lstm1x256 = recurrentLanguageModel("lstm-1x256", cell: .lstm, hidden: 256, layers: 1, batch: 32)
    static let lstm2x512 = recurrentLanguageModel("lstm-2x512", cell: .lstm, hidden: 512, layers: 2, batch: 64)
    static let gru2x512 = recurrentLanguageModel("gru-2x512", cell: .gru, hidden: 512, layers: 2, batch: 64)
    static let rnn2x512 = recurrentLanguageModel("rnn-2x512", cell: .rnn(.tanh), hidden: 512, layers: 2, batch: 64)

    private static let vocabulary = 65
    private static let embeddingSize = 64
    private static let time = 100

    private static func recurrentLanguageModel(
        _ name: String, cell: RecurrentCellType, hidden: Int, layers: Int, batch: Int
    ) -> Workload {
        @Sendable func model(_ generator: inout RandomGenerator) -> RecurrentLanguageModel {
            try! RecurrentLanguageModel(.init(cell: cell, vocabularySize: vocabulary, embeddingSize: embeddingSize,
                                              hiddenSize: hidden, layerCount: layers), generator: &generator)
        }
        @Sendable func tokens(_ count: Int, _ generator: inout RandomGenerator) -> [Int] {
            (0..<count).map { _ in Int(generator.next() % UInt64(vocabulary)) }
        }
        return Workload(
            name: name,
            summary: "\(cell.name) language model, \(layers) x \(hidden), B\(batch) T\(time), embedding \(embeddingSize), vocabulary \(vocabulary)",
            train: {
                var generator = RandomGenerator(seed: 0)
                let lm = model(&generator)
                let optimizer = try! Adam(namedParameters: lm.namedParameters(), learningRate: 1e-3)
                let (x, y) = (tokens(batch * time, &generator), tokens(batch * time, &generator))
                return SequenceStep(batch: batch, time: time) {
                    optimizer.zeroGradients()
                    let (logits, _) = try! lm(x, batchSize: batch, time: time)
                    let loss = try! Loss.crossEntropy(logits: logits, targets: y)
                    loss.backward()
                    optimizer.step()
                }
            },
            infer: {
                var generator = RandomGenerator(seed: 0)
                let lm = model(&generator)
                lm.setTraining(false)
                let x = tokens(batch * time, &generator)
                return SequenceStep(batch: batch, time: time) {
                    _ = withoutGradients { try! lm(x, batchSize: batch, time: time) }
                }
            },
            stream: { precision in
                var generator = RandomGenerator(seed: 0)
                let lm = model(&generator)
                let stepper = try! lm.stepper(weightPrecision: precision)
                var logits: [Float] = []
                var token = 0
                return TokenStep(weights: precision) {
                    try! stepper.step(token: token)
                    stepper.logits(into: &logits)
                    token = logits.indices.max { logits[$0] < logits[$1] }!
                }
            })
    }
}
