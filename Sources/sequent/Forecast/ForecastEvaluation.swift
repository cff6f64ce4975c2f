import Foundation
import SequentData
import SequentLab
import SequentTensor
import SequentTrain

/// The test part of a series forecast by the neural model and every baseline, with the
/// metrics of each, the intervals and their measured coverage.
struct ForecastEvaluation {
    var path: String
    var column: String
    var rows: Int
    var trainingSize: Int
    var times: [TimeStamp]
    var values: [Double]
    /// Each forecaster's forecast of the test part, the neural model first.
    var forecasts: [(name: String, values: [Double])]
    var metrics: [String: ForecastMetrics]
    var lower: [Double]
    var upper: [Double]
    var coverage: Double
    var nominalCoverage: Double
    var horizon: Int

    var actual: [Double] { Array(values[trainingSize...]) }
    var modelName: String { forecasts[0].name }

    /// The name with the lowest MASE (MAE where MASE is undefined).
    var best: String {
        forecasts.map(\.name).min { a, b in
            let (ma, mb) = (metrics[a]!, metrics[b]!)
            return (ma.mase ?? ma.mae) < (mb.mase ?? mb.mae)
        }!
    }

    /// Splits `table` as the configuration says (the last `config.testSize` rows are the test
    /// part) and forecasts that part in blocks of H from the actual values before each block.
    ///
    /// - Throws: `SequentError` when the file is too short for the model's window.
    static func run(config: ForecastConfig, forecaster: NeuralForecaster, table: SeriesTable) throws -> ForecastEvaluation {
        let y = table.columns[0].values
        let n = y.count
        let trainingSize = n - config.testSize
        guard trainingSize >= forecaster.firstOrigin, trainingSize > config.season else {
            throw SequentError.invalidArgument(
                "--csv", "\(table.path) has \(n) rows; after the \(config.testSize) test rows the model needs at least \(max(forecaster.firstOrigin, config.season + 1)) before them")
        }
        let range = trainingSize..<n
        let inputs = try forecaster.inputs(y: y, covariates: table.covariates.map(\.values), times: table.times)
        var forecasts: [(name: String, values: [Double])] = [(config.model.rawValue, try forecaster.blockForecast(inputs, y: y, range: range))]
        for baseline in Baseline.allCases {
            forecasts.append((baseline.rawValue, try baselineBlockForecast(baseline, y: y, range: range, horizon: config.horizon, season: config.season)))
        }
        let actual = Array(y[range])
        let inSample = Array(y[0..<trainingSize])
        var metrics: [String: ForecastMetrics] = [:]
        for (name, values) in forecasts {
            metrics[name] = try ForecastMetrics(actual: actual, forecast: values, inSample: inSample, season: config.season)
        }
        // Intervals: step h of each block takes the h-step half-width.
        let starts = Array(stride(from: 0, to: actual.count, by: config.horizon))
        let blocks = starts.map { Array(forecasts[0].values[$0..<min($0 + config.horizon, actual.count)]) }
        let bounds = try forecaster.bounds(blocks, inputs: inputs, y: y, origins: starts.map { trainingSize + $0 }) ?? []
        let lower = bounds.flatMap(\.lower), upper = bounds.flatMap(\.upper)
        return ForecastEvaluation(
            path: table.path, column: config.column, rows: n, trainingSize: trainingSize, times: table.times, values: y, forecasts: forecasts,
            metrics: metrics, lower: lower, upper: upper,
            coverage: lower.isEmpty ? 0 : ConformalIntervals.coverage(actual: actual, lower: lower, upper: upper),
            nominalCoverage: config.intervalCoverage ?? 0, horizon: config.horizon)
    }

    // MARK: - Output

