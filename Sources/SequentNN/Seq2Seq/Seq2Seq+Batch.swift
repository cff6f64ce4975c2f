import SequentTensor

extension Seq2Seq {
    /// A batch of token sequences padded to one length: tokens (B, T) row-major and the
    /// length of each sequence. Tokens past a sequence's length are padding: the model never
    /// reads them (they need not be valid token ids).
    public struct Batch: Sendable, Equatable {
        /// B * T token ids, row-major (B, T): sequence b is `tokens[b*T ..< b*T + lengths[b]]`.
        public let tokens: [Int]
        /// The length of each sequence, in 1...T.
        public let lengths: [Int]
        /// T: the padded length.
        public let time: Int

        /// B.
        public var batchSize: Int { lengths.count }

        /// A batch from padded tokens and lengths.
        ///
        /// - Throws: `SequentError` for an empty batch, a count that is not B * T, or a
        ///   length outside 1...T.
        public init(tokens: [Int], lengths: [Int], time: Int) throws(SequentError) {
            guard !lengths.isEmpty else { throw .invalidArgument("Seq2Seq.Batch", "the batch is empty") }
            guard time >= 1, tokens.count == lengths.count * time else {
                throw .shapeMismatch("Seq2Seq.Batch", "\(tokens.count) tokens do not fill \(lengths.count) sequences of \(time) steps")
            }
            if let b = lengths.firstIndex(where: { $0 < 1 || $0 > time }) {
                throw .invalidArgument("Seq2Seq.Batch", "length \(lengths[b]) of sequence \(b) is outside 1...\(time)")
            }
            self.tokens = tokens
            self.lengths = lengths
            self.time = time
        }

        /// A batch of the given sequences, padded with `padding` to the longest.
        ///
        /// - Throws: `SequentError` for an empty batch or an empty sequence.
        public init(_ sequences: [[Int]], padding: Int = 0) throws(SequentError) {
            if let b = sequences.firstIndex(where: \.isEmpty) {
                throw .invalidArgument("Seq2Seq.Batch", "sequence \(b) is empty")
            }
            let time = sequences.map(\.count).max() ?? 0
            try self.init(tokens: sequences.flatMap { $0 + Array(repeating: padding, count: time - $0.count) },
                          lengths: sequences.map(\.count), time: max(time, 1))
        }

        /// Sequence b without its padding.
        public func sequence(_ b: Int) -> [Int] {
            Array(tokens[(b * time)..<(b * time + lengths[b])])
        }

        /// The tokens with padding replaced by `filler`, after checking that every real token
        /// is in 0..<vocabularySize.
        ///
        /// - Throws: `SequentError` naming `model`, the `role` and the (b, t) of a bad token.
        func checkedTokens(vocabularySize: Int, role: String, filler: Int, model: String) throws -> [Int] {
            var checked = tokens
            for b in 0..<batchSize {
                for t in 0..<time {
                    let index = b * time + t
                    if t >= lengths[b] {
                        checked[index] = filler
                    } else if checked[index] < 0 || checked[index] >= vocabularySize {
                        throw SequentError.invalidArgument(model, "\(role) token \(checked[index]) at (\(b), \(t)) is outside the vocabulary 0..<\(vocabularySize)")
                    }
                }
            }
            return checked
        }

        /// Teacher forcing's decoder inputs for this batch as the target, (B, T) row-major:
        /// y_0 = begin, then the target shifted right by one (padding read as `beginToken`),
        /// after checking the tokens as `checkedTokens` does.
        func decoderInputs(beginToken: Int, vocabularySize: Int, model: String) throws -> [Int] {
            let targetTokens = try checkedTokens(vocabularySize: vocabularySize, role: "target", filler: beginToken, model: model)
            var inputs = [Int](repeating: beginToken, count: batchSize * time)
            for b in 0..<batchSize { for t in 1..<max(time, 1) { inputs[b * time + t] = targetTokens[b * time + t - 1] } }
            return inputs
        }

        /// (B, T): 1 at padding (t >= length), 0 inside a sequence, as attention masks are.
        public var paddingMask: Tensor {
            Tensor(shape: [batchSize, time], scalars: lengths.flatMap { length in (0..<time).map { $0 >= length ? 1 : 0 } })
        }
    }
}
