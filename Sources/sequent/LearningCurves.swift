import Foundation
import SequentTrain

/// The metrics a run logged in its folder's `metrics.jsonl`, as curves over steps: what
/// every task's `report.md` plots, read from the file so that a resumed run's report covers
/// the whole run.
struct LearningCurves {
    /// points[key]: (step, value) of each line that logs `key`, in the file's order.
    private var points: [String: [(x: Double, y: Double)]] = [:]

    /// Reads `folder`'s `metrics.jsonl`. A missing or unreadable file gives no curves; a
    /// line that is not a JSON object with a numeric "step" is skipped.
    init(folder: ModelFolder) {
        guard let text = try? String(contentsOf: folder.file("metrics.jsonl"), encoding: .utf8) else { return }
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = (object["step"] as? NSNumber)?.doubleValue else { continue }
            for (key, value) in object where key != "step" {
                if let value = (value as? NSNumber)?.doubleValue { points[key, default: []].append((step, value)) }
            }
        }
    }

    /// The curve of one metric ("loss", "eval/loss", "eval/accuracy", ...); empty when the
    /// run never logged it.
    subscript(key: String) -> [(x: Double, y: Double)] { points[key] ?? [] }
}
