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

        @Option(parsing: .unconditional, help: "Threads for the model (default: all cores).")
        var threads: Int?

        func run() throws {
            let threadCount = try ThreadCount.checked(threads)
            let (_, forecaster) = try ForecastCommon.load(folder)
            let config = forecaster.config
            let table = try ForecastCommon.table(for: config, csv: csv)
            for note in table.notes { ForecastCommon.warn("note: \(note)") }
            let y = table.columns[0].values
            guard y.count >= forecaster.firstOrigin else {
                throw SequentError.invalidArgument("--csv", "\(table.path) has \(y.count) rows; the model reads \(forecaster.firstOrigin) (window \(config.window) + differencing lag \(config.transform.lag))")
            }
            let inputs = try forecaster.inputs(y: y, covariates: table.covariates.map(\.values), times: table.times)
            let forecast = try Parallelism.withThreads(threadCount) {
                try forecaster.forecast(inputs, y: y, origins: [y.count], steps: config.horizon)[0]
            }
            let (lower, upper) = config.intervals?.bounds(forecast, logarithm: config.transform.logarithm) ?? (forecast, forecast)
            let level = Int(((config.intervals?.coverage ?? 0) * 100).rounded())
            print("\(config.timeColumn ?? "row"),\(config.column),lower_\(level),upper_\(level)")
            let last = table.times.last!
            for h in 0..<config.horizon {
                let time = config.frequency.advance(last, by: h + 1)
                print("\(time.formatted(for: config.frequency)),\(ForecastEvaluation.number(forecast[h])),\(ForecastEvaluation.number(lower[h])),\(ForecastEvaluation.number(upper[h]))")
            }
        }
    }
}
