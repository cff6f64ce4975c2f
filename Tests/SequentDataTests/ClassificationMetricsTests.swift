import SequentData
import XCTest

/// Values computed by hand (and as scikit-learn's accuracy_score, precision_recall_fscore_support,
/// f1_score(average="macro"), confusion_matrix define them).
final class ClassificationMetricsTests: XCTestCase {
    func testThreeClassesByHand() {
        // truth:     0 0 0 1 1 2 2 2 2 2
        // predicted: 0 1 0 1 2 2 2 0 2 1
        let m = ClassificationMetrics(truth: [0, 0, 0, 1, 1, 2, 2, 2, 2, 2], predicted: [0, 1, 0, 1, 2, 2, 2, 0, 2, 1], classCount: 3)
        XCTAssertEqual(m.confusion, [[2, 1, 0], [0, 1, 1], [1, 1, 3]])
        XCTAssertEqual(m.accuracy, 0.6, accuracy: 1e-12)
        // class 0: P = 2/3, R = 2/3, F1 = 2/3; class 1: P = 1/3, R = 1/2, F1 = 0.4; class 2: P = 3/4, R = 3/5, F1 = 2/3.
        XCTAssertEqual(m.precision[0], 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.recall[1], 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.f1[1], 0.4, accuracy: 1e-12)
        XCTAssertEqual(m.precision[2], 0.75, accuracy: 1e-12)
        XCTAssertEqual(m.recall[2], 0.6, accuracy: 1e-12)
        XCTAssertEqual(m.f1[2], 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.macroF1, (2.0 / 3 + 0.4 + 2.0 / 3) / 3, accuracy: 1e-12)
        XCTAssertEqual(m.support, [3, 2, 5])
        XCTAssertNil(m.expectedCalibrationError)
    }

    func testClassNeverPredictedHasZeroPrecision() {
        let m = ClassificationMetrics(truth: [0, 1], predicted: [0, 0], classCount: 2)
        XCTAssertEqual(m.precision, [0.5, 0])
        XCTAssertEqual(m.f1[1], 0)
        XCTAssertEqual(m.macroF1, (2.0 / 3) / 2, accuracy: 1e-12)
    }

    func testExpectedCalibrationErrorByHand() {
        // Two bins of 2: confidences 0.9, 0.9 (one right) -> |0.5 - 0.9| = 0.4; 0.6, 0.6 (both right) -> |1 - 0.6| = 0.4.
        let m = ClassificationMetrics(truth: [0, 0, 1, 1], predicted: [0, 1, 1, 1], classCount: 2, confidence: [0.9, 0.9, 0.6, 0.6], bins: 10)
        XCTAssertEqual(m.expectedCalibrationError!, 0.4, accuracy: 1e-12)
        // A confidence of exactly 1 falls in the last bin.
        let sure = ClassificationMetrics(truth: [0], predicted: [0], classCount: 2, confidence: [1], bins: 10)
        XCTAssertEqual(sure.expectedCalibrationError!, 0, accuracy: 1e-12)
    }
}
