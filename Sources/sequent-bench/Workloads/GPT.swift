import SequentNN
import SequentTensor
import SequentTrain

// gpt-4x256: the decoder-only language model of torch_rnn_bench.py's `GPT(V, 256, 4, 4, 128)`:
// token + learned position embeddings, 4 pre-norm gelu layers (4 heads, feed-forward 1024,
// dropout 0, causal), final LayerNorm, linear head; vocabulary 65, on random tokens from
// RandomGenerator(seed: 0).
//   train:  zero gradients, forward, cross-entropy, backward, Adam (1e-3) step, B32 T128
//   infer:  forward over a (B, T) batch without gradients, evaluation mode, B32 T128
//   stream: batch-1 greedy generation with the key/value cache (one position per layer per
//           token). The model has 128 learned positions, so the context restarts from the
//           last token when it is full: the 20 + 200 timed tokens see contexts of 1...128.
//           torch_rnn_bench.py has no GPT stream line (its GPT carries no cache).

extension Workload {
    static let gpt4x256 = Workload(
        name: "gpt-4x256",
        summary: "GPT (pre-norm, gelu), 4 layers x 256, 4 heads, B32 T128, vocabulary 65",
        train: {
            var generator = RandomGenerator(seed: 0)
            let lm = gptModel(&generator)
            let optimizer = try! Adam(namedParameters: lm.namedParameters(), learningRate: 1e-3)
            let (x, y) = (gptTokens(gptBatch * gptTime, &generator), gptTokens(gptBatch * gptTime, &generator))
            return SequenceStep(batch: gptBatch, time: gptTime) {
                optimizer.zeroGradients()
                let logits = try! lm(x, batchSize: gptBatch, time: gptTime)
                let loss = try! Loss.crossEntropy(logits: logits, targets: y)
                loss.backward()
                optimizer.step()
            }
        },
        infer: {
            var generator = RandomGenerator(seed: 0)
            let lm = gptModel(&generator)
            lm.setTraining(false)
            let x = gptTokens(gptBatch * gptTime, &generator)
            return SequenceStep(batch: gptBatch, time: gptTime) {
                _ = withoutGradients { try! lm(x, batchSize: gptBatch, time: gptTime) }
            }
        },
        stream: { _ in  // Float weights only: the cached Transformer has no bfloat16 path
            var generator = RandomGenerator(seed: 0)
            let lm = gptModel(&generator)
            lm.setTraining(false)
            let stepper = TransformerLanguageModel.Stepper(model: lm)
            var token = 0
            return TokenStep {
                if stepper.position == lm.maxLength { stepper.reset() }
                let logits = try! stepper.step(token: token).scalars
                token = logits.indices.max { logits[$0] < logits[$1] }!
            }
        })

    private static let gptVocabulary = 65
    private static let gptBatch = 32
    private static let gptTime = 128

    /// `GPT(65, 256, 4, 4, 128)`.
    private static func gptModel(_ generator: inout RandomGenerator) -> TransformerLanguageModel {
        try! TransformerLanguageModel(vocabularySize: gptVocabulary, dModel: 256, layerCount: 4, headCount: 4,
                                      maxLength: gptTime, generator: &generator)
    }

    private static func gptTokens(_ count: Int, _ generator: inout RandomGenerator) -> [Int] {
        (0..<count).map { _ in Int(generator.next() % UInt64(gptVocabulary)) }
    }
}
