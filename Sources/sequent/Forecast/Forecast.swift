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
                prediction intervals (split-conformal, from the validation errors).
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
        say("differencing: \(config.transform.differencing.rawValue), chosen on the fitting part (seasonal strength \(ForecastEvaluation.fixed(config.seasonalStrength)): both above 0.64; else KPSS \(ForecastEvaluation.fixed(config.kpss)): first above 0.463); --difference overrides")
    }

    /// Opens a forecast model folder: its configuration and its models, in evaluation mode.
    static func load(_ path: String) throws -> (folder: ModelFolder, forecaster: NeuralForecaster) {
        let folder = try ModelFolder.open(URL(fileURLWithPath: path), task: Sequent.Forecast.task)
        let config = try folder.readConfig(as: ForecastConfig.self)
        let members = try NeuralForecaster.makeMembers(config)
        let weights = try SafeTensors.read(from: folder.weightsURL)
        try NeuralForecaster.weightsModule(members).loadStateDictionary(weights.tensors)
        members.forEach { $0.setTraining(false) }
        return (folder, NeuralForecaster(config: config, members: members))
    }

    /// The file a model folder's command reads: `csv` if given, else the training file.
    static func table(for config: ForecastConfig, csv: String?) throws -> SeriesTable {
        let path = csv ?? config.csv
        let table: CSVTable
        if path == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard let text = String(data: data, encoding: .utf8) else { throw SequentError.malformedFile("<stdin>", "is not UTF-8 text") }
            table = try CSVTable.parse(text, path: "<stdin>")
        } else {
            table = try CSVTable.read(URL(fileURLWithPath: path))
        }
        return try SeriesTable.make(from: table, timeColumn: config.timeColumn, columns: [config.column], covariates: config.covariates, missing: config.missing)
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
