import ArgumentParser
import Foundation
import SequentData
import SequentTensor

extension Sequent.Forecast {
    /// `sequent forecast predict DIR`: the H steps after the end of a file, with intervals, as CSV.
    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forecast the horizon after the end of a CSV file with a trained model; CSV on standard output (time, forecast, lower, upper).",
            discussion: "The file defaults to the one the model was trained on; `--csv -` reads standard input. Every row of the file is history: nothing is held out.")

        @Argument(help: "The model folder `sequent forecast train --out` wrote.")
        var folder: String

        @Option(help: "The CSV file whose continuation to forecast (same columns as in training; `-` for standard input).")
        var csv: String?

        @OptionGroup var threads: ThreadOption

        func run() throws {
            let (_, forecasters) = try ForecastCommon.load(folder)
            let table = try ForecastCommon.table(for: forecasters.map(\.config), csv: csv)
            for note in table.notes { ForecastCommon.warn("note: \(note)") }
            // Per column: the forecast, the lower and the upper bounds.
            var columns: [(name: String, level: Int, values: [Double], lower: [Double], upper: [Double])] = []
            for (i, forecaster) in forecasters.enumerated() {
                let config = forecaster.config
                let y = table.columns[i].values
                guard y.count >= forecaster.firstOrigin else {
                    throw SequentError.invalidArgument("--csv", "\(table.path) has \(y.count) rows; the model of '\(config.column)' reads \(forecaster.firstOrigin) (window \(config.window) + differencing lag \(config.transform.lag))")
                }
                let inputs = try forecaster.inputs(y: y, covariates: table.covariates.map(\.values), times: table.times)
                let (forecast, lower, upper) = try Parallelism.withThreads(threads.count) {
                    let forecast = try forecaster.forecast(inputs, y: y, origins: [y.count], steps: config.horizon)[0]
                    let bounds = try forecaster.bounds([forecast], inputs: inputs, y: y, origins: [y.count])?[0] ?? (forecast, forecast)
                    return (forecast, bounds.0, bounds.1)
                }
                columns.append((config.column, Int(((config.intervalCoverage ?? 0) * 100).rounded()), forecast, lower, upper))
            }
            let config = forecasters[0].config
            let single = columns.count == 1
            let header = columns.map { c in single ? "\(c.name),lower_\(c.level),upper_\(c.level)" : "\(c.name),\(c.name)_lower_\(c.level),\(c.name)_upper_\(c.level)" }
            print(([config.timeColumn ?? "row"] + header).joined(separator: ","))
            let last = table.times.last!
            for h in 0..<config.horizon {
                let time = config.frequency.advance(last, by: h + 1).formatted(for: config.frequency)
                let cells = columns.map { c in [c.values[h], c.lower[h], c.upper[h]].map { ForecastEvaluation.number($0) }.joined(separator: ",") }
                print(([time] + cells).joined(separator: ","))
            }
        }
    }
}
