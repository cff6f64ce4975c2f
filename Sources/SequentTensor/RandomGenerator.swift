/// A seeded pseudo-random generator (xoshiro256**), the only source of randomness in Sequent.
///
/// There is no hidden global generator: initialisers, dropout and data shuffling take a
/// generator, so the same seed gives bitwise the same results on every run.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole sequence is determined by `seed`.
    public init(seed: UInt64) {
        // SplitMix64 spreads the seed over the four words of state.
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The four state words; `RandomGenerator(stateWords:)` continues the sequence bitwise
    /// (checkpoints save them to resume a run exactly).
    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    /// A generator continuing from saved state words (four, not all zero).
    public init(stateWords: [UInt64]) throws {
        guard stateWords.count == 4, stateWords.contains(where: { $0 != 0 }) else {
            throw SequentError(.invalidValue, "RandomGenerator: state must be four words, not all zero, got \(stateWords)")
        }
        state = (stateWords[0], stateWords[1], stateWords[2], stateWords[3])
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform Float in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A standard normal Float (Box-Muller on two uniforms).
    public mutating func nextNormal() -> Float {
        let u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let radius = (-2.0 * _log(1.0 - u1)).squareRoot()
        return Float(radius * _cos(2.0 * Double.pi * u2))
    }

    /// A new generator for a sub-task (a layer, a worker), advancing this one.
    public mutating func split() -> RandomGenerator {
        RandomGenerator(seed: next())
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif

/// The four 64-bit words of a xoshiro256** `RandomGenerator`, written in JSON as 16-digit
/// hexadecimal strings so that no JSON reader rounds them.
public struct RandomGeneratorState: Codable, Equatable, Sendable {
    /// The state words, in the generator's order.
    public var words: [UInt64]

    /// Wraps four state words.
    public init(words: [UInt64]) {
        self.words = words
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let texts = try container.decode([String].self)
        var words: [UInt64] = []
        for text in texts {
            guard text.count == 16, let word = UInt64(text, radix: 16) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "random generator state word '\(text)' is not 16 hexadecimal digits")
            }
            words.append(word)
        }
        guard words.count == 4, words.contains(where: { $0 != 0 }) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "a random generator state is four words, not all zero; got \(words.count)")
        }
        self.words = words
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(words.map { word in
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        })
    }
}
