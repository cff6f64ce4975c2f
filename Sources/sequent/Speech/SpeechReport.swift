import Foundation
import SequentData
import SequentLab
import SequentNN
import SequentTensor
import SequentTrain

/// WER/CER/accuracy of a model on prepared utterances, with the mean CTC loss.
struct SpeechScore {
    var recognition: RecognitionMetrics
    var loss: Double
    var hypotheses: [String]

    var asMetrics: [String: Double] {
        ["wer": recognition.wordErrorRate, "cer": recognition.characterErrorRate, "accuracy": recognition.accuracy, "loss": loss]
    }
}

enum SpeechEvaluation {
    /// Transcribes `inputs` (greedy, or beam search of `beam` > 1) and scores them against `texts`;
    /// `targets` (label ids, nil for none) give the mean CTC loss per label.
    static func score(_ model: AcousticModel, inputs: [[Float]], targets: [[Int]]?, texts: [String], alphabet: SpeechAlphabet, beam: Int) throws -> SpeechScore {
        let lps = try SpeechInference.logProbabilities(model, inputs: inputs)
        let C = model.classCount
        var hypotheses: [String] = [], loss = 0.0, counted = 0
        for (i, lp) in lps.enumerated() {
            hypotheses.append(try SpeechInference.decode(lp, classCount: C, beam: beam, alphabet: alphabet).text)
            if let targets, !lp.isEmpty, !targets[i].isEmpty {
                let T = lp.count / C
                let nll = try Loss.ctc(logProbabilities: Tensor(shape: [T, 1, C], scalars: lp), targets: [targets[i]], reduction: .mean).item
                if nll.isFinite { loss += Double(nll); counted += 1 }
            }
        }
        return SpeechScore(recognition: RecognitionMetrics(references: texts, hypotheses: hypotheses),
                           loss: counted > 0 ? loss / Double(counted) : .nan, hypotheses: hypotheses)
    }
}

/// `report.md` and `learning_curves.svg` of a `sequent speech train` run.
enum SpeechReport {
    static let curvesFileName = "learning_curves.svg"

    static func write(folder: ModelFolder, config: SpeechConfig, metrics: SpeechScore, seconds: Double, threads: Int) throws {
        let curves = LearningCurves(folder: folder)
        let wer = curves["eval/wer"], cer = curves["eval/cer"]
        let chart = LineChart(
            title: "sequent speech: \(config.model.rawValue) CTC", x: Axis("step"), y: Axis("validation error rate"),
            series: [LineSeries(name: "WER", points: wer), LineSeries(name: "CER", points: cer)])
        try folder.write(text: chart.svg, to: curvesFileName)
        let m = metrics.recognition
        let report = """
            # sequent speech: \(config.model.rawValue) CTC recogniser

            \(config.model.rawValue) \(config.layers) x \(config.hidden), dropout \(config.dropout), \(config.stack) frame(s) a step, \
            \(config.features.kind.rawValue) \(config.features.featureSize) features at \(config.features.sampleRate) Hz \
            (\(config.features.frameLength) ms windows every \(config.features.frameShift) ms), \(config.normalization.mode.rawValue) \
            normalisation, \(config.alphabet.classCount - 1) \(config.alphabet.units.rawValue) + blank, SpecAugment \
            \(config.specAugment == nil ? "off" : "on"), batch \(config.batchSize), \(config.steps) planned steps, learning rate \
            \(config.learningRate), seed \(config.seed).

            Data: `\(config.data.audio)`\(config.data.takes.map { " (takes \($0))" } ?? ""), \(config.data.trainUtterances) training \
            utterances (\(String(format: "%.1f", config.data.trainSeconds / 60)) min), \(config.data.valUtterances) validation, \
            \(config.data.skipped) skipped.

            | best validation | value |
            | --- | --- |
            | WER | \(String(format: "%.4f", m.wordErrorRate)) |
            | CER | \(String(format: "%.4f", m.characterErrorRate)) |
            | utterance accuracy | \(String(format: "%.4f", m.accuracy)) |
            | CTC loss per label | \(String(format: "%.4f", metrics.loss)) |

            This run took \(String(format: "%.1f", seconds)) s on \(threads) thread(s).

            ![learning curves](\(curvesFileName))

            """
        try folder.write(text: report, to: ModelFolder.reportFileName)
    }
}
