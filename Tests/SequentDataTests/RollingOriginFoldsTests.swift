import SequentData
import XCTest

final class RollingOriginFoldsTests: XCTestCase {
    func testFoldsCoverWhatTheySay() throws {
        // T = 108, V = 36, 12 apart: folds 0..<72 | 72..<108, 0..<60 | 60..<96, 0..<48 | 48..<84.
        let folds = try RollingOriginFolds(trainingSize: 108, validationLength: 36, step: 12, count: 3)
        let expected: [(Range<Int>, Range<Int>)] = [(0..<72, 72..<108), (0..<60, 60..<96), (0..<48, 48..<84)]
        XCTAssertEqual(folds.folds.count, 3)
        for (k, fold) in folds.folds.enumerated() {
            XCTAssertEqual(fold.fitting, expected[k].0)
            XCTAssertEqual(fold.validation, expected[k].1)
            // No fold reads a row after its validation part; its fitting part ends where validation begins.
            XCTAssertEqual(fold.fitting.upperBound, fold.validation.lowerBound)
            XCTAssertEqual(folds.end(k), fold.validation.upperBound)
            XCTAssertLessThanOrEqual(folds.end(k), 108)
            XCTAssertEqual(fold.validation.count, 36)
        }
        // Fold 0 is the single split: the last V rows of the training part.
        XCTAssertEqual(folds.folds[0].validation, 72..<108)
    }

    func testFoldsThatLeaveNothingToFitAreRefused() {
        XCTAssertThrowsError(try RollingOriginFolds(trainingSize: 108, validationLength: 36, step: 36, count: 3))
        XCTAssertThrowsError(try RollingOriginFolds(trainingSize: 108, validationLength: 36, step: 12, count: 0))
        XCTAssertThrowsError(try RollingOriginFolds(trainingSize: 108, validationLength: 0, step: 12, count: 1))
        XCTAssertNoThrow(try RollingOriginFolds(trainingSize: 108, validationLength: 36, step: 35, count: 3))
        // Sizes far beyond the series are refused, not overflowed.
        XCTAssertThrowsError(try RollingOriginFolds(trainingSize: 108, validationLength: Int.max, step: Int.max, count: 3))
        XCTAssertNil(RollingOriginFolds.widest(trainingSize: 108, validationLength: Int.max, count: 20, season: 12) { _ in true })
    }

    func testWidestTakesTheWidestStepThatFitsThenFewerFolds() throws {
        // Every fold needs 40 rows before its origin: with V = 36 the folds 36 apart do not fit,
        // the seasonal steps below 36 are tried next (24: origins 72, 48, 24 -> no; 12: 72, 60, 48 -> yes).
        let seasonal = try XCTUnwrap(RollingOriginFolds.widest(trainingSize: 108, validationLength: 36, count: 3, season: 12) { end in end - 36 >= 40 })
        XCTAssertEqual(seasonal, try RollingOriginFolds(trainingSize: 108, validationLength: 36, step: 12, count: 3))
        // Non-overlapping folds when they fit.
        let apart = try XCTUnwrap(RollingOriginFolds.widest(trainingSize: 300, validationLength: 36, count: 3, season: 12) { end in end - 36 >= 40 })
        XCTAssertEqual(apart.step, 36)
        // No season: every step below V is tried, widest first.
        let plain = try XCTUnwrap(RollingOriginFolds.widest(trainingSize: 100, validationLength: 10, count: 3, season: 1) { end in end - 10 >= 76 })
        XCTAssertEqual(plain.step, 7)
        XCTAssertEqual(plain.count, 3)
        // Fewer folds when no step fits K of them; nil when not even one fits.
        let two = try XCTUnwrap(RollingOriginFolds.widest(trainingSize: 108, validationLength: 36, count: 3, season: 12) { end in end - 36 >= 60 })
        XCTAssertEqual(two.count, 2)
        XCTAssertEqual(two.step, 12)
        let one = try XCTUnwrap(RollingOriginFolds.widest(trainingSize: 108, validationLength: 36, count: 3, season: 12) { end in end - 36 >= 66 })
        XCTAssertEqual(one.count, 1)
        XCTAssertEqual(one.folds[0].validation, 72..<108)
        XCTAssertNil(RollingOriginFolds.widest(trainingSize: 108, validationLength: 36, count: 3, season: 12) { _ in false })
    }
}
