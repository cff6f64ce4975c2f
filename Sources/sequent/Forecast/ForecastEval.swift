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

        @Flag(help: "Print one JSON object: an entry per model and baseline with mae, rmse, mape, smape, mase, and \"best\" by MASE (for several columns, one such object per column under \"columns\").")
        var json = false

        @OptionGroup var threads: ThreadOption

        func run() throws {
            let (_, forecasters) = try ForecastCommon.load(folder)
            let table = try ForecastCommon.table(for: forecasters.map(\.config), csv: csv)
            if !json { for note in table.notes { ForecastCommon.warn("note: \(note)") } }
            let evaluations = try Parallelism.withThreads(threads.count) {
                try forecasters.enumerated().map { i, forecaster in
                    try ForecastEvaluation.run(config: forecaster.config, forecaster: forecaster, table: ForecastCommon.column(i, of: table))
                }
            }
            if json {
                print(ForecastEvaluation.json(evaluations))
            } else {
                print(evaluations.map { $0.text() }.joined(separator: "\n\n"))
            }
        }
    }
}
