import Foundation
import SequentTensor

/// Byte-level byte-pair encoding (Sennrich et al., 2016; GPT-2's byte-level variant): the
/// 256 byte values are tokens 0...255, and each merge learned from the corpus makes one more
/// token out of two adjacent ones.
///
/// **Pre-tokenization.** Merges never cross the boundaries of chunks: a chunk is a run of
/// letters (ASCII letters and every byte of a non-ASCII character), of digits, or of other
/// visible ASCII characters, each with at most one leading space; or a run of one
/// whitespace byte repeated (the last space of a run before a word goes with the word). So
/// `" the"` and `" the,"` share the token of `" the"`.
///
/// **Training** (`train(on:vocabularySize:)`): count the chunks; repeatedly merge the
/// adjacent pair with the highest count over all chunks (ties: the smaller pair of ids),
/// until the vocabulary has the requested size or no pair occurs twice. Deterministic.
///
/// **Encoding** applies the merges to each chunk in the order they were learned (the pair
/// of lowest rank first), which gives the segmentation training made; `decode` concatenates
/// the tokens' bytes, so `decode(encode(text)) == text` for every text. Nothing is unknown.
public struct BytePairTokenizer: Tokenizer, Equatable {
    /// The merges in the order learned: merge i makes token 256 + i from `merges[i]`.
    public let merges: [Pair]
    /// Each token's bytes.
    private let tokenBytes: [[UInt8]]
    /// Pair (packed) -> rank (= index in `merges`).
    private let ranks: [UInt64: Int]

    /// Two adjacent tokens.
    public struct Pair: Hashable, Codable, Sendable {
        public var first: Int
        public var second: Int
        public init(_ first: Int, _ second: Int) {
            self.first = first
            self.second = second
        }
        var packed: UInt64 { UInt64(first) << 32 | UInt64(second) }
    }

    public var kind: TokenizerKind { .bpe }
    public var vocabularySize: Int { 256 + merges.count }
    public var unknownID: Int? { nil }

    /// A tokenizer with `merges`.
    ///
    /// - Throws: `SequentError.invalidArgument` for a merge of a token not yet defined.
    public init(merges: [Pair]) throws {
        var tokenBytes = (0..<256).map { [UInt8($0)] }
        var ranks: [UInt64: Int] = [:]
        for (rank, pair) in merges.enumerated() {
            let limit = 256 + rank
            guard (0..<limit).contains(pair.first), (0..<limit).contains(pair.second) else {
                throw SequentError.invalidArgument("bpe tokenizer", "merge \(rank) joins tokens \(pair.first) and \(pair.second), but only 0..<\(limit) exist before it")
            }
            guard ranks[pair.packed] == nil else {
                throw SequentError.invalidArgument("bpe tokenizer", "merge \(rank) repeats the pair (\(pair.first), \(pair.second))")
            }
            ranks[pair.packed] = rank
            tokenBytes.append(tokenBytes[pair.first] + tokenBytes[pair.second])
        }
        self.merges = merges
        self.tokenBytes = tokenBytes
        self.ranks = ranks
    }

    /// Learns merges from `text` until the vocabulary has `vocabularySize` tokens (or no
    /// pair occurs twice): each time the most frequent adjacent pair (ties: the smaller
    /// pair, first token then second) becomes a new token.
    ///
    /// The pair counts are kept up to date as merges rewrite words, not recounted: a merge
    /// visits only the words that hold its pair (Sennrich's `learn_bpe.py` does the same),
    /// and the most frequent pair comes from a heap of counts. The merges are those of
    /// recounting every pair of every word before each merge (`trainByRecounting`).
    ///
    /// - Throws: `SequentError.invalidArgument` for a size below 256 or above 65,536.
    public static func train(on text: String, vocabularySize: Int) throws -> BytePairTokenizer {
        try checkVocabularySize(vocabularySize)
        let chunks = distinctChunks(text)
        var words = chunks.words
        let counts = chunks.counts
        func key(_ first: Int, _ second: Int) -> UInt64 { UInt64(first) << 32 | UInt64(second) }
        // Occurrences of each pair weighted by its word's count, and the words that hold it
        // (or once held it: a word that lost the pair is skipped when met).
        var pairCounts: [UInt64: Int] = [:]
        var pairWords: [UInt64: [Int]] = [:]
        for w in words.indices where words[w].count > 1 {
            for i in 0..<(words[w].count - 1) {
                let k = key(words[w][i], words[w][i + 1])
                pairCounts[k, default: 0] += counts[w]
                pairWords[k, default: []].append(w)
            }
        }
        var heap = PairHeap()
        for (k, count) in pairCounts { heap.push(count: count, key: k) }

        var merges: [Pair] = []
        while 256 + merges.count < vocabularySize {
            // The top entry is current unless its pair's count changed after it was pushed.
            guard let best = heap.popCurrent(counts: pairCounts), best.count >= 2 else { break }
            let pair = Pair(Int(best.key >> 32), Int(best.key & 0xFFFF_FFFF))
            let newToken = 256 + merges.count
            merges.append(pair)
            var changed = Set<UInt64>()
            var visited = Set<Int>()
            for w in pairWords.removeValue(forKey: best.key) ?? [] where visited.insert(w).inserted {
                let old = words[w]
                guard (0..<(old.count - 1)).contains(where: { old[$0] == pair.first && old[$0 + 1] == pair.second }) else { continue }
                let new = merge(old, pair, into: newToken)
                for i in 0..<(old.count - 1) {
                    let k = key(old[i], old[i + 1])
                    pairCounts[k]! -= counts[w]
                    changed.insert(k)
                }
                for i in 0..<max(0, new.count - 1) {
                    let k = key(new[i], new[i + 1])
                    pairCounts[k, default: 0] += counts[w]
                    changed.insert(k)
                    if new[i] == newToken || new[i + 1] == newToken { pairWords[k, default: []].append(w) }
                }
                words[w] = new
            }
            for k in changed {
                let count = pairCounts[k] ?? 0
                if count == 0 { pairCounts[k] = nil } else { heap.push(count: count, key: k) }
            }
        }
        return try BytePairTokenizer(merges: merges)
    }

