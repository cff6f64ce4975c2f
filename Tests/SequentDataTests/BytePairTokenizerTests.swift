import Foundation
import SequentTensor
@testable import SequentData
import XCTest

/// `BytePairTokenizer`: exact round trips on any UTF-8, determinism, the merges it learns on
/// a small corpus, pre-tokenization, JSON round trip, and speed.
final class BytePairTokenizerTests: XCTestCase {
    private static let corpus = TokenizerTexts.prose(bytes: 60_000, seed: 7) + TokenizerTexts.samples.joined()

    func testRoundTripsAnyUTF8() throws {
        let tokenizer = try BytePairTokenizer.train(on: Self.corpus, vocabularySize: 360)
        XCTAssertEqual(tokenizer.vocabularySize, 360)
        for text in TokenizerTexts.samples + [TokenizerTexts.random(count: 20_000, seed: 11), ""] {
            let ids = try tokenizer.encode(text)
            XCTAssertEqual(tokenizer.decode(ids), text)
            XCTAssertTrue(ids.allSatisfy { (0..<360).contains($0) })
        }
        // Merges compress the text they were learned on.
        let ids = try tokenizer.encode(Self.corpus)
        XCTAssertLessThan(Double(ids.count), 0.5 * Double(Self.corpus.utf8.count))
    }

    func testTrainingIsDeterministic() throws {
        let a = try BytePairTokenizer.train(on: Self.corpus, vocabularySize: 330)
        let b = try BytePairTokenizer.train(on: Self.corpus, vocabularySize: 330)
        XCTAssertEqual(a.merges, b.merges)
    }

    func testLearnsTheMostFrequentPairFirstWithTiesToTheSmallerPair() throws {
        let tokenizer = try BytePairTokenizer.train(on: "ab ab ab cd cd", vocabularySize: 259)
        let a = Int(UInt8(ascii: "a")), b = Int(UInt8(ascii: "b")), space = 32
        // Chunks "ab", " ab" x2, " cd" x2: (a,b) occurs 3 times and is merged first (256);
        // then (32,256), (32,99) and (99,100) occur twice each, and the tie goes to the
        // smaller pair of ids, (32,99); then (32,256) beats (257,100).
        XCTAssertEqual(tokenizer.merges, [.init(a, b), .init(space, 99), .init(space, 256)])
        XCTAssertEqual(try tokenizer.encode("ab ab"), [256, 258])
    }

    func testIncrementalCountsLearnTheMergesOfRecounting() throws {
        // Prose, every sample script, runs of one letter (overlapping pairs such as (a, a))
        // and a vocabulary large enough that words merge whole and the counts run low.
        let text = Self.corpus + " aaaa aaa aaaaaaa bbbbbb ab ab abab aabb " + TokenizerTexts.random(count: 3_000, seed: 5)
        for size in [300, 1_200, 4_000] {
            let incremental = try BytePairTokenizer.train(on: text, vocabularySize: size)
            let recounted = try BytePairTokenizer.trainByRecounting(on: text, vocabularySize: size)
            XCTAssertEqual(incremental.merges, recounted.merges, "vocabulary \(size)")
        }
    }

    func testStopsWhenNoPairRepeats() throws {
        let tokenizer = try BytePairTokenizer.train(on: "abcdef", vocabularySize: 1000)
        XCTAssertEqual(tokenizer.vocabularySize, 256)
        XCTAssertThrowsError(try BytePairTokenizer.train(on: "abc", vocabularySize: 100))
    }

    func testChunksKeepOneLeadingSpaceAndSplitClasses() {
        var chunks: [String] = []
        BytePairTokenizer.forEachChunk(Array("Hello,  world 42!\n\nok".utf8)) { chunks.append(String(decoding: $0, as: UTF8.self)) }
        XCTAssertEqual(chunks, ["Hello", ",", " ", " world", " 42", "!", "\n\n", "ok"])
    }

    func testJSONRoundTripAndBadMerges() throws {
        let tokenizer = try BytePairTokenizer.train(on: Self.corpus, vocabularySize: 300)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bpe-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try tokenizer.save(to: url)
        let loaded = try loadTokenizer(from: url)
        XCTAssertEqual(loaded.kind, .bpe)
        XCTAssertEqual(try loaded.encode(Self.corpus), try tokenizer.encode(Self.corpus))
        XCTAssertThrowsError(try BytePairTokenizer(merges: [.init(1, 300)]))
        XCTAssertThrowsError(try BytePairTokenizer(merges: [.init(1, 2), .init(1, 2)]))
    }

    #if !DEBUG
    func testEncodesOneMegabyteWellUnderASecond() throws {
        let tokenizer = try BytePairTokenizer.train(on: Self.corpus, vocabularySize: 512)
        let text = TokenizerTexts.prose(bytes: 1_000_000, seed: 2)
        let start = Date()
        let ids = try tokenizer.encode(text)
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(tokenizer.decode(ids), text)
        XCTAssertLessThan(seconds, 0.5, "encoding 1 MB took \(seconds) s")
    }
    #endif
}
