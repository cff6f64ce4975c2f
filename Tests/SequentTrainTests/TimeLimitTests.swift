import Foundation
@testable import SequentTrain
import XCTest

/// `TimeLimit`: the deadline with its reserve and margin, the steps that fit, and the shares
/// of an ensemble.
final class TimeLimitTests: XCTestCase {
    func testDeadlineKeepsTheReserveAndAMarginBack() throws {
        // 600 s from t = 100, 30 s reserved, margin min(10 s, 5 %) = 10 s.
        let limit = try TimeLimit(seconds: 600, start: 100, reservedSeconds: 30)
        XCTAssertEqual(limit.margin, 10)
        XCTAssertEqual(limit.deadline, 100 + 600 - 30 - 10)
        XCTAssertFalse(limit.isReached(at: 659.9))
        XCTAssertTrue(limit.isReached(at: 660))
        XCTAssertEqual(limit.remaining(at: 160), 500)
        // A short limit keeps 5 % only, so it still trains.
        XCTAssertEqual(try TimeLimit(seconds: 20, start: 0).deadline, 19, accuracy: 1e-12)
    }

    func testFittedStepsTakeTheEvaluationsOff() throws {
        let limit = try TimeLimit(seconds: 100, start: 0)  // deadline 95
        XCTAssertEqual(limit.fittedSteps(secondsPerStep: 0.5, evaluationSeconds: 15, at: 5), 150)  // (95 - 5 - 15) / 0.5
        XCTAssertEqual(limit.fittedSteps(secondsPerStep: 0.5, at: 200), 1, "past the deadline: one step")
        XCTAssertEqual(limit.fittedSteps(secondsPerStep: 0, at: 0), 1)
    }

    func testSharesSplitWhatIsLeftEqually() throws {
        let limit = try TimeLimit(seconds: 100, start: 0)  // deadline 95
        let first = limit.share(of: 5, at: 15)               // (95 - 15) / 5 = 16 s
        XCTAssertEqual(first.start, 15)
        XCTAssertEqual(first.seconds, 16, accuracy: 1e-12)
        XCTAssertTrue(limit.share(of: 2, at: 200).isReached(at: 200.1), "a share of a spent limit is spent")
    }

    func testANonPositiveLimitIsRefused() {
        XCTAssertThrowsError(try TimeLimit(seconds: 0)) { XCTAssertTrue("\($0)".contains("--time-limit")) }
        XCTAssertThrowsError(try TimeLimit(seconds: .infinity))
    }
}
