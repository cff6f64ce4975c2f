import SequentData
import SequentTensor
import XCTest

/// Translation tokenizers: per side or joint, specials after the vocabulary, detokenisation
/// back to plain text, over-long pairs dropped with their lines or refused.
final class TranslationTokenizersTests: XCTestCase {
    let pairs = try! SentencePairs(
        sources: ["Ein Mann fährt Fahrrad.", "Zwei Hunde spielen im Schnee.", "Ein Mann und zwei Hunde."],
        targets: ["A man rides a bike.", "Two dogs play in the snow.", "A man and two dogs, (running)!"])

    func testDetokenisationRoundTrips() throws {
        for kind in [TokenizerKind.word, .bpe] {
            let tokenizers = try TranslationTokenizers.train(on: pairs, kind: kind, vocabularySize: kind == .bpe ? 300 : nil, joint: false)
            for sentence in pairs.targets {
                let ids = try tokenizers.encodeTarget(sentence)
                XCTAssertEqual(ids.last, tokenizers.endID)
                XCTAssertEqual(tokenizers.detokenize([tokenizers.beginID] + ids), sentence, "\(kind)")
            }
        }
    }

    /// A line break the model emits (a token the tokenizers learn between training lines)
    /// becomes a space: one translation is one line of output.
    func testDetokenisedOutputIsOneLine() throws {
        for kind in [TokenizerKind.word, .bpe] {
            let tokenizers = try TranslationTokenizers.train(on: pairs, kind: kind, vocabularySize: kind == .bpe ? 300 : nil, joint: false)
            let newline = try tokenizers.target.encode("\n")
            XCTAssertFalse(newline.isEmpty, "\(kind)")
            let man = try tokenizers.target.encode("man"), dot = try tokenizers.target.encode(".")
            XCTAssertEqual(tokenizers.detokenize(newline + man + newline + newline + dot + newline + [tokenizers.endID]), "man .", "\(kind)")
            XCTAssertEqual(tokenizers.detokenize(newline + dot), ".", "\(kind)")
        }
    }

    func testJointAndSeparateVocabularies() throws {
        let separate = try TranslationTokenizers.train(on: pairs, kind: .word, vocabularySize: nil, joint: false)
        let joint = try TranslationTokenizers.train(on: pairs, kind: .word, vocabularySize: nil, joint: true)
        XCTAssertTrue(joint.isJoint)
        XCTAssertEqual(joint.sourceVocabularySize + 2, joint.targetVocabularySize)
        XCTAssertGreaterThan(joint.sourceVocabularySize, separate.sourceVocabularySize)
        XCTAssertEqual(separate.targetVocabularySize, separate.target.vocabularySize + 2)
        // Unknown words go through the tokenizer, never a crash.
        XCTAssertEqual(try separate.encodeSource("Völlig unbekannt"), [0, 0])
        XCTAssertEqual(try separate.encodeSource("   "), [0])
    }

    func testLongPairsDroppedOrRefused() throws {
        let tokenizers = try TranslationTokenizers.train(on: pairs, kind: .word, vocabularySize: nil, joint: false)
        let kept = try EncodedPairs(pairs, tokenizers: tokenizers, maxLength: 8)
        XCTAssertEqual(kept.lines, [1, 2])
        XCTAssertEqual(kept.droppedLines, [3])
        XCTAssertThrowsError(try EncodedPairs(pairs, tokenizers: tokenizers, maxLength: 8, refusesLong: true)) { error in
            XCTAssertTrue("\(error)".contains("line 3"), "\(error)")
        }
    }
}
