import Foundation
import SequentTensor

/// The adding problem (Hochreiter and Schmidhuber, 1997; the variant of Le et al., 2015):
/// each step carries a value in [0, 1) and a marker; exactly two steps are marked, one in
/// each half of the sequence, and the target is the sum of their values.
///
/// Predicting the constant 1 (the mean sum) gives MSE Var(u1 + u2) = 2/12 = 0.1667: the
/// baseline a model must beat by remembering across up to T steps.
public struct AddingProblem: Sendable {
    /// T, the sequence length.
    public let length: Int
    /// The MSE of always answering the mean: 1/6.
    public static let baselineMSE = 1.0 / 6.0

    public init(length: Int) { self.length = length }

    /// A batch: inputs (B, T, 2) as [value, marker] and targets (B, 1).
    public func batch(_ batchSize: Int, _ generator: inout RandomGenerator) -> (input: Tensor, target: Tensor) {
        let T = length
        var inputs = [Float](repeating: 0, count: batchSize * T * 2)
        var targets = [Float](repeating: 0, count: batchSize)
        let half = max(T / 2, 1)
        for b in 0..<batchSize {
            for t in 0..<T { inputs[(b * T + t) * 2] = generator.nextUniform() }
            let first = Int(generator.next() % UInt64(half))
            let second = T < 2 ? first : half + Int(generator.next() % UInt64(T - half))
            for t in Set([first, second]) {
                inputs[(b * T + t) * 2 + 1] = 1
                targets[b] += inputs[(b * T + t) * 2]
            }
        }
        return (Tensor(shape: [batchSize, T, 2], scalars: inputs), Tensor(shape: [batchSize, 1], scalars: targets))
    }
}

/// The copy-memory task (Hochreiter and Schmidhuber, 1997; as Arjovsky, Shah and Bengio, 2016
/// set it up: K = 10 symbols from S = 8 categories): K random symbols, a lag of T blanks (the
/// last one a delimiter), then K blanks during which the model must write the K symbols back.
///
/// Tokens: 0 blank, 1...S symbols, S+1 the delimiter; inputs one-hot (S+2 wide); the total
/// length is T + 2K. Accuracy counts the K recalled symbols. Writing blanks and then guessing
/// scores 1/S; the memoryless loss is K ln S / (T + 2K) nats per step.
public struct CopyMemoryTask: Sendable {
    /// T: the lag between the last symbol shown and the first asked for.
    public let lag: Int
    /// K: how many symbols to remember.
    public let symbolCount: Int
    /// S: the alphabet size.
    public let alphabetSize: Int

    public init(lag: Int, symbolCount: Int = 10, alphabetSize: Int = 8) {
        self.lag = lag
        self.symbolCount = symbolCount
        self.alphabetSize = alphabetSize
    }

    /// The one-hot width S + 2, and the class count of the output.
    public var tokenCount: Int { alphabetSize + 2 }
    /// T + 2K.
    public var totalLength: Int { lag + 2 * symbolCount }
    /// The cross-entropy per step of the best memoryless answer (blanks, then uniform
    /// guesses at the K recall steps): K ln S / (T + 2K) nats.
    public var baselineLoss: Double { Double(symbolCount) * Foundation.log(Double(alphabetSize)) / Double(totalLength) }

    /// A batch: one-hot inputs (B, T + 2K, S + 2) and target tokens (B * (T + 2K)), row-major.
    public func batch(_ batchSize: Int, _ generator: inout RandomGenerator) -> (input: Tensor, targets: [Int]) {
        let (L, K, V) = (totalLength, symbolCount, tokenCount)
        var inputs = [Float](repeating: 0, count: batchSize * L * V)
        var targets = [Int](repeating: 0, count: batchSize * L)
        for b in 0..<batchSize {
            var tokens = [Int](repeating: 0, count: L)
            for k in 0..<K {
                let symbol = 1 + Int(generator.next() % UInt64(alphabetSize))
                tokens[k] = symbol
                targets[b * L + L - K + k] = symbol
            }
            tokens[K + lag - 1] = alphabetSize + 1  // the delimiter: "write now"
            for t in 0..<L { inputs[(b * L + t) * V + tokens[t]] = 1 }
        }
        return (Tensor(shape: [batchSize, L, V], scalars: inputs), targets)
    }
}