    /// `train(on:vocabularySize:)` by its definition, recounting every pair of every word
    /// before each merge: the reference the tests hold the incremental learner to.
    static func trainByRecounting(on text: String, vocabularySize: Int) throws -> BytePairTokenizer {
        try checkVocabularySize(vocabularySize)
        let chunks = distinctChunks(text)
        var words = chunks.words
        let counts = chunks.counts
        var merges: [Pair] = []
        var pairCounts: [UInt64: Int] = [:]
        while 256 + merges.count < vocabularySize {
            pairCounts.removeAll(keepingCapacity: true)
            for (word, count) in zip(words, counts) where word.count > 1 {
                for i in 0..<(word.count - 1) {
                    pairCounts[UInt64(word[i]) << 32 | UInt64(word[i + 1]), default: 0] += count
                }
            }
            var best: (key: UInt64, count: Int)?
            for (key, count) in pairCounts where count >= 2 {
                if let current = best, count < current.count || (count == current.count && key > current.key) { continue }
                best = (key, count)
            }
            guard let best else { break }
            let pair = Pair(Int(best.key >> 32), Int(best.key & 0xFFFF_FFFF))
            let newToken = 256 + merges.count
            merges.append(pair)
            for w in words.indices where words[w].count > 1 {
                words[w] = merge(words[w], pair, into: newToken)
            }
        }
        return try BytePairTokenizer(merges: merges)
    }

    private static func checkVocabularySize(_ vocabularySize: Int) throws {
        guard (256...65_536).contains(vocabularySize) else {
            throw SequentError.invalidArgument("bpe tokenizer", "the vocabulary size must be in 256...65536 (256 byte tokens plus merges), got \(vocabularySize)")
        }
    }

    /// The distinct chunks of `text` as byte tokens, with their counts, in first-seen order
    /// (deterministic).
    private static func distinctChunks(_ text: String) -> (words: [[Int]], counts: [Int]) {
        var chunkIndex: [ArraySlice<UInt8>: Int] = [:]
        var words: [[Int]] = []
        var counts: [Int] = []
        forEachChunk(Array(text.utf8)) { chunk in
            if let index = chunkIndex[chunk] {
                counts[index] += 1
            } else {
                chunkIndex[chunk] = words.count
                words.append(chunk.map(Int.init))
                counts.append(1)
            }
        }
        return (words, counts)
    }

    /// A max-heap of (count, pair) entries, the larger count first and, between equal
    /// counts, the smaller pair. Entries are never updated: a changed count is pushed anew,
    /// and stale entries are dropped when they reach the top.
    private struct PairHeap {
        private var entries: [(count: Int, key: UInt64)] = []

        private static func before(_ a: (count: Int, key: UInt64), _ b: (count: Int, key: UInt64)) -> Bool {
            a.count > b.count || (a.count == b.count && a.key < b.key)
        }

        mutating func push(count: Int, key: UInt64) {
            entries.append((count, key))
            var child = entries.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard Self.before(entries[child], entries[parent]) else { break }
                entries.swapAt(child, parent)
                child = parent
            }
        }

        private mutating func pop() -> (count: Int, key: UInt64)? {
            guard let top = entries.first else { return nil }
            let last = entries.removeLast()
            if !entries.isEmpty {
                entries[0] = last
                var parent = 0
                while true {
                    let left = 2 * parent + 1, right = left + 1
                    var first = parent
                    if left < entries.count, Self.before(entries[left], entries[first]) { first = left }
                    if right < entries.count, Self.before(entries[right], entries[first]) { first = right }
                    if first == parent { break }
                    entries.swapAt(parent, first)
                    parent = first
                }
            }
            return top
        }

