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
                swing grows with its level) and seasonal differencing when the series is \
                seasonal. On AirPassengers (144 months) a run takes a few seconds on one core.
                Writes DIR/config.json, model.safetensors (every member; keys members.K.* \
                for an ensemble), report.md, forecast.svg, and the first member's checkpoints/, \
                metrics.jsonl and TensorBoard events (member K's in DIR/member-K).
                """)

        @OptionGroup var series: SeriesOptions
        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var training: TrainingOptions

        func run() throws {
            let started = Date()
            let cpuClock = clock()
            let say: (String) -> Void = { if !training.quiet { ForecastCommon.output($0) } }
            let table = try series.read()
            let folder = try ModelFolder.create(at: training.outURL, task: Sequent.Forecast.task)
            if !training.resume, FileManager.default.fileExists(atPath: folder.configURL.path) {
                throw SequentError.invalidArgument("--out", "\(folder.url.path) already holds a forecast model; choose another folder, or --resume it")
            }
            var config = try ForecastTraining.configure(table: table, series: series, model: modelOptions, training: training)
            ForecastCommon.describe(table, season: config.season, quiet: training.quiet, to: say)
            say("""
                training part: rows 1-\(config.trainingSize) (validation: the last \(config.validationSize) of them), test part: the last \(config.testSize) rows
                model: \(config.ensemble > 1 ? "\(config.ensemble) x " : "")\(config.model.rawValue), hidden \(config.hidden), \(config.layers) layer\(config.layers == 1 ? "" : "s"), \
                window \(config.window), \(config.strategy.rawValue) strategy, transform: \(config.transform.logarithm ? "log" : "no log"), \(config.transform.differencing == .none ? "no" : config.transform.differencing.rawValue) differencing
                """)
            ForecastCommon.describeChoice(config, say: say)
            try folder.writeConfig(config, version: Sequent.version)
            let curve = LearningCurve()
            let forecaster = try ForecastTraining.train(
                config: &config, table: table, folder: folder, training: training, coverage: modelOptions.coverage, curve: curve, say: say)
            try folder.saveWeights(of: NeuralForecaster.weightsModule(forecaster.members))
            try folder.writeConfig(config, version: Sequent.version)
            let evaluation = try ForecastEvaluation.run(config: config, forecaster: forecaster, table: table)
            let seconds = Date().timeIntervalSince(started)
            let cpuSeconds = Double(clock() - cpuClock) / Double(CLOCKS_PER_SEC)
            try Self.writeReport(folder: folder, config: config, evaluation: evaluation, table: table, curve: curve,
                                 wallSeconds: seconds, cpuSeconds: cpuSeconds)
            ForecastCommon.output(evaluation.text())
            ForecastCommon.output(String(format: "trained in %.1f s (%.1f s CPU, ", seconds, cpuSeconds) + "\(training.threadCount) thread\(training.threadCount == 1 ? "" : "s"))")
            ForecastCommon.output("model: \(folder.url.path) (report.md, forecast.svg)")
            ForecastCommon.output("next: sequent forecast predict \(folder.url.path)   |   sequent forecast eval \(folder.url.path) --json")
        }

        /// `report.md` and `forecast.svg`.
        static func writeReport(
            folder: ModelFolder, config: ForecastConfig, evaluation: ForecastEvaluation, table: SeriesTable,
            curve: LearningCurve, wallSeconds: Double, cpuSeconds: Double
        ) throws {
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
            let svg = evaluation.chart(title: "\(config.column): forecasts of the last \(config.testSize) rows", column: config.column,
                                       historyShown: max(3 * config.testSize, 2 * config.season))
            try folder.write(text: svg, to: "forecast.svg")
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
            let text = """
                # Forecast of `\(config.column)`

                Data: `\(config.csv)`, \(config.rows) rows, \(config.frequency) (season \(config.season)). Notes on reading: \(notes).

                Split (chronological): training rows 1-\(config.trainingSize) (the model fits on the first \(config.fittingSize); \
                the last \(config.validationSize) are its validation part, for early stopping and the intervals), \
                test rows \(config.trainingSize + 1)-\(config.rows), forecast in blocks of \(config.horizon) steps, each from the actual values before it. \
                The scaling is fitted on the fitting part only.

                Model: \(config.ensemble > 1 ? "an ensemble of \(config.ensemble) " : "")\(config.model.rawValue) (hidden \(config.hidden), \(config.layers) layer(s), dropout \(config.dropout)), \
                window \(config.window), \(config.strategy.rawValue) strategy, reading \(config.transform.logarithm ? "log " : "")values with \(config.transform.differencing.rawValue) differencing\
                \(config.covariates.isEmpty ? "" : ", covariates \(config.covariates.joined(separator: ", "))")\(config.calendar.isEmpty ? "" : ", calendar \(config.calendar.map(\.rawValue).joined(separator: ", "))"); \
                \(config.steps) steps at most (stopped at \(config.trainedSteps.map(String.init).joined(separator: ", "))), batch \(config.batchSize), learning rate \(config.learningRate), seed \(config.seed). \
                Time: \(String(format: "%.1f", wallSeconds)) s wall, \(String(format: "%.1f", cpuSeconds)) s CPU.

                ## Test metrics

                \(evaluation.markdownTable())

                MAPE and sMAPE in percent; sMAPE and MASE as M4 defines them (MASE scaled by the in-sample seasonal-naive MAE, season \(config.season)). \
                Best by MASE: **\(Baseline(rawValue: best)?.title ?? best)**. \(verdict)

                Prediction intervals: \(Int((evaluation.nominalCoverage * 100).rounded()))% split-conformal, from the validation errors at each step ahead; \
                they cover **\(String(format: "%.1f", evaluation.coverage * 100))%** of the \(evaluation.actual.count) test values.

                ![forecast](forecast.svg)

                ## Training

                ![learning curve](learning_curve.svg)

                ![validation MAE](validation.svg)
                """
            try folder.write(text: text + "\n", to: ModelFolder.reportFileName)
        }
    }
}
