import SequentData
import SequentNN
import SequentTensor

/// The mean negative log-likelihood of a language model on a token sequence, every token
/// after the first scored once, in order.
///
/// A recurrent model reads B contiguous streams (`TokenStreams`) with its state carried
/// from window to window, so each token is predicted from all the text before it in its
/// stream; a Transformer reads windows of its context, each from scratch.
public enum LanguageModelScore {
    /// The loss in nats per scored token and the count scored.
    ///
    /// - Throws: `SequentError` for fewer than two tokens, B or T below 1, or ids the model
    ///   does not know.
    public static func loss(
        _ model: LanguageModel, tokens: [Int], batchSize: Int, context: Int
    ) throws -> (loss: Double, scored: Int) {
        let streams = try TokenStreams(tokens: tokens, batchSize: batchSize, time: context)
        var total = 0.0
        var scored = 0
        var state: RecurrentState?
        try withoutGradients {
            for element in streams {
                let batch = element.batch
                let (logits, next) = try model(
                    batch.inputs, batchSize: batch.batchSize, time: batch.time, state: model.isRecurrent ? state : nil)
                state = next
                let losses = try Loss.crossEntropy(logits: logits, targets: batch.targets, reduction: .none)  // (B, T)
                let values = losses.scalars
                for i in values.indices where element.mask[i] != 0 { total += Double(values[i]) }
                scored += element.scored
            }
        }
        return (total / Double(max(scored, 1)), scored)
    }
}
