import SequentData
import XCTest

/// WER, CER and accuracy, counted as jiwer and Kaldi's compute-wer count them.
final class RecognitionMetricsTests: XCTestCase {
    func testErrorRatesSumEditsOverUtterances() {
        // "the cat sat" -> "the bat sat down": 1 substitution + 1 insertion = 2 of 3 words;
        // "hello" -> "": 1 deletion of 1 word. WER = 3 / 4 (jiwer.wer gives 0.75).
        let m = RecognitionMetrics(references: ["the cat sat", "hello", "ok"], hypotheses: ["the bat sat down", "", "ok"])
        XCTAssertEqual(m.wordErrors, 3)
        XCTAssertEqual(m.referenceWords, 5)
        XCTAssertEqual(m.wordErrorRate, 0.6, accuracy: 1e-12)
        // Characters: "the cat sat"(11) -> "the bat sat down": 1 sub + 5 ins; "hello"(5): 5 del; "ok"(2): 0.
        XCTAssertEqual(m.characterErrors, 11)
        XCTAssertEqual(m.referenceCharacters, 18)
        XCTAssertEqual(m.correctUtterances, 1)
        XCTAssertEqual(m.accuracy, 1.0 / 3, accuracy: 1e-12)
    }

    func testEditDistance() {
        XCTAssertEqual(RecognitionMetrics.editDistance(Array("kitten"), Array("sitting")), 3)
        XCTAssertEqual(RecognitionMetrics.editDistance([Int](), [1, 2]), 2)
        XCTAssertEqual(RecognitionMetrics.editDistance([1, 2, 3], [1, 2, 3]), 0)
    }

    func testWhitespaceDoesNotCount() {
        let m = RecognitionMetrics(references: ["1 2  3"], hypotheses: [" 1 2 3 "])
        XCTAssertEqual(m.wordErrors, 0)
        XCTAssertEqual(m.characterErrors, 0)
        XCTAssertEqual(m.accuracy, 1)
    }
}
