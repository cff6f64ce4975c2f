import SequentNN
import SequentTensor
import SequentTrain

// translator-3x256: the encoder-decoder Transformer `sequent translate train --model
// transformer` trains by default on Multi30k (3 + 3 post-norm relu layers, d_model 256,
// 8 heads, feed-forward 512, dropout 0.1, sinusoidal positions), with Multi30k's word
// vocabularies (8,047 German, 6,247 English + begin/end) and a batch of 64 pairs of 14
// source and 14 target tokens (about a bucketed batch's padded lengths there), on random
// tokens from RandomGenerator(seed: 0). tokens_per_s counts target tokens, as the
// Trainer's log does.
//   train:  zero gradients, forward, label-smoothed (0.1) masked cross-entropy, backward,
//           Adam (5e-4) step
//   infer:  the teacher-forced forward pass without gradients, evaluation mode
// Beside gpt-4x256 (the same width; 4 decoder-only layers, feed-forward 1024, vocabulary
// 65, B32 T128) and gpt-6x256-v6249 (6 layers, the same output vocabulary) it says what the
// translation model's shapes cost.
// translator-3x256-v4000: the same model with vocabularies of 4,000 -> 4,002 (the size of a
// small BPE), to time what a smaller output layer saves per target token (a BPE of that
// size also cuts sentences into more tokens; that is not part of this workload).

extension Workload {
    static let translator3x256 = translator(
        name: "translator-3x256", sourceVocabularySize: 8047, targetVocabularySize: 6249,
        summary: "encoder-decoder Transformer 3+3 x 256, 8 heads, ff 512, vocabularies 8047 -> 6249, B64 S14 T14")

    static let translator3x256v4000 = translator(
        name: "translator-3x256-v4000", sourceVocabularySize: 4000, targetVocabularySize: 4002,
        summary: "translator-3x256 with vocabularies 4000 -> 4002 (a small BPE's size), B64 S14 T14")

    private static let translatorBatchSize = 64
    private static let translatorTime = 14

    /// The translator on random batches of the given vocabularies (the target's last two
    /// ids are its begin and end tokens).
    private static func translator(name: String, sourceVocabularySize: Int, targetVocabularySize: Int, summary: String) -> Workload {
        Workload(
            name: name,
            summary: summary,
            train: {
                var generator = RandomGenerator(seed: 0)
                let model = translatorModel(sourceVocabularySize, targetVocabularySize, &generator)
                let optimizer = try! Adam(namedParameters: model.namedParameters(), learningRate: 5e-4)
                let (source, target) = translatorBatch(sourceVocabularySize, targetVocabularySize, &generator)
                return SequenceStep(batch: translatorBatchSize, time: translatorTime) {
                    optimizer.zeroGradients()
                    let loss = try! model.loss(source: source, target: target, labelSmoothing: 0.1)
                    loss.backward()
                    optimizer.step()
                }
            },
            infer: {
                var generator = RandomGenerator(seed: 0)
                let model = translatorModel(sourceVocabularySize, targetVocabularySize, &generator)
                model.setTraining(false)
                let (source, target) = translatorBatch(sourceVocabularySize, targetVocabularySize, &generator)
                return SequenceStep(batch: translatorBatchSize, time: translatorTime) {
                    _ = withoutGradients { try! model(source: source, target: target) }
                }
            })
    }

    private static func translatorModel(_ sourceVocabularySize: Int, _ targetVocabularySize: Int, _ generator: inout RandomGenerator) -> TransformerTranslator {
        try! TransformerTranslator(
            sourceVocabularySize: sourceVocabularySize, targetVocabularySize: targetVocabularySize, dModel: 256, headCount: 8,
            encoderLayerCount: 3, decoderLayerCount: 3, dimFeedforward: 512, dropout: 0.1, maxPositions: 102,
            beginToken: targetVocabularySize - 2, endToken: targetVocabularySize - 1, generator: &generator)
    }

    private static func translatorBatch(
        _ sourceVocabularySize: Int, _ targetVocabularySize: Int, _ generator: inout RandomGenerator
    ) -> (Seq2Seq.Batch, Seq2Seq.Batch) {
        func sentences(_ vocabulary: Int) -> Seq2Seq.Batch {
            try! Seq2Seq.Batch((0..<translatorBatchSize).map { _ in
                (0..<translatorTime).map { _ in Int(generator.next() % UInt64(vocabulary)) }
            })
        }
        return (sentences(sourceVocabularySize), sentences(targetVocabularySize - 2))
    }
}