    static func number(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "null" }
        return String(format: "%.6g", x)
    }

    /// The one JSON object of `eval --json`: this object for one column, for several
    /// `{"data", "rows", "columns": {"NAME": object, ...}}`.
    static func json(_ evaluations: [ForecastEvaluation]) -> String {
        if evaluations.count == 1 { return evaluations[0].json() }
        let columns = evaluations.map { "\(JSONText.quoted($0.column)): \($0.json())" }.joined(separator: ", ")
        return "{\"data\": \(JSONText.quoted(evaluations[0].path)), \"rows\": \(evaluations[0].rows), \"columns\": {\(columns)}}"
    }

    /// The JSON object of one column.
    func json() -> String {
        var fields: [String] = [
            "\"data\": \(JSONText.quoted(path))", "\"rows\": \(rows)", "\"test_rows\": \(rows - trainingSize)",
            "\"horizon\": \(horizon)",
        ]
        for (name, _) in forecasts {
            let m = metrics[name]!
            fields.append("\(JSONText.quoted(name)): {\"mae\": \(Self.number(m.mae)), \"rmse\": \(Self.number(m.rmse)), \"mape\": \(Self.number(m.mape)), \"smape\": \(Self.number(m.smape)), \"mase\": \(Self.number(m.mase))}")
        }
        fields.append("\"best\": \(JSONText.quoted(best))")
        if !lower.isEmpty {
            fields.append("\"interval\": {\"model\": \(JSONText.quoted(modelName)), \"nominal_coverage\": \(Self.number(nominalCoverage)), \"test_coverage\": \(Self.number(coverage))}")
        }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// The metrics as a Markdown table, the best row marked.
    func markdownTable() -> String {
        var lines = ["| forecast | MAE | RMSE | MAPE % | sMAPE % | MASE |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
        let best = self.best
        for (name, _) in forecasts {
            let m = metrics[name]!
            let title = Baseline(rawValue: name)?.title ?? name
            lines.append("| \(name == best ? "**\(title)**" : title) | \(Self.fixed(m.mae)) | \(Self.fixed(m.rmse)) | \(Self.fixed(m.mape)) | \(Self.fixed(m.smape)) | \(Self.fixed(m.mase)) |")
        }
        return lines.joined(separator: "\n")
    }

    static func fixed(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "-" }
        return abs(x) >= 1000 ? String(format: "%.0f", x) : String(format: "%.3f", x)
    }

    /// Plain lines for the terminal.
    func text() -> String {
        var lines = ["\(path), column '\(column)': \(rows) rows, the last \(rows - trainingSize) forecast in blocks of \(horizon) from the values before each block"]
        lines.append(String(repeating: " ", count: 16) + ["MAE", "RMSE", "MAPE%", "sMAPE%", "MASE"].map { $0.padding(toLength: 10, withPad: " ", startingAt: 0) }.joined())
        for (name, _) in forecasts {
            let m = metrics[name]!
            let cells = [m.mae, m.rmse, m.mape, m.smape, m.mase].map { Self.fixed($0).padding(toLength: 10, withPad: " ", startingAt: 0) }
            lines.append(name.padding(toLength: 16, withPad: " ", startingAt: 0) + cells.joined())
        }
        lines.append("best by MASE: \(best)")
        if !lower.isEmpty {
            lines.append("\(modelName) \(Int((nominalCoverage * 100).rounded()))% intervals cover \(String(format: "%.1f", coverage * 100))% of the test values")
        }
        return lines.joined(separator: "\n")
    }

    /// History, the forecasts, the intervals and the actual values of the test part.
    func chart(title: String, column: String, historyShown: Int) -> String {
        let start = max(0, trainingSize - historyShown)
        let dated = times.first?.kind == .date
        // Dates as fractional years (UTC), numbers as they are.
        func x(_ i: Int) -> Double { dated ? 1970 + times[i].value / 31_557_600 : times[i].value }
        let test = Array(trainingSize..<rows)
        var series = [LineSeries(name: "history", points: (start..<trainingSize).map { (x($0), values[$0]) }, colorIndex: 0),
                      LineSeries(name: "actual", points: test.map { (x($0), values[$0]) }, colorIndex: 0)]
        if !lower.isEmpty {
            let level = Int((nominalCoverage * 100).rounded())
            series.append(LineSeries(name: "\(level)% interval, lower", points: zip(test, lower).map { (x($0), $1) }, dashed: true, colorIndex: 1))
            series.append(LineSeries(name: "\(level)% interval, upper", points: zip(test, upper).map { (x($0), $1) }, dashed: true, colorIndex: 1))
        }
        for (k, forecast) in forecasts.enumerated() where k == 0 || forecast.name == Baseline.seasonalNaive.rawValue || forecast.name == Baseline.holtWinters.rawValue {
            series.append(LineSeries(name: Baseline(rawValue: forecast.name)?.title ?? forecast.name, points: zip(test, forecast.values).map { (x($0), $1) },
                                     dashed: k > 0, colorIndex: k == 0 ? 1 : k + 1))
        }
        return LineChart(title: title, x: Axis(dated ? "year" : "time"), y: Axis(column), series: series).svg
    }
}
