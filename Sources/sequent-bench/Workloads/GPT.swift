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
// gpt-6x256-v6249: the same GPT with the depth (6 layers) and the output vocabulary (6,249)
// of translator-3x256, train and infer only (no PyTorch line): what a decoder-only model
// of the translator's size reaches, beside it.
// gpt-6x256-ff512: the GPT at translator-3x256's exact width, depth (3 + 3 = 6 layers),
// heads (8) and feed-forward (512), vocabulary 65 as gpt-4x256, train and infer only: the
// translation target's "GPT workload at the same width and depth".

extension Workload {
    static let gpt4x256 = gpt(
        name: "gpt-4x256", layerCount: 4, vocabularySize: 65,
        summary: "GPT (pre-norm, gelu), 4 layers x 256, 4 heads, B32 T128, vocabulary 65", streams: true)

    static let gpt6x256v6249 = gpt(
        name: "gpt-6x256-v6249", layerCount: 6, vocabularySize: 6249,
        summary: "GPT (pre-norm, gelu), 6 layers x 256, 4 heads, B32 T128, vocabulary 6249 (translator-3x256's depth and output)",
        streams: false)

    static let gpt6x256ff512 = gpt(
        name: "gpt-6x256-ff512", layerCount: 6, vocabularySize: 65, headCount: 8, dimFeedforward: 512,
        summary: "GPT (pre-norm, gelu), 6 layers x 256, 8 heads, ff 512, B32 T128, vocabulary 65 (translator-3x256's width, depth and feed-forward)",
        streams: false)

    private static let gptBatch = 32
    private static let gptTime = 128

    /// `GPT(vocabularySize, 256, layerCount, headCount, 128)` (feed-forward 4 x 256 unless
    /// given) trained and run on random tokens; with `streams`, also generating.
    private static func gpt(
        name: String, layerCount: Int, vocabularySize: Int, headCount: Int = 4, dimFeedforward: Int? = nil, summary: String,
        streams: Bool
    ) -> Workload {
        let shape = GPTShape(layerCount: layerCount, vocabularySize: vocabularySize, headCount: headCount, dimFeedforward: dimFeedforward)
        var workload = Workload(
            name: name,
            summary: summary,
            train: {
                var generator = RandomGenerator(seed: 0)
                let lm = gptModel(shape, &generator)
                let optimizer = try! Adam(namedParameters: lm.namedParameters(), learningRate: 1e-3)
                let x = gptTokens(gptBatch * gptTime, vocabularySize: vocabularySize, &generator)
                let y = gptTokens(gptBatch * gptTime, vocabularySize: vocabularySize, &generator)
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
                let lm = gptModel(shape, &generator)
                lm.setTraining(false)
                let x = gptTokens(gptBatch * gptTime, vocabularySize: vocabularySize, &generator)
                return SequenceStep(batch: gptBatch, time: gptTime) {
                    _ = withoutGradients { try! lm(x, batchSize: gptBatch, time: gptTime) }
                }
            })
        if streams {
            workload.stream = { _ in  // Float weights only: the cached Transformer has no bfloat16 path
                var generator = RandomGenerator(seed: 0)
                let lm = gptModel(shape, &generator)
                lm.setTraining(false)
                let stepper = TransformerLanguageModel.Stepper(model: lm)
                var token = 0
                return TokenStep {
                    if stepper.position == lm.maxLength { stepper.reset() }
                    let logits = try! stepper.step(token: token).scalars
                    token = logits.indices.max { logits[$0] < logits[$1] }!
                }
            }
        }
        return workload
    }

    /// What the GPT workloads vary.
    private struct GPTShape {
        let layerCount: Int, vocabularySize: Int, headCount: Int, dimFeedforward: Int?
    }

    private static func gptModel(_ shape: GPTShape, _ generator: inout RandomGenerator) -> TransformerLanguageModel {
        try! TransformerLanguageModel(vocabularySize: shape.vocabularySize, dModel: 256, layerCount: shape.layerCount,
                                      headCount: shape.headCount, maxLength: gptTime, dimFeedforward: shape.dimFeedforward,
                                      generator: &generator)
    }

    private static func gptTokens(_ count: Int, vocabularySize: Int, _ generator: inout RandomGenerator) -> [Int] {
        (0..<count).map { _ in Int(generator.next() % UInt64(vocabularySize)) }
    }
}
