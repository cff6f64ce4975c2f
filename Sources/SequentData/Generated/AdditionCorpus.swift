import Foundation
import SequentTensor

/// The demo's data: sums of two numbers written as text, `"37+48=85;"`, one after another.
///
/// The operands are random, so a model can predict them no better than chance; the answer
/// after `=` is determined by them, so the loss on the answer characters falls toward 0 only
/// if the model learns to add, carries included. A fraction of all (a, b) pairs is held out
/// of training: validation text and the answer test use only those, so a good score means
/// the model adds, not that it memorised the sums it saw.
public struct AdditionCorpus {
    /// The symbols, in token order: the ten digits, then `+`, `=`, `;`.
    public static let symbols: [Character] = Array("0123456789+=;")
    public static let plus = 10, equals = 11, separator = 12

    /// The largest operand (operands are 0...maxOperand).
    public let maxOperand: Int
    /// The pairs training text is drawn from.
    public let trainingPairs: [(a: Int, b: Int)]
    /// The pairs never seen in training: validation text and the answer test.
    public let heldOutPairs: [(a: Int, b: Int)]

    /// Splits all pairs of operands in 0...maxOperand into training and held-out pairs.
    public init(maxOperand: Int = 99, heldOutFraction: Double = 0.1, generator: inout RandomGenerator) {
        self.maxOperand = maxOperand
        var pairs = (0...maxOperand).flatMap { a in (0...maxOperand).map { b in (a: a, b: b) } }
        pairs.shuffle(using: &generator)
        let heldOutCount = Int((Double(pairs.count) * heldOutFraction).rounded())
        heldOutPairs = Array(pairs[..<heldOutCount])
        trainingPairs = Array(pairs[heldOutCount...])
    }

    /// "a+b=" as tokens.
    public static func prompt(_ a: Int, _ b: Int) -> [Int] { encode("\(a)+\(b)=") }

    /// "a+b=c;" as tokens.
    public static func sum(_ a: Int, _ b: Int) -> [Int] { encode("\(a)+\(b)=\(a + b);") }

    /// The tokens of `text`, which must use only `symbols`.
    public static func encode(_ text: String) -> [Int] {
        text.map { symbols.firstIndex(of: $0)! }
    }

    /// The text of `tokens`.
    public static func decode(_ tokens: [Int]) -> String {
        String(tokens.map { symbols[$0] })
    }

    /// Random sums from `pairs` joined into one stream of at least `length` tokens, with a
    /// flag per token telling whether it is part of an answer (the digits after `=` and
    /// the `;` that ends them).
    public static func stream(
        from pairs: [(a: Int, b: Int)], length: Int, generator: inout RandomGenerator
    ) -> (tokens: [Int], isAnswer: [Bool]) {
        var tokens: [Int] = [], isAnswer: [Bool] = []
        tokens.reserveCapacity(length + 10)
        while tokens.count < length {
            let (a, b) = pairs[Int.random(in: 0..<pairs.count, using: &generator)]
            let sum = Self.sum(a, b)
            let answerStart = sum.firstIndex(of: equals)! + 1
            tokens += sum
            isAnswer += sum.indices.map { $0 >= answerStart }
        }
        return (tokens, isAnswer)
    }

    /// The lowest loss per character any model can reach on a stream of sums of uniformly
    /// random operands: each operand is worth ln(maxOperand + 1) nats (the `+` and `=` that
    /// end it included), everything else is determined, so the floor is
    /// 2 ln(maxOperand + 1) / the mean length of a sum.
    public var entropyFloor: Double {
        let n = maxOperand + 1
        var totalLength = 0
        for a in 0..<n { for b in 0..<n { totalLength += "\(a)+\(b)=\(a + b);".count } }
        return 2 * log(Double(n)) / (Double(totalLength) / Double(n * n))
    }
}
