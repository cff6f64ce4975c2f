import Foundation
import SequentTensor
@testable import SequentData
import XCTest

/// `CharacterTokenizer`: exact round trips on any text, a sorted (deterministic) vocabulary,
/// a clear error for an unseen character, JSON round trip, and speed.
final class CharacterTokenizerTests: XCTestCase {
    func testRoundTripsEveryKindOfText() throws {
        for text in TokenizerTexts.samples + [TokenizerTexts.random(count: 5000, seed: 3)] {
            let tokenizer = try CharacterTokenizer.train(on: text)
            let ids = try tokenizer.encode(text)
            XCTAssertEqual(ids.count, text.unicodeScalars.count)
            XCTAssertEqual(tokenizer.decode(ids), text)
            XCTAssertEqual(tokenizer.bytes(ids), Array(text.utf8))
        }
    }

    func testVocabularyIsSortedAndIndependentOfOrder() throws {
        let a = try CharacterTokenizer.train(on: "hello world")
        let b = try CharacterTokenizer.train(on: "dlrow olleh")
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.scalars.map { String($0) }.joined(), " dehlorw")
        XCTAssertEqual(try a.encode("hello"), [3, 2, 4, 4, 5])
    }

    func testUnseenCharacterIsAnErrorNamingIt() throws {
        let tokenizer = try CharacterTokenizer.train(on: "abc")
        XCTAssertNil(tokenizer.unknownID)
        XCTAssertThrowsError(try tokenizer.encode("ab🙂", path: "val.txt")) { error in
            let message = (error as? SequentError)?.message ?? ""
            XCTAssertTrue(message.contains("val.txt") && message.contains("character 2") && message.contains("U+1F642"), message)
        }
    }

    func testJSONRoundTrip() throws {
        let tokenizer = try CharacterTokenizer.train(on: TokenizerTexts.samples.joined())
        let loaded = try CharacterTokenizer(jsonData: try tokenizer.jsonData())
        XCTAssertEqual(loaded, tokenizer)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("char-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try tokenizer.save(to: url)
        let again = try loadTokenizer(from: url)
        XCTAssertEqual(again.kind, .char)
        XCTAssertEqual(again.vocabularySize, tokenizer.vocabularySize)
        XCTAssertEqual(try again.encode(TokenizerTexts.samples[2]), try tokenizer.encode(TokenizerTexts.samples[2]))
    }

    func testEmptyTextHasNoVocabulary() {
        XCTAssertThrowsError(try CharacterTokenizer.train(on: ""))
    }

    #if !DEBUG
    func testEncodesOneMegabyteWellUnderASecond() throws {
        let text = TokenizerTexts.prose(bytes: 1_000_000, seed: 1) + "é👍"
        let tokenizer = try CharacterTokenizer.train(on: text)
        let start = Date()
        let ids = try tokenizer.encode(text)
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(ids.count, text.unicodeScalars.count)
        XCTAssertLessThan(seconds, 0.25, "encoding 1 MB took \(seconds) s")
    }
    #endif
}
