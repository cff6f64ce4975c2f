import Foundation
import SequentData
import SequentLab
import SequentTrain

/// `report.md` and `learning_curves.svg` of a `sequent lm train` run, from its
/// `metrics.jsonl` (so a resumed run's report covers the whole run).
enum LMReport {
    static let curvesFileName = "learning_curves.svg"

    static func write(
        folder: ModelFolder, config: LMConfig, score: LMScore, seconds: Double, threads: Int, sample: String?
    ) throws {
        let curves = LearningCurves(folder: folder)
        let train = curves["loss"], validation = curves["eval/loss"]
        // The training loss averaged over windows of steps, so the curve is readable.
        let window = max(1, train.count / 200)
        var smoothed: [(x: Double, y: Double)] = []
        var start = 0
        while start < train.count {
            let part = train[start..<min(start + window, train.count)]
            smoothed.append((part.last!.x, part.map(\.y).reduce(0, +) / Double(part.count)))
            start += window
        }
        let chart = LineChart(
            title: "sequent lm: \(config.model.rawValue) \(config.layers) x \(config.hiddenSize), \(config.tokenizer.rawValue) tokens",
            x: Axis("step"), y: Axis("loss (nats per token)"),
            series: [LineSeries(name: "training (mean of \(window) steps)", points: smoothed),
                     LineSeries(name: "validation", points: validation)])
        try folder.write(text: chart.svg, to: curvesFileName)

        var report = """
            # sequent lm: \(config.model.rawValue) language model

            \(config.summary(parameterCount: 0).replacingOccurrences(of: ", 0 parameters", with: "")); \
            batch \(config.batchSize), \(config.steps) planned steps, learning rate \(config.learningRate), \
            dropout \(config.dropout), seed \(config.seed).

            Data: `\(config.data.text)`, \(config.data.trainTokens) training tokens; validation \
            \(config.data.val.map { "`\($0)`" } ?? "the last \(config.data.valFraction ?? 0) of it"), \
            \(config.data.valTokens) tokens.

            | best validation | value |
            | --- | --- |
            | loss (nats per token) | \(String(format: "%.4f", score.loss)) |
            | perplexity | \(String(format: "%.3f", score.perplexity)) |
            | bits per character | \(String(format: "%.4f", score.bitsPerCharacter)) |
            | tokens scored | \(score.tokens) |

            This run (or its last part, if resumed) took \(String(format: "%.1f", seconds)) s on \(threads) thread(s).

            ![learning curves](\(curvesFileName))

            """
        if let sample {
            report += "\n## Sample (temperature 0.8, seed 1)\n\n```\n\(sample)\n```\n"
        }
        try folder.write(text: report, to: ModelFolder.reportFileName)
    }
}
