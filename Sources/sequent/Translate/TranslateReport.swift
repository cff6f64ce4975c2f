import Foundation
import SequentData
import SequentLab
import SequentNN
import SequentTensor
import SequentTrain

/// `report.md`, `learning_curves.svg` and `attention.svg` of a `sequent translate train` run.
enum TranslateReport {
    static let curvesFileName = "learning_curves.svg"
    static let attentionFileName = "attention.svg"

    /// BLEU of the sentences whose source has a length in each bucket.
    static func bleuByLength(sources: [[Int]], hypotheses: [String], references: [String]) -> [(range: String, count: Int, bleu: Double)] {
        let buckets: [(String, ClosedRange<Int>)] = [("1-10", 1...10), ("11-15", 11...15), ("16-20", 16...20), ("21-25", 21...25), ("26+", 26...Int.max)]
        return buckets.compactMap { name, range in
            let indices = sources.indices.filter { range.contains(sources[$0].count) }
            guard !indices.isEmpty else { return nil }
            return (name, indices.count, BLEU(hypotheses: indices.map { hypotheses[$0] }, references: indices.map { references[$0] }).score)
        }
    }

    /// The alignment picture of one sentence: source tokens across, output tokens down.
    static func attentionSVG(
        model: TranslationModel, source: [Int], tokenizers: TranslationTokenizers, maxLength: Int, choice: AttentionChoice = .init()
    ) throws -> String? {
        let (tokens, alignment, what) = try model.alignment(source, maxLength: maxLength, choice: choice)
        guard let alignment, alignment.shape.count == 2, alignment.shape[0] == tokens.count else { return nil }
        let S = alignment.shape[1]
        let weights = alignment.scalars
        let values = (0..<tokens.count).map { t in (0..<S).map { Double(weights[t * S + $0]) } }
        var map = Heatmap(title: "alignment of the greedy output (\(what))", xTitle: "source tokens", yTitle: "output tokens",
                          xLabels: tokenizers.sourceTokenNames(source), yLabels: tokenizers.targetTokenNames(tokens),
                          values: values, valueTitle: "weight")
        map.width = Double(max(640, 120 + 40 * S))
        map.height = Double(max(560, 140 + 28 * tokens.count))
        return map.svg
    }

    static func write(
        folder: ModelFolder, config: TranslateConfig, bleu: BLEU, chrF: ChrF, seconds: Double, threads: Int,
        sources: [String], hypotheses: [String], references: [String], valSources: [[Int]], model: TranslationModel,
        tokenizers: TranslationTokenizers
    ) throws {
        let logged = LearningCurves(folder: folder)
        let validationBLEU = logged["eval/bleu"], validationLoss = logged["eval/loss"]
        let trainingLoss = logged["loss"].filter { Int($0.x) % 10 == 0 }
        let curves = LineChart(title: "sequent translate: \(config.model.rawValue)\(config.model == .transformer ? "" : ", \(config.attention.rawValue) attention")",
                               x: Axis("step"), y: Axis("loss"),
                               series: [LineSeries(name: "training loss (smoothed labels)", points: trainingLoss),
                                        LineSeries(name: "validation loss", points: validationLoss)])
        let bleuChart = LineChart(title: "validation BLEU (greedy, sacrebleu 13a)", x: Axis("step"), y: Axis("BLEU"),
                                  series: [LineSeries(name: "validation BLEU", points: validationBLEU)])
        try folder.write(text: curves.svg, to: curvesFileName)
        try folder.write(text: bleuChart.svg, to: "validation_bleu.svg")
        var attentionNote = "no attention picture (a model without attention)"
        if let first = valSources.indices.first(where: { (8...16).contains(valSources[$0].count) }) ?? valSources.indices.first,
           let svg = try attentionSVG(model: model, source: valSources[first], tokenizers: tokenizers, maxLength: config.maxLength + 1) {
            try folder.write(text: svg, to: attentionFileName)
            attentionNote = "![alignment](\(attentionFileName)) (validation sentence \(first + 1))"
        }
        var report = """
            # sequent translate: \(config.summary(parameterCount: model.module.parameterCount))

            \(config.maxTokens.map { "Batches of at most \($0) padded tokens" } ?? "Batch \(config.batchSize) pairs"), \(config.steps) planned steps, learning rate \(config.learningRate) (warm-up \
            \(config.warmupSteps) steps), label smoothing \(config.labelSmoothing), seed \(config.seed); trained in \
            \(String(format: "%.0f", seconds)) s on \(threads) thread\(threads == 1 ? "" : "s").

            Data: `\(config.data.train)`, \(config.data.trainPairs) training pairs (\(config.data.droppedPairs) dropped as longer \
            than \(config.maxLength) tokens); validation `\(config.data.val ?? "held out")`, \(references.count) pairs.

            | best validation (greedy, detokenised) | value |
            | --- | --- |
            | BLEU (sacrebleu default: 13a, exp smoothing) | \(String(format: "%.2f", bleu.score)) |
            | chrF | \(String(format: "%.2f", chrF.score)) |
            | BLEU precisions 1-4 | \(bleu.precisions.map { String(format: "%.1f", $0) }.joined(separator: " / ")) |
            | brevity penalty | \(String(format: "%.3f", bleu.brevityPenalty)) (\(bleu.hypothesisLength) / \(bleu.referenceLength) tokens) |

            ## BLEU by source length

            | source tokens | sentences | BLEU |
            | --- | --- | --- |

            """
        for row in bleuByLength(sources: valSources, hypotheses: hypotheses, references: references) {
            report += "| \(row.range) | \(row.count) | \(String(format: "%.2f", row.bleu)) |\n"
        }
        report += "\n## Examples\n\n"
        for i in sources.indices.prefix(5) {
            report += "- source: \(sources[i])\n  - output: \(hypotheses[i])\n  - reference: \(references[i])\n"
        }
        report += "\n## Curves\n\n![loss](\(curvesFileName))\n\n![BLEU](validation_bleu.svg)\n\n## Attention\n\n\(attentionNote)\n"
        try folder.write(text: report, to: ModelFolder.reportFileName)
    }
}
