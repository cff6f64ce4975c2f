import Foundation
import SequentTrain
import XCTest
@testable import sequent

/// `LearningCurves`: the curves every task's report plots, read from a run's `metrics.jsonl`.
final class LearningCurvesTests: XCTestCase {
    /// The curves read from a folder whose `metrics.jsonl` holds `lines` (nil: no such file).
    private func curves(metrics lines: [String]?) throws -> LearningCurves {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("LearningCurvesTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        if let lines {
            try (lines.joined(separator: "\n") + "\n").write(to: url.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        }
        return LearningCurves(folder: try ModelFolder.create(at: url, task: "lm", writes: false))
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
        let curves = try self.curves(metrics: lines)
        XCTAssertEqual(points(curves["loss"]), [[1, 2.5], [2, 2.0]])
        XCTAssertEqual(points(curves["eval/loss"]), [[2, 2.25]])
        XCTAssertEqual(points(curves["eval/accuracy"]), [[3, 0.5]])
        XCTAssertEqual(points(curves["lr"]), [[1, 0.001]])
        XCTAssertTrue(curves["note"].isEmpty)
        XCTAssertTrue(curves["step"].isEmpty)
        XCTAssertTrue(curves["eval/bleu"].isEmpty)
    }

    func testAFolderWithoutMetricsHasNoCurves() throws {
        XCTAssertTrue(try curves(metrics: nil)["loss"].isEmpty)
    }
}
