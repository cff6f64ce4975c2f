import Foundation
import SequentTensor
@testable import SequentData
import XCTest

/// `WordTokenizer`: the split, the vocabulary by count and size, `<unk>`, decoding.
final class WordTokenizerTests: XCTestCase {
    private func tokens(_ text: String) -> [String] {
        var result: [String] = []
        WordTokenizer.split(text) { result.append(String($0)) }
        return result
    }

    func testSplitsWordsPunctuationAndLineBreaks() {
        XCTAssertEqual(tokens("Before we proceed, hear me speak.\n\nAll: don't o'er-run!"),
                       ["Before", "we", "proceed", ",", "hear", "me", "speak", ".", "\n", "\n", "All", ":", "don't", "o'er", "-", "run", "!"])
        XCTAssertEqual(tokens("café cafe\u{301} 1,234 日本語"), ["café", "cafe\u{301}", "1", ",", "234", "日本語"])
        XCTAssertEqual(tokens("  \t 'quoted' "), ["'", "quoted", "'"])
    }

    func testVocabularyByCountThenCodePointWithUnknownFirst() throws {
        let tokenizer = try WordTokenizer.train(on: "b a b c a b d")
        XCTAssertEqual(tokenizer.words, ["<unk>", "b", "a", "c", "d"])
        let limited = try WordTokenizer.train(on: "b a b c a b d", maximumVocabularySize: 3)
        XCTAssertEqual(limited.words, ["<unk>", "b", "a"])
        XCTAssertEqual(try limited.encode("a c b zebra"), [2, 0, 1, 0])
        let frequent = try WordTokenizer.train(on: "b a b c a b d", minimumCount: 2)
        XCTAssertEqual(frequent.words, ["<unk>", "b", "a"])
        XCTAssertEqual(frequent.unknownID, 0)
    }

    func testDecodeRestoresWordsAndLines() throws {
        let text = "First Citizen:\nBefore we proceed, hear me speak.\n(aside) Yes!\n"
        let tokenizer = try WordTokenizer.train(on: text)
        XCTAssertEqual(tokenizer.decode(try tokenizer.encode(text)), "First Citizen:\nBefore we proceed, hear me speak.\n(aside) Yes!\n")
    }

    func testJSONRoundTripAndErrors() throws {
        let tokenizer = try WordTokenizer.train(on: TokenizerTexts.samples.joined(separator: " "))
        XCTAssertEqual(try WordTokenizer(jsonData: try tokenizer.jsonData()), tokenizer)
        XCTAssertThrowsError(try WordTokenizer.train(on: "a b", maximumVocabularySize: 1))
        XCTAssertThrowsError(try WordTokenizer.train(on: "   \t "))
    }
}
