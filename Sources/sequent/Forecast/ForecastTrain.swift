import ArgumentParser
import Foundation
import SequentData
import SequentLab
import SequentNN
import SequentTensor
import SequentTrain

extension Sequent.Forecast {
    /// `sequent forecast train`: trains a model on the training part of a series and scores
    /// it and the baselines on the held-out part.
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a forecasting model on a CSV column and score it against the baselines on the held-out end.",
            discussion: """
                Defaults: an ensemble of 5 LSTMs of 32 units, 1 layer, recursive strategy, 600 AdamW steps \
                (learning rate 3e-3, cosine decay) on batches of 32 windows, early stopping on \
                the validation MAE; --transform auto (log for a positive series whose seasonal \
                swing grows with its level) and the differencing whose model has the lowest \
                mean validation MAE over 3 rolling-origin folds of the training part \
                (--difference validate, --folds, --val-size); --combine N averages the \
                models of the N best differencings. On AirPassengers (144 months) a run \
                takes 5-10 s of CPU on one core (a Transformer about a minute).
                Writes DIR/config.json, model.safetensors (every member; keys members.K.* \
                for an ensemble), report.md, forecast.svg, and the first member's checkpoints/, \
                metrics.jsonl and TensorBoard events (member K's in DIR/member-K).
                """)

        @OptionGroup var series: SeriesOptions
        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var training: TrainingOptions

        func run() throws {
            try training.distribution.run { try train(distributed: $0) }
        }

        /// The training, on every rank of a data-parallel run (`distributed`; rank 0 alone
        /// writes and prints), or alone.
        private func train(distributed: Distributed?) throws {
            let isRoot = distributed?.isRoot ?? true
            let started = Date()
            let timeLimit = training.timeLimit(startedAt: MetricsClock.system.monotonicSeconds())
            let cpuClock = clock()
            let say: (String) -> Void = { if !training.quiet && isRoot { ForecastCommon.output($0) } }
            let table = try series.read()
            let folder = try ModelFolder.create(at: training.outURL, task: Sequent.Forecast.task, writes: isRoot)
            if isRoot, !training.resume, FileManager.default.fileExists(atPath: folder.configURL.path) {
                throw SequentError.invalidArgument("--out", "\(folder.url.path) already holds a forecast model; choose another folder, or --resume it")
            }
            // Every column is configured (and its data checked) before any training starts.
            let tables = table.columns.indices.map { ForecastCommon.column($0, of: table) }
            // Every column is checked first; then the differencing of each is chosen on its validation part.
            _ = try tables.map { try ForecastTraining.configure(table: $0, series: series, model: modelOptions, training: training, ranks: distributed?.size ?? 1) }
            var configs = try tables.enumerated().map { i, single in
                try ForecastTraining.chooseDifferencing(
                    table: single, series: series, model: modelOptions, training: training, timeLimit: timeLimit,
                    runsAfter: (tables.count - i) * modelOptions.ensemble * modelOptions.combine, distributed: distributed)
            }
            let several = configs.count > 1
            let previous = ForecastCommon.previousConfigs(in: folder, resume: training.resume)
            if let distributed {
                try distributed.checkAgreement(on: configs, threads: training.threadCount, resume: training.resume)
                say(distributed.summary(globalBatch: configs[0].batchSize, threads: training.threadCount))
            }
            if isRoot { try folder.writeConfig(ForecastFolderConfig(columns: configs), version: Sequent.version) }
            let curve = LearningCurve()
            var forecasters: [NeuralForecaster] = []
            for (i, single) in tables.enumerated() {
                let config = configs[i]
                ForecastCommon.describe(single, season: config.season, quiet: training.quiet || i > 0, to: say)
                say("""
                    \(several ? "column '\(config.column)': " : "")training part: rows 1-\(config.trainingSize) (validation: the last \(config.validationSize) of them), test part: the last \(config.testSize) rows
                    model: \(config.ensemble > 1 ? "\(config.ensemble) x " : "")\(config.model.rawValue)\(config.highway == true ? " + linear highway" : ""), hidden \(config.hidden), \(config.layers) layer\(config.layers == 1 ? "" : "s"), \
                    window \(config.window), \(config.strategy.rawValue) strategy, transform: \(config.transform.logarithm ? "log" : "no log"), \(config.transform.differencing == .none ? "no" : config.transform.differencing.rawValue) differencing
                    """)
                ForecastCommon.describeChoice(config, say: say)
                // One column's checkpoints and logs are the folder's own; several columns' go to DIR/COLUMN.
                let root = several ? try ModelFolder.create(at: folder.file(ForecastCommon.fileName(config.column)), task: Sequent.Forecast.task, writes: isRoot) : folder
                if isRoot { try ForecastCommon.discardStaleCheckpoints(of: config, previous: previous, in: root, say: say) }
                forecasters.append(try ForecastTraining.trainCombination(
                    config: &configs[i], table: single, folder: root, training: training, timeLimit: timeLimit,
                    runsAfter: configs[(i + 1)...].reduce(0) { $0 + $1.ensemble * (1 + ($1.partners?.count ?? 0)) }, coverage: modelOptions.coverage,
                    curve: i == 0 ? curve : nil, distributed: distributed, say: say))
            }
            // The other ranks are done: rank 0 keeps the weights, evaluates and reports.
            guard isRoot else { return }
            try ForecastCommon.saveWeights(forecasters, in: folder)
            try folder.writeConfig(ForecastFolderConfig(columns: configs), version: Sequent.version)
            let evaluations = try zip(forecasters, tables).map { forecaster, single in
                try ForecastEvaluation.run(config: forecaster.config, forecaster: forecaster, table: single)
            }
            let seconds = Date().timeIntervalSince(started)
            let cpuSeconds = Double(clock() - cpuClock) / Double(CLOCKS_PER_SEC)
            try Self.writeReport(folder: folder, configs: configs, evaluations: evaluations, table: table, curve: curve,
                                 wallSeconds: seconds, cpuSeconds: cpuSeconds)
            ForecastCommon.output(evaluations.map { $0.text() }.joined(separator: "\n\n"))
            ForecastCommon.output(String(format: "trained in %.1f s (%.1f s CPU, ", seconds, cpuSeconds) + "\(training.threadCount) thread\(training.threadCount == 1 ? "" : "s"))")
            ForecastCommon.output("model: \(folder.url.path) (report.md, \(several ? "forecast-COLUMN.svg" : "forecast.svg"))")
            ForecastCommon.output("next: sequent forecast predict \(folder.url.path)   |   sequent forecast eval \(folder.url.path) --json")
        }

        /// How the differencing was chosen and, with `--combine`, what is averaged (ends with a space when not empty).
        static func choiceSentence(_ config: ForecastConfig) -> String {
            var text = ""
            if let scores = config.differencingValidationMAE, let folds = config.differencingFolds {
                let listed = scores.sorted { $0.value < $1.value }.map { "\($0.key) \(ForecastEvaluation.fixed($0.value))" }.joined(separator: ", ")
                text += "Differencing chosen by the mean validation MAE over \(folds.count) rolling-origin fold(s) of \(folds.validationLength) rows, origins \(folds.step) rows apart, of the training part (\(listed)). "
            }
            if let partners = config.partners, !partners.isEmpty {
                let names = ([config] + partners).map(\.candidateName).joined(separator: ", ")
                text += "The forecast is the average of the \(names) differencings' models (their averaged fold forecasts' MAE \(ForecastEvaluation.fixed(config.combinationValidationMAE))); its intervals are the mean of their bounds; members stopped at \(partners.map { $0.trainedSteps.map(String.init).joined(separator: ", ") }.joined(separator: "; ")). "
            }
            return text
        }

        /// `report.md` with its plots: the forecast of each column, the first member's learning curves.
        static func writeReport(
            folder: ModelFolder, configs: [ForecastConfig], evaluations: [ForecastEvaluation], table: SeriesTable,
            curve: LearningCurve, wallSeconds: Double, cpuSeconds: Double
        ) throws {
            let config = configs[0]
            if !curve.losses.isEmpty {
                let chart = LineChart(
                    title: "Learning curve (first member)", x: Axis("step"), y: Axis("training loss (MSE, scaled units)", scale: .log),
                    series: [LineSeries(name: "training loss", points: curve.losses.map { (Double($0.step), $0.value) })])
                try folder.write(text: chart.svg, to: "learning_curve.svg")
            }
            if !curve.validation.isEmpty {
                let chart = LineChart(
                    title: "Validation MAE (first member; early stopping keeps the best)", x: Axis("step"), y: Axis("MAE (\(config.column))"),
                    series: [LineSeries(name: "validation MAE", points: curve.validation.map { (Double($0.step), $0.value) })])
                try folder.write(text: chart.svg, to: "validation.svg")
            }
            let several = configs.count > 1
            var sections: [String] = []
            for (config, evaluation) in zip(configs, evaluations) {
                let svgName = several ? "forecast-\(ForecastCommon.fileName(config.column)).svg" : "forecast.svg"
                let svg = evaluation.chart(title: "\(config.column): forecasts of the last \(config.testSize) rows", column: config.column,
                                           historyShown: max(3 * config.testSize, 2 * config.season))
                try folder.write(text: svg, to: svgName)
                let best = evaluation.best
                let modelMetrics = evaluation.metrics[evaluation.modelName]!
                var losses: [String] = []
                for baseline in Baseline.allCases {
                    let m = evaluation.metrics[baseline.rawValue]!
                    if let a = modelMetrics.mase, let b = m.mase, a >= b {
                        losses.append("\(baseline.title) (MASE \(ForecastEvaluation.fixed(b)) against \(ForecastEvaluation.fixed(a)))")
                    }
                }
                let verdict = losses.isEmpty
                    ? "The \(config.model.rawValue) model beats every baseline by MASE on this split."
                    : "**The \(config.model.rawValue) model loses to \(losses.joined(separator: ", ")) by MASE on this split.**"
                let notes = table.notes.isEmpty ? "none" : table.notes.joined(separator: "; ")
                sections.append("""
                    \(several ? "## Column" : "# Forecast of") `\(config.column)`

                    Data: `\(config.csv)`, \(config.rows) rows, \(config.frequency) (season \(config.season)). Notes on reading: \(notes).

                    Split (chronological): training rows 1-\(config.trainingSize) (the model fits on the first \(config.fittingSize); \
                    the last \(config.validationSize) are its validation part, for early stopping and the intervals), \
                    test rows \(config.trainingSize + 1)-\(config.rows), forecast in blocks of \(config.horizon) steps, each from the actual values before it. \
                    The scaling is fitted on the fitting part only.

                    Model: \(config.ensemble > 1 ? "an ensemble of \(config.ensemble) " : "")\(config.model.rawValue) (hidden \(config.hidden), \(config.layers) layer(s), dropout \(config.dropout)\(config.highway == true ? ", with a linear highway" : "")), \
                    window \(config.window), \(config.strategy.rawValue) strategy, reading \(config.transform.logarithm ? "log " : "")values with \(config.transform.differencing.rawValue) differencing\
                    \(config.covariates.isEmpty ? "" : ", covariates \(config.covariates.joined(separator: ", "))")\(config.calendar.isEmpty ? "" : ", calendar \(config.calendar.map(\.rawValue).joined(separator: ", "))"); \
                    \(config.steps) steps at most (stopped at \(config.trainedSteps.map(String.init).joined(separator: ", "))), batch \(config.batchSize), learning rate \(config.learningRate), seed \(config.seed). \
                    \(Self.choiceSentence(config))\
                    Time: \(String(format: "%.1f", wallSeconds)) s wall, \(String(format: "%.1f", cpuSeconds)) s CPU.

                    \(several ? "###" : "##") Test metrics

                    \(evaluation.markdownTable())

                    MAPE and sMAPE in percent; sMAPE and MASE as M4 defines them (MASE scaled by the in-sample seasonal-naive MAE, season \(config.season)). \
                    Best by MASE: **\(Baseline(rawValue: best)?.title ?? best)**. \(verdict)

                    Prediction intervals: \(Int((evaluation.nominalCoverage * 100).rounded()))% \(config.quantiles == nil ? "split-conformal, from the validation errors at each step ahead" : "quantile heads (pinball loss), the \(config.quantiles!.map { ForecastEvaluation.fixed($0) }.joined(separator: ", ")) quantiles of every step\(config.quantileCorrections.map { ", conformalized (CQR) on the validation part: widened by \(ForecastEvaluation.fixed($0.corrections.first)) to \(ForecastEvaluation.fixed($0.corrections.last))\(config.transform.logarithm ? " log units" : "")" } ?? "")"); \
                    they cover **\(String(format: "%.1f", evaluation.coverage * 100))%** of the \(evaluation.actual.count) test values.

                    ![forecast](\(svgName))
                    """)
            }
            let title = several ? "# Forecasts of \(configs.map { "`\($0.column)`" }.joined(separator: ", "))\n\n" : ""
            let text = title + sections.joined(separator: "\n\n") + """


                ## Training\(several ? " (the first column's first member)" : "")

                ![learning curve](learning_curve.svg)

                ![validation MAE](validation.svg)
                """
            try folder.write(text: text + "\n", to: ModelFolder.reportFileName)
        }
    }
}
