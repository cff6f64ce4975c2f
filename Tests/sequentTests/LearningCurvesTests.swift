import Foundation
import SequentTrain
import XCTest
@testable import sequent

/// `LearningCurves`: the curves every task's report plots, read from a run's `metrics.jsonl`.
final class LearningCurvesTests: XCTestCase {
    private var url: URL!

    override func setUpWithError() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("LearningCurvesTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let url { try? FileManager.default.removeItem(at: url) }
    }

    private func points(_ curve: [(x: Double, y: Double)]) -> [[Double]] { curve.map { [$0.x, $0.y] } }

    func testEachMetricIsACurveOverStepsInFileOrder() throws {
        let lines = [
            #"{"step": 1, "loss": 2.5, "lr": 0.001}"#,
            #"{"step": 2, "loss": 2.0, "eval/loss": 2.25}"#,
            "not json",
            #"{"loss": 9}"#,
            #"{"step": 3, "eval/accuracy": 0.5, "note": "text is not a point"}"#,
        ]
        try (lines.joined(separator: "\n") + "\n").write(to: url.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        let curves = LearningCurves(folder: try ModelFolder.create(at: url, task: "lm", writes: false))
        XCTAssertEqual(points(curves["loss"]), [[1, 2.5], [2, 2.0]])
        XCTAssertEqual(points(curves["eval/loss"]), [[2, 2.25]])
        XCTAssertEqual(points(curves["eval/accuracy"]), [[3, 0.5]])
        XCTAssertEqual(points(curves["lr"]), [[1, 0.001]])
        XCTAssertTrue(curves["note"].isEmpty)
        XCTAssertTrue(curves["step"].isEmpty)
        XCTAssertTrue(curves["eval/bleu"].isEmpty)
    }

    func testAFolderWithoutMetricsHasNoCurves() throws {
        let curves = LearningCurves(folder: try ModelFolder.create(at: url, task: "lm", writes: false))
        XCTAssertTrue(curves["loss"].isEmpty)
    }
}
