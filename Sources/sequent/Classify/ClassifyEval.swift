import ArgumentParser
import Foundation
import SequentData
import SequentTensor

extension Sequent.Classify {
    /// `sequent classify eval DIR --data FILE`: how well a classifier labels a file.
    struct ClassifyEval: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eval",
            abstract: "Score a trained classifier on labelled texts: accuracy, macro-F1, per class, confusion, calibration.",
            discussion: """
                The file is read as for training (the model's --text-column and --label-column \
                unless given). Every label must be one of the model's classes. Example:

                  sequent classify eval sst2 --data ../shared/data/classification/sst2/train.tsv --json
                """)

        @Argument(help: "The model folder written by `sequent classify train`.")
        var model: String

        @Option(help: "Labelled texts (CSV, or TSV with .tsv) with a header.")
        var data: String

        @Option(name: .customLong("text-column"), help: "The text column (default: the model's).")
        var textColumn: String?

        @Option(name: .customLong("label-column"), help: "The label column (default: the model's).")
        var labelColumn: String?

        @Flag(help: "Print one JSON object (accuracy, macro_f1, per_class, confusion_matrix, expected_calibration_error, loss, records, data).")
        var json = false

        @OptionGroup var threads: ThreadOption

        func run() throws {
            try Parallelism.withThreads(threads.count) {
                let opened = try ClassifyFolder.open(model)
                let config = opened.config
                let texts = try LabelledTexts.read(URL(fileURLWithPath: data), textColumn: textColumn ?? config.textColumn,
                                                   labelColumn: labelColumn ?? config.labelColumn, flag: "--data")
                let classID = Dictionary(uniqueKeysWithValues: config.classes.enumerated().map { ($1, $0) })
                var labels: [Int] = []
                for (i, label) in texts.labels.enumerated() {
                    guard let id = classID[label] else {
                        throw SequentError.malformedFile(data, "line \(texts.lines[i]): label '\(label)' is not one of the model's classes \(config.classes)")
                    }
                    labels.append(id)
                }
                let sequences = try texts.texts.map { try classifierTokens($0, tokenizer: opened.tokenizer, maxLength: config.maxLength) }
                let started = Date()
                let output = try ClassifierInference.run(opened.model, sequences: sequences, labels: labels)
                let seconds = Date().timeIntervalSince(started)
                let m = ClassifierInference.metrics(output, labels: labels, classCount: config.classes.count)
                if json {
                    var perClass: [String: Any] = [:]
                    for (c, name) in config.classes.enumerated() {
                        perClass[name] = ["precision": m.precision[c], "recall": m.recall[c], "f1": m.f1[c], "support": m.support[c]]
                    }
                    let object: [String: Any] = [
                        "accuracy": m.accuracy, "macro_f1": m.macroF1, "per_class": perClass, "classes": config.classes,
                        "confusion_matrix": m.confusion, "expected_calibration_error": m.expectedCalibrationError ?? Double.nan,
                        "loss": output.loss, "records": texts.count, "data": data, "model": model, "seconds": seconds,
                        "texts_per_second": Double(texts.count) / max(seconds, 1e-9),
                    ]
                    let encoded = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                    print(String(decoding: encoded, as: UTF8.self))
                } else {
                    print("\(data): \(texts.count) texts in \(String(format: "%.2f", seconds)) s (\(Int(Double(texts.count) / max(seconds, 1e-9))) texts/s)")
                    print(String(format: "accuracy %.4f, macro-F1 %.4f, loss %.4f, expected calibration error %.4f",
                                 m.accuracy, m.macroF1, output.loss, m.expectedCalibrationError ?? .nan))
                    print("class\tprecision\trecall\tf1\tsupport")
                    for (c, name) in config.classes.enumerated() {
                        print(String(format: "%@\t%.4f\t%.4f\t%.4f\t%d", name, m.precision[c], m.recall[c], m.f1[c], m.support[c]))
                    }
                    print("confusion (rows: true " + config.classes.joined(separator: ", ") + "; columns: predicted)")
                    for row in m.confusion { print(row.map(String.init).joined(separator: "\t")) }
                }
            }
        }
    }
}
