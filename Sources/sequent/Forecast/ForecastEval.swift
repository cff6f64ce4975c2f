import ArgumentParser
import Foundation
import SequentData
import SequentTensor

extension Sequent.Forecast {
    /// `sequent forecast eval DIR`: the metrics of the held-out part, for the model and every baseline.
    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score a forecast model folder and the baselines on the held-out end of its training file (or of --csv FILE, split the same way).")

        @Argument(help: "The model folder `sequent forecast train --out` wrote.")
        var folder: String

        @Option(help: "Another CSV file with the same columns; its last rows (as many as the model's test part) are scored. `-` reads standard input.")
        var csv: String?

        @Flag(help: "Print one JSON object: an entry per model and baseline with mae, rmse, mape, smape, mase, and \"best\" by MASE.")
        var json = false

        @Option(parsing: .unconditional, help: "Threads for the model (default: all cores).")
        var threads: Int?

        func run() throws {
            let threadCount = try ThreadCount.checked(threads)
            let (_, forecaster) = try ForecastCommon.load(folder)
            let table = try ForecastCommon.table(for: forecaster.config, csv: csv)
            if !json { for note in table.notes { ForecastCommon.warn("note: \(note)") } }
            let evaluation = try Parallelism.withThreads(threadCount) {
                try ForecastEvaluation.run(config: forecaster.config, forecaster: forecaster, table: table)
            }
            print(json ? evaluation.json() : evaluation.text())
        }
    }
}
