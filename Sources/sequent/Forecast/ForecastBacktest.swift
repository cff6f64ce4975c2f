import ArgumentParser
import Foundation
import SequentData
import SequentTensor
import SequentTrain

extension Sequent.Forecast {
    /// `sequent forecast backtest`: rolling-origin evaluation of a model and the baselines.
    struct Backtest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rolling-origin evaluation: forecasts of H steps from every --stride-th origin after --start, the metrics averaged over origins.",
            discussion: """
                The model trains once on the rows before --start (its validation part carved \
                from their end) and forecasts from every origin without refitting; --refit \
                trains it anew on the rows before each origin. The baselines are always refitted \
                at each origin. Only origins with a full horizon after them are used. Besides the \
                mean over origins of each block's metrics, the MAPE of the last step alone \
                (each origin's H-step-ahead point, as Darts' historical_forecasts with \
                last_points_only) is reported. Several --column values are backtested one after \
                another, each with its own models (weights COLUMN.*, logs in DIR/COLUMN); --json \
                then nests one object per column under "columns".
                """)

        @OptionGroup var series: SeriesOptions
        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var training: TrainingOptions

        @Option(help: "The first origin (the time of the first forecast step): a timestamp of the time column (1959-01), a row count of history (120), or a fraction of the rows (0.8).")
        var start: String

        @Option(parsing: .unconditional, help: "Rows between origins (default 1).")
        var stride = 1

        @Flag(help: "Retrain the model at every origin on the rows before it (slow).")
        var refit = false

        @Flag(help: "Print one JSON object (per forecaster: the mean metrics and last_step_mape; \"best\" by MASE) instead of text.")
        var json = false

        func validate() throws {
            if stride < 1 { throw ValidationError("--stride must be at least 1; got \(stride)") }
        }

        /// The first origin's row index.
        static func origin(_ text: String, table: SeriesTable) throws -> Int {
            if let time = TimeStamp.parse(text), time.kind == .date, table.times.first?.kind == .date {
                guard let index = table.times.firstIndex(where: { $0.value >= time.value - 1e-6 }) else {
                    throw SequentError.invalidArgument("--start", "\(text) is after the last row of \(table.path) (\(table.times.last!.formatted(for: table.frequency)))")
                }
                return index
            }
            if let value = Double(text), value > 0, value < 1 { return Int((value * Double(table.count)).rounded()) }
            if let value = Int(text), value >= 0 { return value }
            throw SequentError.invalidArgument("--start", "'\(text)' is neither a timestamp like the time column's, a row count, nor a fraction in (0, 1)")
        }

        /// One column's backtest: the mean metrics of the model and every baseline over the origins.
        struct ColumnResult {
            var column: String
            var names: [String]
            var means: [String: ForecastMetrics]
            var lastStepMAPE: [String: Double]
            var best: String
            /// Forecast values inside the model's intervals, of `total`.
            var covered: Int
            var total: Int
            var forecaster: NeuralForecaster

            var coverage: Double { total > 0 ? Double(covered) / Double(total) : 0 }

            /// The JSON object of this column.
            func json(extra: [String]) -> String {
                var fields = extra
                for name in names {
                    let m = means[name]!
                    fields.append("\(JSONText.quoted(name)): {\"mae\": \(ForecastEvaluation.number(m.mae)), \"rmse\": \(ForecastEvaluation.number(m.rmse)), \"mape\": \(ForecastEvaluation.number(m.mape)), \"smape\": \(ForecastEvaluation.number(m.smape)), \"mase\": \(ForecastEvaluation.number(m.mase)), \"last_step_mape\": \(ForecastEvaluation.number(lastStepMAPE[name]))}")
                }
                fields.append("\"best\": \(JSONText.quoted(best))")
                fields.append("\"interval\": {\"nominal_coverage\": \(ForecastEvaluation.number(forecaster.config.intervalCoverage)), \"coverage\": \(ForecastEvaluation.number(coverage))}")
                return "{" + fields.joined(separator: ", ") + "}"
            }

            /// The Markdown table of this column.
            func markdownTable() -> String {
                var lines = ["| forecast | MAE | RMSE | MAPE % | sMAPE % | MASE | last-step MAPE % |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
                for name in names {
                    let m = means[name]!
                    let title = Baseline(rawValue: name)?.title ?? name
                    lines.append("| \(name == best ? "**\(title)**" : title) | \(ForecastEvaluation.fixed(m.mae)) | \(ForecastEvaluation.fixed(m.rmse)) | \(ForecastEvaluation.fixed(m.mape)) | \(ForecastEvaluation.fixed(m.smape)) | \(ForecastEvaluation.fixed(m.mase)) | \(ForecastEvaluation.fixed(lastStepMAPE[name])) |")
                }
                return lines.joined(separator: "\n")
            }
        }

        func run() throws {
            let started = Date(), cpuClock = clock()
            let timeLimit = training.timeLimit(startedAt: MetricsClock.system.monotonicSeconds())
            let say: (String) -> Void = { if !training.quiet && !json { ForecastCommon.output($0) } }
            let table = try series.read()
            let first = try Self.origin(start, table: table)
            let H = series.horizon
            let origins = Array(Swift.stride(from: first, through: table.count - H, by: stride))
            guard !origins.isEmpty else {
                throw SequentError.invalidArgument("--start", "no origin from row \(first + 1) leaves a full horizon of \(H) in the \(table.count) rows of \(table.path)")
            }
            let folder = try ModelFolder.create(at: training.outURL, task: Sequent.Forecast.task)
            if !training.resume, FileManager.default.fileExists(atPath: folder.configURL.path) {
                throw SequentError.invalidArgument("--out", "\(folder.url.path) already holds a forecast model; choose another folder, or --resume it")
            }
            var quietTraining = training
            quietTraining.quiet = training.quiet || json
            // Every column is configured (and its data checked) before any training starts, as in train.
            let tables = table.columns.indices.map { ForecastCommon.column($0, of: table) }
            let several = tables.count > 1
            _ = try tables.map { try ForecastTraining.configure(table: $0, series: series, model: modelOptions, training: training, trainingRows: first) }
            let runsPerColumn = (refit ? origins.count : 1) * modelOptions.ensemble * modelOptions.combine
            let previous = ForecastCommon.previousConfigs(in: folder, resume: training.resume)
            var results: [ColumnResult] = []
            for (i, single) in tables.enumerated() {
                var config = try ForecastTraining.chooseDifferencing(
                    table: single, series: series, model: modelOptions, training: training, trainingRows: first, timeLimit: timeLimit,
                    runsAfter: (tables.count - i) * runsPerColumn)
                ForecastCommon.describe(single, season: config.season, quiet: quietTraining.quiet || i > 0, to: say)
                say("\(several ? "column '\(config.column)': " : "")backtest: \(origins.count) origins from row \(first + 1) (\(table.times[first].formatted(for: table.frequency))), every \(stride), horizon \(H)\(refit ? ", refitting at each" : ", trained once on the \(first) rows before the first")")
                ForecastCommon.describeChoice(config, say: say)
                try folder.writeConfig(ForecastFolderConfig(columns: results.map(\.forecaster.config) + [config]), version: Sequent.version)
                // One column's checkpoints and logs are the folder's own; several columns' go to DIR/COLUMN.
                let root = several ? try ModelFolder.create(at: folder.file(ForecastCommon.fileName(config.column)), task: Sequent.Forecast.task) : folder
                try ForecastCommon.discardStaleCheckpoints(of: config, previous: previous, in: root, say: say)
                let forecaster = try ForecastTraining.trainCombination(
                    config: &config, table: single, folder: root, training: quietTraining, timeLimit: timeLimit,
                    runsAfter: (tables.count - 1 - i) * runsPerColumn + (refit ? (origins.count - 1) * config.ensemble : 0),
                    coverage: modelOptions.coverage, say: say)
                results.append(try backtest(single, forecaster: forecaster, origins: origins, timeLimit: timeLimit, quietTraining: quietTraining,
                                            runsAfter: (tables.count - 1 - i) * runsPerColumn))
            }
            try ForecastCommon.saveWeights(results.map(\.forecaster), in: folder)
            try folder.writeConfig(ForecastFolderConfig(columns: results.map(\.forecaster.config)), version: Sequent.version)
            let seconds = Date().timeIntervalSince(started), cpuSeconds = Double(clock() - cpuClock) / Double(CLOCKS_PER_SEC)

            let sections = results.map { result in
                let level = Int(((result.forecaster.config.intervalCoverage ?? modelOptions.coverage) * 100).rounded())
                return """
                    \(several ? "## Column" : "# Backtest of") `\(result.column)`

                    `\(series.csv)`: \(origins.count) origins from row \(first + 1) (\(table.times[first].formatted(for: table.frequency))), every \(stride) row(s), \
                    horizon \(H); the model \(refit ? "retrained at every origin" : "trained once on the \(first) rows before the first origin"), the baselines refitted at each. \
                    Metrics are the mean over origins of each H-step block's; the last column is the MAPE of each origin's H-step-ahead point alone.

                    \(result.markdownTable())

                    Best by MASE: **\(result.best)**. The \(level)% \(result.forecaster.config.quantiles == nil ? "conformal" : "quantile") intervals of \(result.forecaster.config.model.rawValue) cover \(String(format: "%.1f", result.coverage * 100))% of the \(result.total) forecast values.
                    """
            }
            let title = several ? "# Backtest of \(results.map { "`\($0.column)`" }.joined(separator: ", "))\n\n" : ""
            let time = String(format: "Time: %.1f s wall, %.1f s CPU.", seconds, cpuSeconds)
            try folder.write(text: title + sections.joined(separator: "\n\n") + "\n\n" + time + "\n", to: ModelFolder.reportFileName)
            if json {
                let common = ["\"data\": \(JSONText.quoted(series.csv))", "\"rows\": \(table.count)", "\"origins\": \(origins.count)", "\"horizon\": \(H)"]
                if several {
                    let columns = results.map { "\(JSONText.quoted($0.column)): \($0.json(extra: []))" }.joined(separator: ", ")
                    ForecastCommon.output("{" + (common + ["\"columns\": {\(columns)}"]).joined(separator: ", ") + "}")
                } else {
                    ForecastCommon.output(results[0].json(extra: common))
                }
            } else {
                for result in results {
                    if several { ForecastCommon.output("column '\(result.column)':") }
                    ForecastCommon.output(result.markdownTable())
                    let level = Int(((result.forecaster.config.intervalCoverage ?? modelOptions.coverage) * 100).rounded())
                    ForecastCommon.output("best by MASE: \(result.best); \(level)% intervals cover \(String(format: "%.1f", result.coverage * 100))%")
                }
                ForecastCommon.output(String(format: "backtest in %.1f s (%.1f s CPU); report: ", seconds, cpuSeconds) + folder.reportURL.path)
            }
        }

        /// The forecasts of one column (`table`'s first) from every origin, by the model trained
        /// before the first origin (or, with --refit, before each) and by the baselines refitted at each.
        func backtest(
            _ table: SeriesTable, forecaster trained: NeuralForecaster, origins: [Int], timeLimit: TimeLimit?,
            quietTraining: TrainingOptions, runsAfter: Int
        ) throws -> ColumnResult {
            let y = table.columns[0].values
            let H = series.horizon
            var forecaster = trained
            let config = trained.config
            let names = [config.model.rawValue] + Baseline.allCases.map(\.rawValue)
            var perOrigin: [String: [ForecastMetrics]] = [:]
            var lastStep: [String: [(actual: Double, forecast: Double)]] = [:]
            var covered = 0, total = 0
            for (k, origin) in origins.enumerated() {
                if refit && k > 0 {
                    var again = try ForecastTraining.configure(table: table, series: series, model: modelOptions, training: quietTraining, trainingRows: origin,
                                                               differencing: config.transform.differencing, offeredCalendar: config.offeredCalendar == true)
                    // A combination is refitted whole: each partner's differencing on the same rows.
                    again.partners = try config.partners?.map {
                        try ForecastTraining.configure(table: table, series: series, model: modelOptions, training: quietTraining, trainingRows: origin,
                                                       differencing: $0.transform.differencing, offeredCalendar: $0.offeredCalendar == true)
                    }
                    forecaster = try ForecastTraining.trainCombination(
                        config: &again, table: table, folder: nil, training: quietTraining, timeLimit: timeLimit,
                        runsAfter: (origins.count - 1 - k) * again.ensemble + runsAfter, coverage: modelOptions.coverage, say: { _ in })
                }
                let history = Array(y[0..<origin])
                let inputs = try forecaster.inputs(y: y, covariates: table.covariates.map(\.values), times: table.times)
                let actual = Array(y[origin..<(origin + H)])
                var forecasts = [try forecaster.forecast(inputs, y: y, origins: [origin], steps: H)[0]]
                for baseline in Baseline.allCases { forecasts.append(try baseline.forecast(history, horizon: H, season: config.season)) }
                for (name, forecast) in zip(names, forecasts) {
                    perOrigin[name, default: []].append(try ForecastMetrics(actual: actual, forecast: forecast, inSample: history, season: config.season))
                    lastStep[name, default: []].append((actual[H - 1], forecast[H - 1]))
                }
                if let bounds = try forecaster.bounds([forecasts[0]], inputs: inputs, y: y, origins: [origin])?.first {
                    let (lower, upper) = bounds
                    covered += zip(actual, zip(lower, upper)).filter { $0 >= $1.0 && $0 <= $1.1 }.count
                    total += H
                }
            }
            let means = perOrigin.mapValues { ForecastMetrics.mean($0)! }
            let lastMAPE = lastStep.mapValues { pairs in 100 * pairs.map { abs($0.actual - $0.forecast) / abs($0.actual) }.reduce(0, +) / Double(pairs.count) }
            let best = names.min { (means[$0]!.mase ?? means[$0]!.mae) < (means[$1]!.mase ?? means[$1]!.mae) }!
            return ColumnResult(column: config.column, names: names, means: means, lastStepMAPE: lastMAPE, best: best,
                                covered: covered, total: total, forecaster: trained)
        }
    }
}