        /// Pops entries until one holds its pair's current count, and returns it.
        mutating func popCurrent(counts: [UInt64: Int]) -> (count: Int, key: UInt64)? {
            while let top = pop() {
                if counts[top.key] == top.count { return top }
            }
            return nil
        }
    }

    /// `word` with every occurrence of `pair` (left to right) replaced by `token`.
    private static func merge(_ word: [Int], _ pair: Pair, into token: Int) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(word.count)
        var i = 0
        while i < word.count {
            if i + 1 < word.count, word[i] == pair.first, word[i + 1] == pair.second {
                result.append(token)
                i += 2
            } else {
                result.append(word[i])
                i += 1
            }
        }
        return result
    }

    public func encode(_ text: String) throws -> [Int] {
        let bytes = Array(text.utf8)
        var result: [Int] = []
        result.reserveCapacity(bytes.count / 2)
        var cache: [ArraySlice<UInt8>: [Int]] = [:]
        Self.forEachChunk(bytes) { chunk in
            if let known = cache[chunk] {
                result.append(contentsOf: known)
                return
            }
            let tokens = encodeChunk(chunk)
            cache[chunk] = tokens
            result.append(contentsOf: tokens)
        }
        return result
    }

    /// Applies the merges to one chunk, lowest rank first.
    private func encodeChunk(_ chunk: ArraySlice<UInt8>) -> [Int] {
        var word = chunk.map(Int.init)
        while word.count > 1 {
            var bestRank = Int.max
            for i in 0..<(word.count - 1) {
                if let rank = ranks[UInt64(word[i]) << 32 | UInt64(word[i + 1])], rank < bestRank { bestRank = rank }
            }
            guard bestRank != Int.max else { break }
            word = Self.merge(word, merges[bestRank], into: 256 + bestRank)
        }
        return word
    }

    public func appendBytes(of token: Int, after previous: Int?, to bytes: inout [UInt8]) {
        guard tokenBytes.indices.contains(token) else { return }
        bytes.append(contentsOf: tokenBytes[token])
    }

    public func displayName(of token: Int) -> String {
        guard tokenBytes.indices.contains(token) else { return "<\(token)?>" }
        let bytes = tokenBytes[token]
        if TextFiles.firstInvalidByte(bytes) == nil { return visible(String(decoding: bytes, as: UTF8.self)) }
        return bytes.map { "<0x\(String($0, radix: 16, uppercase: true))>" }.joined()
    }

    /// The byte classes of pre-tokenization.
    private enum ByteClass { case letter, digit, space, other }

    private static func byteClass(_ b: UInt8) -> ByteClass {
        switch b {
        case 0x41...0x5A, 0x61...0x7A, 0x80...0xFF: return .letter
        case 0x30...0x39: return .digit
        case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D: return .space
        default: return .other
        }
    }

    /// Calls `body` with each chunk of `bytes` in order (see the type's documentation).
    static func forEachChunk(_ bytes: [UInt8], _ body: (ArraySlice<UInt8>) -> Void) {
        let n = bytes.count
        var i = 0
        while i < n {
            let start = i
            var kind = byteClass(bytes[i])
            if bytes[i] == 0x20, i + 1 < n, byteClass(bytes[i + 1]) != .space {
                // One space leading a word, number or punctuation run.
                i += 1
                kind = byteClass(bytes[i])
            } else if kind == .space {
                // A run of one whitespace byte, leaving a final space to the word after it.
                let b = bytes[i]
                while i < n, bytes[i] == b { i += 1 }
                if b == 0x20, i < n, i - start > 1, byteClass(bytes[i]) != .space { i -= 1 }
                body(bytes[start..<i])
                continue
            }
            i += 1
            while i < n, byteClass(bytes[i]) == kind { i += 1 }
            body(bytes[start..<i])
        }
    }

    // MARK: - tokenizer.json

    private struct JSON: Codable {
        var type: TokenizerKind
        /// Merge i makes token 256 + i from the two ids.
        var merges: [[Int]]
        /// Each token's text (bytes that are not UTF-8 written as <0x..>), for reading only.
        var vocabulary: [String]?
    }

    public func jsonData() throws -> Data {
        try encodeTokenizerJSON(JSON(
            type: .bpe, merges: merges.map { [$0.first, $0.second] },
            vocabulary: (0..<vocabularySize).map { displayName(of: $0) }))
    }

    /// Reads the JSON written by `jsonData()` (only `merges` matters).
    public init(jsonData: Data) throws {
        let json = try JSONDecoder().decode(JSON.self, from: jsonData)
        var merges: [Pair] = []
        for (rank, pair) in json.merges.enumerated() {
            guard pair.count == 2 else {
                throw SequentError.invalidArgument("bpe tokenizer", "merge \(rank) has \(pair.count) ids, not 2")
            }
            merges.append(Pair(pair[0], pair[1]))
        }
        try self.init(merges: merges)
    }

    public static func == (a: BytePairTokenizer, b: BytePairTokenizer) -> Bool { a.merges == b.merges }
}
