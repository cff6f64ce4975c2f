import Foundation
import SequentData
import TestSupport
import XCTest

/// Corpus BLEU against sacrebleu's `corpus_bleu` defaults, on the fixtures made by
/// `Tests/Fixtures/make_translation_metric_fixtures.py`.
final class BLEUTests: XCTestCase {
    struct Case: Decodable {
        var name: String
        var hypotheses: [String]
        var references: [String]
        var bleu: Double
        var bleu_precisions: [Double]
        var bleu_bp: Double
        var sys_len: Int
        var ref_len: Int
        var chrf: Double
    }
    struct File: Decodable { var cases: [Case] }

    static func cases() throws -> [Case] {
        let url = Fixtures.directory.appendingPathComponent("translation/metrics.json")
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
    }

    func testCorpusBLEUMatchesSacrebleu() throws {
        let cases = try Self.cases()
        XCTAssertGreaterThanOrEqual(cases.count, 7)
        for c in cases {
            let bleu = BLEU(hypotheses: c.hypotheses, references: c.references)
            XCTAssertEqual(bleu.hypothesisLength, c.sys_len, c.name)
            XCTAssertEqual(bleu.referenceLength, c.ref_len, c.name)
            XCTAssertEqual(bleu.brevityPenalty, c.bleu_bp, accuracy: 1e-9, c.name)
            for n in 0..<4 { XCTAssertEqual(bleu.precisions[n], c.bleu_precisions[n], accuracy: 1e-9, "\(c.name) p\(n + 1)") }
            XCTAssertEqual(bleu.score, c.bleu, accuracy: 1e-9, c.name)
            XCTAssertEqual((bleu.score * 100).rounded() / 100, (c.bleu * 100).rounded() / 100, c.name)
        }
    }

    func testTokenizer13a() {
        XCTAssertEqual(BLEU.tokenize13a("Hello, world. 3.14 and 1,000 -- a 9-year-old's e-mail (x)!"),
                       ["Hello", ",", "world", ".", "3.14", "and", "1,000", "--", "a", "9", "-", "year-old's", "e-mail", "(", "x", ")", "!"])
        XCTAssertEqual(BLEU.tokenize13a("Tom &amp; Jerry &quot;x&quot;"), ["Tom", "&", "Jerry", "\"", "x", "\""])
        XCTAssertEqual(BLEU.tokenize13a("   "), [])
    }

    func testEmptyAndIdentical() {
        XCTAssertEqual(BLEU(hypotheses: [], references: []).score, 0)
        XCTAssertEqual(BLEU(hypotheses: [""], references: ["a b c d"]).score, 0)
        XCTAssertEqual(BLEU(hypotheses: ["a b c d e"], references: ["a b c d e"]).score, 100, accuracy: 1e-9)
    }
}
