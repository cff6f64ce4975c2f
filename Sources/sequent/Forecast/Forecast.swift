import ArgumentParser
import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

extension Sequent {
    /// `sequent forecast`: time-series forecasting on a CSV file, measured against the
    /// classical baselines.
    struct Forecast: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forecast a column of a CSV file with an LSTM, GRU, RNN or Transformer, against naive, seasonal-naive, drift and Holt-Winters baselines.",
            discussion: """
                Example (runs as written from the repository root):
                  sequent forecast train --csv ../shared/data/timeseries/airpassengers.csv \\
                    --column passengers --horizon 36 --threads 1 --out runs/air
                  sequent forecast eval runs/air --json
                  sequent forecast predict runs/air
                  sequent forecast backtest --start 1959-01 --horizon 6 --threads 1 \\
                    --csv ../shared/data/timeseries/airpassengers.csv \\
                    --column passengers --out runs/air-backtest

                The last rows of the file (--test-size, default the horizon) are held out; \
                everything the models and the scaling learn comes from the rows before them, \
                and the last --val-fraction of those rows serve early stopping and the \
                prediction intervals (split-conformal, from the validation errors at each step \
                ahead; or, with --intervals quantile --strategy direct, the model's own \
                quantile heads, conformalized on the validation part). The differencing is \
                chosen on the training part: the one whose model has the lowest mean \
                validation MAE over --folds (3) rolling-origin folds (--difference validate, \
                the default), or by AutoARIMA's tests (--difference kpss: seasonal strength, \
                then KPSS); --combine N averages the models of the N best.
                """,
            subcommands: [Train.self, Eval.self, Predict.self, Backtest.self])

        /// The task name in model folders.
        static let task = "forecast"
    }
}

/// What the commands share: reading a model folder back, saying what was done to the data.
enum ForecastCommon {
    /// Prints the facts about the data a user should know (frequency, filled values, sorting, gaps).
    static func describe(_ table: SeriesTable, season: Int, quiet: Bool, to write: (String) -> Void) {
        guard !quiet else { return }
        let span = table.times.first.map { first in
            "\(first.formatted(for: table.frequency)) to \(table.times.last!.formatted(for: table.frequency))"
        } ?? ""
        write("\(table.path): \(table.count) rows of '\(table.columns[0].name)', \(span), \(table.frequency) (season \(season))")
        for note in table.notes { write("note: \(note)") }
    }

    /// Says how the differencing was chosen, with the statistics.
    static func describeChoice(_ config: ForecastConfig, say: (String) -> Void) {
        guard config.differencingChosen else { return }
        if config.differencingRule == .kpss {
            let space = config.transform.logarithm ? "log " : ""
            let strength = config.seasonalStrength.map { "seasonal strength F_s \(ForecastEvaluation.fixed($0)) (seasonal difference above \(DifferencingChoice.seasonalStrengthThreshold))" } ?? "no seasonal test (season \(config.season), or under three seasons)"
            let kpss = config.kpss.map { "KPSS \(ForecastEvaluation.fixed($0)) (first difference above \(DifferencingChoice.kpssCriticalValue), 5 %)" } ?? "no KPSS test (under 8 values)"
            say("differencing: \(config.transform.differencing.rawValue), AutoARIMA's rule on the \(space)training part: \(strength), then \(kpss); the test part is not looked at; --difference validate (the default) or none|first|seasonal|both overrides")
            return
        }
        let scores = (config.differencingValidationMAE ?? [:]).sorted { $0.value < $1.value }
            .map { "\($0.key) \(ForecastEvaluation.fixed($0.value))" }.joined(separator: ", ")
        let rows = config.differencingValidationRows ?? config.validationSize
        let folds = config.differencingFolds.map { folds in
            folds.count == 1 ? "on the last \(rows) rows of the training part"
                : "the mean over \(folds.count) rolling-origin folds of \(rows) rows each, origins \(folds.step) rows apart (the folds end at rows \((0..<folds.count).map { String(folds.end($0)) }.joined(separator: ", ")) of the training part's \(folds.trainingSize))"
        } ?? "on the last \(rows) rows of the training part"
        say("differencing: \(config.candidateName), the lowest validation MAE of one \(config.model.rawValue) trained with each, \(folds) (\(scores)); the test part is not looked at; --difference kpss|none|first|seasonal|both overrides")
        if let partners = config.partners, !partners.isEmpty {
            say("combination (--combine \(partners.count + 1)): the forecasts of the \(([config] + partners).map(\.candidateName).joined(separator: ", ")) differencings' models averaged (their cross-validated MAE \(ForecastEvaluation.fixed(config.combinationValidationMAE))); the intervals are the mean of their bounds")
        }
    }

    /// With `--resume`: the configurations the interrupted run wrote in `folder`, if any.
    static func previousConfigs(in folder: ModelFolder, resume: Bool) -> [ForecastConfig]? {
        guard resume, FileManager.default.fileExists(atPath: folder.configURL.path) else { return nil }
        return try? folder.readConfig(as: ForecastFolderConfig.self).columns
    }

