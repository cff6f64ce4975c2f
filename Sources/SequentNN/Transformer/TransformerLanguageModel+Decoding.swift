import Foundation
import SequentTensor

// Generation with a key/value cache: the prompt runs through the layers once (prefill),
// then every new token costs one position per layer, attending to the cached keys and
// values of all earlier positions (see KeyValueCache.swift).

extension TransformerLanguageModel {
    /// How the next token is chosen from the logits z (V).
    public enum Sampling: Sendable, Equatable {
        /// argmax_v z_v (the first of equal maxima).
        case greedy
        /// A draw from softmax(z / temperature); temperature > 0, smaller is greedier.
        case temperature(Float)
    }

    /// Feeds tokens to the model a few at a time and keeps each layer's keys and values, so
    /// the logits of every new position cost one position's work per layer.
    ///
    /// Feeding the tokens of a sequence in pieces of any size gives the logits that
    /// `model(tokens, ...)` gives on the whole sequence (to float rounding). Runs as in
    /// evaluation mode (no dropout) and records nothing for gradients.
    public final class Stepper {
        /// The model decoded; its parameters are read at every step.
        public let model: TransformerLanguageModel
        /// B, the sequences decoded side by side.
        public let batchSize: Int
        /// One key/value cache per layer.
        public let caches: [KeyValueCache]

        /// A stepper at position 0 for `batchSize` sequences.
        public init(model: TransformerLanguageModel, batchSize: Int = 1) {
            precondition(batchSize >= 1, "TransformerLanguageModel.Stepper: batchSize must be at least 1, got \(batchSize)")
            self.model = model
            self.batchSize = batchSize
            caches = model.encoder.makeCaches()
        }

        /// The number of positions fed so far (the position of the next token).
        public var position: Int { caches[0].length }

        /// Forgets every position: the next token is at position 0.
        public func reset() {
            for cache in caches { cache.reset() }
        }

        /// Feeds n tokens of each sequence at positions `position..<position + n`.
        ///
        /// - Parameters:
        ///   - tokens: B * n ids, row-major (B, n).
        ///   - count: n.
        /// - Returns: logits (B, n, V).
        /// - Throws: `SequentError` for a token out of range, a count that does not fit, or
        ///   positions past `maxLength` (call `reset()`, or re-feed a shorter context).
        public func step(tokens: [Int], count n: Int) throws(SequentError) -> Tensor {
            let start = position
            guard start + n <= model.maxLength else {
                throw .invalidArgument("TransformerLanguageModel.Stepper", "positions \(start)..<\(start + n) exceed maxLength \(model.maxLength); reset the stepper or feed a shorter context")
            }
            let result = withoutGradients {
                Result { () throws(SequentError) -> Tensor in
                    let h = try model.embedding(tokens, shape: [batchSize, n]) + model.positions(positions: start..<(start + n))
                    return model.head(model.finalNorm(try model.encoder(h, caches: caches)))
                }
            }
            return try result.get()
        }

        /// Feeds one token (batch size 1) and returns the next-token logits (V).
        public func step(token: Int) throws(SequentError) -> Tensor {
            guard batchSize == 1 else {
                throw .invalidArgument("TransformerLanguageModel.Stepper", "step(token:) needs batch size 1, this stepper has \(batchSize); use step(tokens:count:)")
            }
            return try step(tokens: [token], count: 1).reshaped(to: [model.vocabularySize])
        }
    }

    /// Continues `prompt` by `count` tokens, each chosen by `sampling` from the logits after
    /// the tokens before it, with a key/value cache (one prefill of the prompt, then one
    /// position per token).
    ///
    /// When the context reaches `maxLength` positions, the cache is rebuilt from the last
    /// maxLength / 2 tokens (a sliding window in two halves; learned positions cannot go
    /// further); a prompt longer than `maxLength` is cut to its last `maxLength` tokens.
    ///
    /// - Parameters:
    ///   - prompt: at least one token.
    ///   - count: the number of tokens to generate.
    ///   - sampling: `.greedy` or `.temperature(t)`.
    ///   - generator: the source of the draws (not advanced by greedy sampling).
    /// - Returns: the `count` new tokens.
    /// - Throws: `SequentError` for an empty prompt, a token out of range, or a temperature <= 0.
    public func generate(
        prompt: [Int], count: Int, sampling: Sampling = .greedy, using generator: inout RandomGenerator
    ) throws(SequentError) -> [Int] {
        guard !prompt.isEmpty else { throw .invalidArgument("TransformerLanguageModel.generate", "the prompt must hold at least one token") }
        if case .temperature(let t) = sampling, !(t > 0) {
            throw .invalidArgument("TransformerLanguageModel.generate", "temperature must be positive, got \(t)")
        }
        let stepper = Stepper(model: self)
        var context = Array(prompt.suffix(maxLength))
        var logits = try stepper.step(tokens: context, count: context.count).scalars.suffix(vocabularySize)
        var output: [Int] = []
        output.reserveCapacity(count)
        while output.count < count {
            let next = Self.choose(Array(logits), sampling: sampling, using: &generator)
            output.append(next)
            context.append(next)
            guard output.count < count else { break }
            if stepper.position == maxLength {
                context = Array(context.suffix(max(1, maxLength / 2)))
                stepper.reset()
                logits = try stepper.step(tokens: context, count: context.count).scalars.suffix(vocabularySize)
            } else {
                logits = try stepper.step(token: next).scalars[...]
            }
        }
        return output
    }

    /// The token `sampling` picks from logits z (V).
    static func choose(_ logits: [Float], sampling: Sampling, using generator: inout RandomGenerator) -> Int {
        switch sampling {
        case .greedy:
            var best = 0
            for v in logits.indices where logits[v] > logits[best] { best = v }
            return best
        case .temperature(let temperature):
            // p_v = exp((z_v - max z) / t) / sum; invert the cumulative sum at u ~ U[0, 1).
            let top = logits.max()!
            let weights = logits.map { Foundation.exp(Double(($0 - top) / temperature)) }
            let u = Double(generator.nextUniform()) * weights.reduce(0, +)
            var cumulative = 0.0
            for (v, w) in weights.enumerated() {
                cumulative += w
                if u < cumulative { return v }
            }
            return logits.count - 1
        }
    }
}
