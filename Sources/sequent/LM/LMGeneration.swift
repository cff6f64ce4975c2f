import Foundation
import SequentData
import SequentNN
import SequentTensor

/// Continues a prompt token by token with carried state: the recurrent models through a
/// `RecurrentStepper` (one matrix-vector step per token), the Transformer through its
/// key/value cache (one position per token). Nothing is recomputed per token, except that
/// a Transformer whose context is full restarts from the last half of its context.
final class LMGenerator {
    private enum Engine {
        case recurrent(RecurrentStepper)
        case transformer(TransformerLanguageModel.Stepper, context: Int)
    }

    private let engine: Engine
    /// The logits after the last token fed (V).
    private(set) var logits: [Float] = []
    /// Every token fed so far (the Transformer re-feeds a tail of them when its context is full).
    private var history: [Int] = []

    /// A generator for `model` in evaluation mode.
    init(model: LanguageModel) throws {
        switch model.network {
        case .recurrent(let lm):
            engine = .recurrent(try lm.stepper())
        case .transformer(let lm):
            engine = .transformer(TransformerLanguageModel.Stepper(model: lm), context: lm.maxLength)
        }
    }

    /// Feeds `tokens` (the prompt, at least one) and leaves the next-token logits in `logits`.
    func feed(_ tokens: [Int]) throws {
        guard !tokens.isEmpty else { return }
        history += tokens
        switch engine {
        case .recurrent(let stepper):
            for token in tokens { try stepper.step(token: token) }
            stepper.logits(into: &logits)
        case .transformer(let stepper, let context):
            var pending = tokens
            if stepper.position + pending.count > context {
                // The context is full: start again from the most recent half of it.
                stepper.reset()
                pending = Array(history.suffix(max(1, context / 2)))
            }
            let out = try stepper.step(tokens: pending, count: pending.count)  // (1, n, V)
            let V = out.shape[2]
            logits = Array(out.scalars.suffix(V))
        }
    }

    /// Generates `count` tokens after what was fed, calling `emit` with each as it comes.
    func generate(count: Int, sampler: inout TokenSampler, emit: (Int) throws -> Void) throws {
        for _ in 0..<count {
            let token = sampler.sample(logits)
            try emit(token)
            try feed([token])
        }
    }
}
