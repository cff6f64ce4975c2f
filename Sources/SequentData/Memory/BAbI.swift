import Foundation
import SequentTensor

/// One line of a bAbI story (Weston et al. 2015): a statement, or a question with its answer
/// and the ids of the statements that support it.
///
///     1 Mary moved to the bathroom.
///     2 John went to the hallway.
///     3 Where is Mary?<TAB>bathroom<TAB>1
public enum BAbILine: Equatable, Sendable {
    case statement(String)
    case question(String, answer: String, supporting: [Int])
}

/// A story: its lines in order; line k (from 1) has the id k, as in the files, where each
/// story restarts at 1.
public struct BAbIStory: Equatable, Sendable {
    public var lines: [BAbILine]
    public init(lines: [BAbILine]) { self.lines = lines }
}

/// A question with everything a model reads: the story's statements before it, tokenised.
public struct BAbIExample: Equatable, Sendable {
    /// The statements before the question, oldest first, each as lower-case words.
    public var story: [[String]]
    /// The question's words.
    public var question: [String]
    /// The answer, one token (a list answer such as `apple,football` is one token).
    public var answer: String
    /// Indices into `story` of the supporting statements.
    public var supporting: [Int]
}

/// Reads and writes the bAbI text format.
public enum BAbIFormat {
    /// The stories in `text`; `path` names the file in errors.
    ///
    /// - Throws: `SequentError.malformedFile` naming the file and line: a line without a
    ///   leading id, an id that is not the next one (or 1, starting a story), a question
    ///   without a tab-separated answer, or a supporting id that is not a statement before
    ///   the question.
    public static func parse(_ text: String, path: String) throws(SequentError) -> [BAbIStory] {
        var stories: [BAbIStory] = []
        var current: [BAbILine] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            func fail(_ detail: String) -> SequentError { .malformedFile("\(path):\(lineNumber)", detail) }
            guard let space = line.firstIndex(of: " "), let id = Int(line[..<space]), id >= 1 else {
                throw fail("expected `<id> <sentence>` with a positive id first, got \"\(line.prefix(60))\"")
            }
            if id == 1 {
                if !current.isEmpty { stories.append(BAbIStory(lines: current)) }
                current = []
            } else if id != current.count + 1 {
                throw fail("line id \(id) does not follow \(current.count) (ids count up from 1 in each story)")
            }
            let body = line[line.index(after: space)...]
            let fields = body.split(separator: "\t", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
            if fields.count == 1 {
                guard !fields[0].isEmpty else { throw fail("empty statement") }
                current.append(.statement(fields[0]))
                continue
            }
            guard fields.count >= 2, !fields[1].isEmpty else {
                throw fail("a question needs `<question>\\t<answer>\\t<supporting ids>`")
            }
            var supporting: [Int] = []
            if fields.count >= 3 {
                for token in fields[2].split(separator: " ") {
                    guard let fact = Int(token) else { throw fail("supporting id \"\(token)\" is not a number") }
                    guard fact >= 1, fact < id else {
                        throw fail("supporting id \(fact) points past the story (the question is line \(id) of its story)")
                    }
                    guard case .statement = current[fact - 1] else {
                        throw fail("supporting id \(fact) is a question, not a statement")
                    }
                    supporting.append(fact)
                }
            }
            current.append(.question(fields[0], answer: fields[1], supporting: supporting))
        }
        if !current.isEmpty { stories.append(BAbIStory(lines: current)) }
        return stories
    }

    /// Reads a bAbI file.
    ///
    /// - Throws: `SequentError.io` if it cannot be read, `.malformedFile` as `parse`.
    public static func read(_ url: URL) throws(SequentError) -> [BAbIStory] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw .io(url.path, "cannot be read (missing or unreadable)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw .malformedFile(url.path, "is not UTF-8 text") }
        return try parse(text, path: url.path)
    }

    /// The stories in the bAbI text format.
    public static func format(_ stories: [BAbIStory]) -> String {
        var out = ""
        for story in stories {
            for (index, line) in story.lines.enumerated() {
                switch line {
                case .statement(let text): out += "\(index + 1) \(text)\n"
                case .question(let text, let answer, let supporting):
                    out += "\(index + 1) \(text)\t\(answer)\t\(supporting.map(String.init).joined(separator: " "))\n"
                }
            }
        }
        return out
    }