    /// With `--resume`: when the interrupted run trained column `config.column` with another
    /// differencing than this run chose (its validation candidates were cut by its time limit,
    /// so it kept `DifferencingChoice`'s), its members' checkpoints in `root` belong to another
    /// model: they are removed with its logs (metrics.jsonl, TensorBoard events), and the
    /// members train afresh, as an uninterrupted run would.
    static func discardStaleCheckpoints(of config: ForecastConfig, previous: [ForecastConfig]?, in root: ModelFolder, say: (String) -> Void) throws {
        guard let old = previous?.first(where: { $0.column == config.column }),
              old.candidateName != config.candidateName else { return }
        say("note: the interrupted run trained '\(config.column)' with \(old.candidateName) differencing; this run chose \(config.candidateName), so its members start afresh")
        for k in 0..<max(old.ensemble, config.ensemble) {
            let member = k == 0 ? root.url : root.url.appendingPathComponent("member-\(k)")
            let events = (try? FileManager.default.contentsOfDirectory(atPath: member.path))?.filter { $0.hasPrefix("events.out.tfevents.") } ?? []
            for name in [ModelFolder.checkpointsFolderName, "best.safetensors", "metrics.jsonl"] + events {
                let url = member.appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            }
        }
    }

    /// Opens a forecast model folder: the configuration and models of each column, in
    /// evaluation mode.
    static func load(_ path: String) throws -> (folder: ModelFolder, forecasters: [NeuralForecaster]) {
        let folder = try ModelFolder.open(URL(fileURLWithPath: path), task: Sequent.Forecast.task)
        let configs = try folder.readConfig(as: ForecastFolderConfig.self).columns
        let weights = try SafeTensors.read(from: folder.weightsURL).tensors
        let forecasters = try configs.map { config in
            try forecaster(config, weights: weights, prefix: configs.count == 1 ? "" : "\(config.column).")
        }
        return (folder, forecasters)
    }

    /// The forecaster of `config` with the weights under `prefix` (its partners' under
    /// `prefix` + `partners.J.`), in evaluation mode.
    static func forecaster(_ config: ForecastConfig, weights: [String: Tensor], prefix: String) throws -> NeuralForecaster {
        let members = try NeuralForecaster.makeMembers(config)
        let own = Dictionary(uniqueKeysWithValues: weights.compactMap { key, value -> (String, Tensor)? in
            guard key.hasPrefix(prefix), !key.dropFirst(prefix.count).hasPrefix(partnersKey) else { return nil }
            return (String(key.dropFirst(prefix.count)), value)
        })
        try NeuralForecaster.weightsModule(members).loadStateDictionary(own)
        members.forEach { $0.setTraining(false) }
        let partners = try (config.partners ?? []).enumerated().map { j, partner in
            try forecaster(partner, weights: weights, prefix: prefix + partnersKey + "\(j).")
        }
        return NeuralForecaster(config: config, members: members, partners: partners)
    }

    /// The prefix of a combination's partners' weights.
    static let partnersKey = "partners."

    /// `forecaster`'s weights, its partners' under `partners.J.`, each name after `prefix`.
    static func weights(of forecaster: NeuralForecaster, prefix: String) -> [String: Tensor] {
        var tensors: [String: Tensor] = [:]
        for (key, value) in NeuralForecaster.weightsModule(forecaster.members).stateDictionary() { tensors[prefix + key] = value }
        for (j, partner) in forecaster.partners.enumerated() {
            tensors.merge(weights(of: partner, prefix: prefix + partnersKey + "\(j)."), uniquingKeysWith: { a, _ in a })
        }
        return tensors
    }

    /// Saves every column's models as `model.safetensors`: PyTorch's names for one column,
    /// prefixed `COLUMN.` for several (a combination's partners' under `partners.J.`).
    static func saveWeights(_ forecasters: [NeuralForecaster], in folder: ModelFolder) throws {
        var tensors: [String: Tensor] = [:]
        for forecaster in forecasters {
            tensors.merge(weights(of: forecaster, prefix: forecasters.count == 1 ? "" : "\(forecaster.config.column)."), uniquingKeysWith: { a, _ in a })
        }
        try folder.write(try SafeTensors(tensors: tensors, metadata: ["format": "pt"]).encoded(), to: ModelFolder.weightsFileName)
    }

    /// `table` with only its column `index` as the series to forecast.
    static func column(_ index: Int, of table: SeriesTable) -> SeriesTable {
        var single = table
        single.columns = [table.columns[index]]
        return single
    }

    /// A column name as a folder or file name: letters, digits, `-`, `_` and `.` kept, `_` for the rest.
    static func fileName(_ column: String) -> String {
        String(column.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
    }

    /// The file a model folder's command reads: `csv` if given, else the training file; `-`
    /// reads standard input.
    static func table(for configs: [ForecastConfig], csv: String?) throws -> SeriesTable {
        let config = configs[0]
        let path = csv ?? config.csv
        let table: CSVTable
        if path == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard let text = String(data: data, encoding: .utf8) else { throw SequentError.malformedFile("<stdin>", "is not UTF-8 text") }
            table = try CSVTable.parse(text, path: "<stdin>")
        } else {
            table = try CSVTable.read(URL(fileURLWithPath: path))
        }
        for name in configs.map(\.column) + config.covariates + (config.timeColumn.map { [$0] } ?? []) where !table.header.contains(name) {
            throw SequentError.invalidArgument(
                "--csv", "\(table.path) has no column '\(name)', which the model reads; its columns are \(table.header.map { "'\($0)'" }.joined(separator: ", "))")
        }
        return try SeriesTable.make(from: table, timeColumn: config.timeColumn, columns: configs.map(\.column), covariates: config.covariates, missing: config.missing)
    }

    /// Writes a line to standard output unbuffered, so it keeps its place among the
    /// progress lines (which the Trainer writes unbuffered too).
    static func output(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Writes to standard error.
    static func warn(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
