import Foundation
import SequentData
import SequentLab
import SequentTrain

/// `report.md`, `learning_curves.svg` and `confusion_matrix.svg` of a `sequent classify train` run.
enum ClassifyReport {
    static let curvesFileName = "learning_curves.svg"
    static let confusionFileName = "confusion_matrix.svg"

    static func write(
        folder: ModelFolder, config: ClassifyConfig, metrics: ClassificationMetrics, seconds: Double, threads: Int, data: String
    ) throws {
        let validation = LearningCurves(folder: folder)["eval/accuracy"]
        let chart = LineChart(
            title: "sequent classify: \(config.model.rawValue), \(config.pooling.rawValue) pooling",
            x: Axis("step"), y: Axis("validation accuracy"),
            series: [LineSeries(name: "validation accuracy", points: validation)])
        try folder.write(text: chart.svg, to: curvesFileName)
        try folder.write(text: confusionSVG(metrics.confusion, classes: config.classes), to: confusionFileName)

        var report = """
            # sequent classify: \(config.model.rawValue) text classifier

            \(config.model.rawValue) \(config.layers) x \(config.hidden), \(config.pooling.rawValue) pooling, token vectors of \
            \(config.embedding), dropout \(config.dropout) (token vectors \(config.embeddingDropout)), \(config.vocabularySize) \
            word tokens, batch \(config.batchSize), \(config.steps) planned steps, learning rate \(config.learningRate), seed \(config.seed).

            Data: `\(config.data.train)`, \(config.data.trainRecords) training texts; validation \(data), \(config.data.valRecords) texts.

            | best validation | value |
            | --- | --- |
            | accuracy | \(String(format: "%.4f", metrics.accuracy)) |
            | macro-F1 | \(String(format: "%.4f", metrics.macroF1)) |
            | expected calibration error (15 bins) | \(metrics.expectedCalibrationError.map { String(format: "%.4f", $0) } ?? "-") |

            | class | precision | recall | F1 | support |
            | --- | --- | --- | --- | --- |

            """
        for (c, name) in config.classes.enumerated() {
            report += String(format: "| %@ | %.4f | %.4f | %.4f | %d |\n", name, metrics.precision[c], metrics.recall[c], metrics.f1[c], metrics.support[c])
        }
        report += """

            This run took \(String(format: "%.1f", seconds)) s on \(threads) thread(s).

            ![learning curves](\(curvesFileName))

            ![confusion matrix](\(confusionFileName))

            """
        try folder.write(text: report, to: ModelFolder.reportFileName)
    }

    /// A confusion matrix as an SVG heatmap: rows the true classes, columns the predicted ones.
    static func confusionSVG(_ confusion: [[Int]], classes: [String]) -> String {
        let n = classes.count, cell = 60, margin = 90
        let size = margin + n * cell + 20
        let largest = max(1, confusion.flatMap { $0 }.max() ?? 1)
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(size)\" height=\"\(size)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<text x=\"\(margin)\" y=\"14\">predicted</text><text x=\"4\" y=\"\(margin - 4)\">true</text>\n"
        for (j, name) in classes.enumerated() {
            svg += "<text x=\"\(margin + j * cell + cell / 2)\" y=\"\(margin - 8)\" text-anchor=\"middle\">\(escape(name))</text>\n"
            svg += "<text x=\"\(margin - 6)\" y=\"\(margin + j * cell + cell / 2 + 4)\" text-anchor=\"end\">\(escape(name))</text>\n"
        }
        for i in 0..<n {
            for j in 0..<n {
                let share = Double(confusion[i][j]) / Double(largest)
                let shade = Int(255 - 200 * share)
                svg += "<rect x=\"\(margin + j * cell)\" y=\"\(margin + i * cell)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"rgb(\(shade),\(shade),255)\" stroke=\"#888\"/>"
                svg += "<text x=\"\(margin + j * cell + cell / 2)\" y=\"\(margin + i * cell + cell / 2 + 4)\" text-anchor=\"middle\">\(confusion[i][j])</text>\n"
            }
        }
        return svg + "</svg>\n"
    }
}
