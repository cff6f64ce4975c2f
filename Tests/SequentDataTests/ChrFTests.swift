import Foundation
import SequentData
import TestSupport
import XCTest

/// Corpus chrF against sacrebleu's `corpus_chrf` defaults (fixtures of
/// `Tests/Fixtures/make_translation_metric_fixtures.py`).
final class ChrFTests: XCTestCase {
    func testCorpusChrFMatchesSacrebleu() throws {
        for c in try BLEUTests.cases() {
            let chrF = ChrF(hypotheses: c.hypotheses, references: c.references)
            XCTAssertEqual(chrF.score, c.chrf, accuracy: 1e-9, c.name)
        }
    }

    func testEdgeCases() {
        XCTAssertEqual(ChrF(hypotheses: ["abc"], references: ["abc"]).score, 100, accuracy: 1e-9)
        XCTAssertEqual(ChrF(hypotheses: [""], references: ["abc"]).score, 0)
        XCTAssertEqual(ChrF(hypotheses: [], references: []).score, 0)
    }
}
