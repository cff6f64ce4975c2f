import Foundation
import SequentTensor

/// Chooses the next token from a model's logits: greedy, or a draw at a temperature from
/// the top-k and nucleus (top-p) filtered distribution (Holtzman et al., 2020), as Hugging
/// Face's `generate(do_sample=True, temperature, top_k, top_p)`:
///
///     p = softmax(z / temperature)
///     keep the k most probable tokens (top-k), then the fewest most probable whose
///     probabilities sum to at least top-p (the most probable always kept); renormalise; draw.
///
/// Temperature 0 is greedy (argmax, the first of equal maxima). Ties in the sort are broken by
/// the smaller id, so a seed gives the same text on every machine.
public struct TokenSampler: Sendable {
    /// 0 for greedy, else > 0.
    public let temperature: Float
    /// Keep this many most probable tokens; nil for all.
    public let topK: Int?
    /// Keep the smallest set of probability at least this, in (0, 1]; nil for 1.
    public let topP: Float?
    /// The source of the draws.
    public var generator: RandomGenerator

    /// - Throws: `SequentError.invalidArgument` naming the flag: a temperature that is negative
    ///   or not finite, a top-k below 1, a top-p outside (0, 1].
    public init(temperature: Float, topK: Int? = nil, topP: Float? = nil, seed: UInt64) throws {
        guard temperature.isFinite, temperature >= 0 else {
            throw SequentError.invalidArgument("--temperature", "must be 0 (greedy) or positive, got \(temperature)")
        }
        if let topK, topK < 1 {
            throw SequentError.invalidArgument("--top-k", "must be at least 1, got \(topK)")
        }
        if let topP, !(topP > 0 && topP <= 1) {
            throw SequentError.invalidArgument("--top-p", "must be in (0, 1] (the probability mass kept; 0 would keep no token), got \(topP)")
        }
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.generator = RandomGenerator(seed: seed)
    }

    /// The next token for `logits` (V).
    public mutating func sample(_ logits: [Float]) -> Int {
        guard !logits.isEmpty else { return 0 }
        var best = 0
        for v in logits.indices where logits[v] > logits[best] { best = v }
        guard temperature > 0 else { return best }
        // Probabilities at the temperature, in Double.
        let scale = Double(1 / temperature)
        let maximum = Double(logits[best])
        var candidates: [(id: Int, p: Double)] = logits.indices.map { ($0, exp((Double(logits[$0]) - maximum) * scale)) }
        let needsSort = topK.map { $0 < logits.count } ?? false || (topP.map { $0 < 1 } ?? false)
        if needsSort {
            candidates.sort { $0.p != $1.p ? $0.p > $1.p : $0.id < $1.id }
            if let topK, topK < candidates.count { candidates.removeLast(candidates.count - topK) }
            if let topP, topP < 1 {
                let total = candidates.reduce(0) { $0 + $1.p }
                var kept = 0
                var mass = 0.0
                while kept < candidates.count {
                    mass += candidates[kept].p
                    kept += 1
                    if mass >= Double(topP) * total { break }
                }
                candidates.removeLast(candidates.count - kept)
            }
        }
        let total = candidates.reduce(0) { $0 + $1.p }
        let u = Double(generator.next() >> 11) * 0x1p-53 * total
        var cumulative = 0.0
        for candidate in candidates {
            cumulative += candidate.p
            if u < cumulative { return candidate.id }
        }
        return candidates.last?.id ?? best
    }
}

/// Turns a stream of UTF-8 bytes into text as soon as each character is complete, for
/// printing tokens as they come (a byte-level token may end inside a character).
public struct UTF8Stream: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// Adds `bytes` and returns the text of every complete character so far (U+FFFD for
    /// bytes that can never form one).
    public mutating func append(_ bytes: [UInt8]) -> String {
        pending += bytes
        // Keep back an incomplete sequence at the end (at most 3 bytes).
        var end = pending.count
        var back = 0
        while back < min(3, pending.count) {
            let b = pending[pending.count - 1 - back]
            if b & 0xC0 == 0x80 { back += 1; continue }
            let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            if length > back + 1 { end = pending.count - 1 - back }
            break
        }
        let text = String(decoding: pending[..<end], as: UTF8.self)
        pending.removeFirst(end)
        return text
    }

    /// The text of whatever bytes remain.
    public mutating func finish() -> String {
        defer { pending = [] }
        return String(decoding: pending, as: UTF8.self)
    }
}