    /// One example per question, with the statements before it (at most `memoryLimit`, the
    /// most recent, as Sukhbaatar et al. keep 50).
    public static func examples(_ stories: [BAbIStory], memoryLimit: Int = 50) -> [BAbIExample] {
        var examples: [BAbIExample] = []
        for story in stories {
            var statements: [(id: Int, words: [String])] = []
            for (index, line) in story.lines.enumerated() {
                switch line {
                case .statement(let text): statements.append((index + 1, tokens(text)))
                case .question(let text, let answer, let supporting):
                    let kept = Array(statements.suffix(memoryLimit))
                    let position = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1.id, $0) })
                    examples.append(BAbIExample(story: kept.map(\.words), question: tokens(text), answer: answer.lowercased(),
                                                supporting: supporting.compactMap { position[$0] }))
                }
            }
        }
        return examples
    }

    /// Lower-case words, with `.`, `?`, `,` and `!` removed.
    public static func tokens(_ text: String) -> [String] {
        text.lowercased().split(whereSeparator: { " .?!,".contains($0) }).map(String.init)
    }
}

/// Word ids of the bAbI examples: 0 is padding, then every word and answer in order of
/// first appearance.
public struct BAbIVocabulary: Codable, Equatable, Sendable {
    public private(set) var words: [String]
    private var ids: [String: Int]

    /// The vocabulary of `examples` (answers included, so the answer layer can share it).
    public init(_ examples: [BAbIExample]) {
        words = ["<pad>"]
        ids = ["<pad>": 0]
        for example in examples {
            for word in example.story.joined() + example.question + [example.answer] where ids[word] == nil {
                ids[word] = words.count
                words.append(word)
            }
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        words = try container.decode([String].self)
        ids = Dictionary(words.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(words)
    }

    public var count: Int { words.count }

    /// The id of `word`, or nil for a word never seen in training.
    public func id(_ word: String) -> Int? { ids[word] }
}

/// Memory-network batches: stories as (B, S, J) word ids, most recent sentence first, and
/// questions as (B, J).
public struct BAbIBatch: Sendable {
    /// (B, S, J) ids, 0 padding; memory 0 is the most recent statement.
    public var stories: [Int]
    /// (B, J).
    public var questions: [Int]
    /// (B).
    public var answers: [Int]
    /// (B, S): 1 where a memory holds a statement.
    public var memoryMask: [Float]
    /// Per example, the supporting statements as memory indices.
    public var supporting: [[Int]]
    public var batchSize: Int, memories: Int, sentenceLength: Int

    /// Packs `examples` with `memories` slots of `sentenceLength` words (longer stories keep
    /// their most recent statements, longer sentences their first words); unknown words map
    /// to padding.
    public init(_ examples: [BAbIExample], vocabulary: BAbIVocabulary, memories S: Int, sentenceLength J: Int) {
        var unused = RandomGenerator(seed: 0)
        self.init(examples, vocabulary: vocabulary, memories: S, sentenceLength: J, emptyMemoryProbability: 0, generator: &unused)
    }

    /// Packs `examples` as above, with Sukhbaatar et al.'s random noise: before each
    /// statement an empty (masked) memory is inserted with probability
    /// `emptyMemoryProbability`, so the temporal encoding cannot rely on exact distances.
    public init(_ examples: [BAbIExample], vocabulary: BAbIVocabulary, memories S: Int, sentenceLength J: Int,
                emptyMemoryProbability: Float, generator: inout RandomGenerator) {
        let B = examples.count
        (batchSize, memories, sentenceLength) = (B, S, J)
        stories = [Int](repeating: 0, count: B * S * J)
        questions = [Int](repeating: 0, count: B * J)
        answers = []
        memoryMask = [Float](repeating: 0, count: B * S)
        supporting = []
        for (b, example) in examples.enumerated() {
            let count = example.story.count
            var slotOf = [Int](repeating: S, count: count)   // S: not kept
            var slot = 0
            for age in 0..<count where slot < S {
                if emptyMemoryProbability > 0, generator.nextUniform() < emptyMemoryProbability { slot += 1 }
                guard slot < S else { break }
                let words = example.story[count - 1 - age]
                memoryMask[b * S + slot] = 1
                for (j, word) in words.prefix(J).enumerated() { stories[(b * S + slot) * J + j] = vocabulary.id(word) ?? 0 }
                slotOf[count - 1 - age] = slot
                slot += 1
            }
            for (j, word) in example.question.prefix(J).enumerated() { questions[b * J + j] = vocabulary.id(word) ?? 0 }
            answers.append(vocabulary.id(example.answer) ?? 0)
            supporting.append(example.supporting.map { slotOf[$0] }.filter { $0 < S })
        }
    }
}
