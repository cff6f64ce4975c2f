import ArgumentParser
import Foundation
import SequentData
import SequentNN
import SequentTensor

/// How a neural model produces H steps: all at once from one window, or one at a time with
/// each prediction fed back as input.
enum ForecastStrategy: String, Codable, CaseIterable, ExpressibleByArgument { case direct, recursive }

/// `--intervals`: split-conformal intervals around the point forecast, from validation
/// errors, or the quantile heads of a model trained on the pinball loss.
enum IntervalMethod: String, Codable, CaseIterable, ExpressibleByArgument { case conformal, quantile }

/// `--transform`: none, log, or log when every training value is positive and the series
/// has a season whose amplitude grows with the level (chosen as documented in `--help`).
enum TransformChoice: String, Codable, CaseIterable, ExpressibleByArgument { case auto, none, log }

extension ForecastingModel.Architecture: ExpressibleByArgument {}
extension MissingValuePolicy: ExpressibleByArgument {}
extension CalendarFeature: ExpressibleByArgument {}

/// `--difference`: how the differencing is chosen on the training part (validate, the
/// default: the candidate with the lowest validation MAE; kpss: AutoARIMA's tests,
/// `DifferencingChoice`), or one of them given.
enum DifferenceOption: String, Codable, CaseIterable, ExpressibleByArgument {
    case validate, kpss, none, first, seasonal, both

    /// The differencing given; nil for the two rules.
    var given: SeriesTransform.Differencing? { SeriesTransform.Differencing(rawValue: rawValue) }
}

/// The data flags `train`, `backtest` share: which file, which columns, how to read them.
struct SeriesOptions: ParsableArguments {
    @Option(help: "The CSV file (header row; RFC 4180 quoting).")
    var csv: String

    @Option(name: .customLong("time-column"), help: "The column of dates, date-times (ISO 8601, YYYY-MM, YYYYMMDD) or numbers (default: the first column when it parses as times; else rows are numbered).")
    var timeColumn: String?

    @Option(help: "The column to forecast, or several, comma-separated (each gets its own models, trained one after another).")
    var column: String

    @Option(help: "Further numeric columns the model reads over its input window (past covariates), comma-separated.")
    var covariates: String?

    @Option(help: "Calendar features the model reads, comma-separated: month, weekday, hour (a sine and a cosine each), year (the time as a number, scaled to 0...1 over the training part and extrapolated linearly after it). Each input row carries the calendar of the step predicted after it (future covariates, known in advance: a recursive model reads the month of the step it predicts, a direct model the calendars of all H steps).")
    var calendar: String?

    @Option(name: .customLong("offer-calendar"), help: "Calendar features (as --calendar) that --difference validate's cross-validation offers as candidates: each differencing is also trained with them, and the folds choose both the differencing and whether the model reads them.")
    var offerCalendar: String?

    @Option(help: "Missing values (empty, NA, NaN, null): interpolate, ffill, drop or error.")
    var missing: MissingValuePolicy = .interpolate

    @Option(parsing: .unconditional, help: "Steps to forecast, H >= 1.")
    var horizon: Int

    @Option(parsing: .unconditional, help: "The season in rows (default: from the frequency: 12 monthly, 4 quarterly, 7 daily, 24 hourly, 52 weekly, else 1).")
    var season: Int?

    func validate() throws {
        if columnNames.isEmpty { throw ValidationError("--column must name a column") }
        if Set(columnNames).count != columnNames.count { throw ValidationError("--column names a column twice: \(column)") }
        if horizon < 1 || horizon > 100_000 { throw ValidationError("--horizon must be in 1...100000; got \(horizon)") }
        if let season, season < 1 || season > 100_000 { throw ValidationError("--season must be in 1...100000; got \(season)") }
    }

    var covariateNames: [String] { Self.list(covariates) }
    var columnNames: [String] { Self.list(column) }

    func calendarFeatures() throws -> [CalendarFeature] { try Self.calendarFeatures(calendar, flag: "--calendar") }
    func offeredCalendarFeatures() throws -> [CalendarFeature] { try Self.calendarFeatures(offerCalendar, flag: "--offer-calendar") }

    private static func calendarFeatures(_ text: String?, flag: String) throws -> [CalendarFeature] {
        try list(text).map { name in
            guard let feature = CalendarFeature(rawValue: name) else {
                throw ValidationError("\(flag): '\(name)' is not one of \(CalendarFeature.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return feature
        }
    }

    static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Reads the file; the time column defaults to the first column when all of it parses as times.
    func read() throws -> SeriesTable {
        let url = URL(fileURLWithPath: csv)
        let table = try CSVTable.read(url)
        var time = timeColumn
        if time == nil, let first = table.header.first, !columnNames.contains(first),
           !table.rows.isEmpty, table.rows.allSatisfy({ TimeStamp.parse($0.fields[0]) != nil }) {
            time = first
        }
        return try SeriesTable.make(from: table, timeColumn: time, columns: columnNames, covariates: covariateNames, missing: missing)
    }
}

/// The neural model's flags beyond `TrainingOptions`.
struct ModelOptions: ParsableArguments {
    @Option(help: "The encoder: lstm, gru, rnn or transformer.")
    var model: ForecastingModel.Architecture = .lstm

    @Flag(help: "A linear autoregression over the window beside the encoder (LSTNet's highway), which then models what it leaves.")
    var highway = false

    @Option(help: "direct: all H steps from one window (multi-output); recursive: one step at a time, fed back.")
    var strategy: ForecastStrategy = .recursive

    @Flag(name: .customLong("loss-every-step"), help: "Recursive recurrent models: train on the one-step forecast after every row of each window (a loss at each of the W positions, as Darts' RNNModel trains), not only after the last; forecasts still read the whole window.")
    var lossEveryStep = false

    @Option(parsing: .unconditional, help: "Past steps the model reads (default: max(2 x season, 2 x horizon, 8), at most a third of the series).")
    var window: Int?

    @Option(parsing: .unconditional, help: "Models trained with seeds seed, seed+1, ... whose forecasts are averaged.")
    var ensemble = 5

    @Option(help: "auto, none or log (auto: log for a positive series whose seasonal swing grows with its level).")
    var transform: TransformChoice = .auto

    @Option(help: "What the model reads and predicts: none, first, seasonal or both (first of seasonal) differences of the (log) series; validate (default): the one whose model has the lowest validation MAE, one model trained with each on the last max(--val-fraction, horizon) rows of the training part; kpss: AutoARIMA's rule on the training part (seasonal when the seasonal strength F_s > 0.64, then first when KPSS rejects stationarity at 5 %). The test part is never read.")
    var difference: DifferenceOption = .validate

    @Option(parsing: .unconditional, help: "Rolling-origin cross-validation folds for --difference validate: each candidate is trained on each fold's rows before its origin and scored on the --val-size rows after it, the choice made on the mean MAE over folds (fewer folds when the series is too short; 1: the last rows of the training part alone).")
    var folds = 3

    @Option(name: .customLong("val-size"), parsing: .unconditional, help: "The rows each cross-validation fold is scored on (default: max(--val-fraction of the training part, horizon) when that leaves half of it to fit, else --val-fraction).")
    var valSize: Int?

    @Option(parsing: .unconditional, help: "Average the forecasts of the models of the N differencings with the lowest cross-validation MAE, each an ensemble of --ensemble members (1: the best alone); the intervals are the mean of their bounds. Needs --difference validate.")
    var combine = 1

    /// --val-fraction's default: the last 20 % of the training part (chronologically) for
    /// early stopping and the intervals.
    static let defaultValFraction = 0.2

    @Option(name: .customLong("test-size"), help: "Rows held out at the end: a count, or a fraction such as 0.1 (default: the horizon).")
    var testSize: String?

    @Option(parsing: .unconditional, help: "The nominal coverage of the prediction intervals.")
    var coverage = 0.9

    @Option(help: "conformal: split-conformal intervals from the validation errors at each step ahead; quantile: the model predicts the (1 - coverage)/2, 0.5 and (1 + coverage)/2 quantiles of every step (pinball loss; the median is the forecast), their interval conformalized on the validation part (CQR, Romano et al. 2019), with --strategy direct only.")
    var intervals: IntervalMethod = .conformal

    func validate() throws {
        if !(1...20).contains(folds) { throw ValidationError("--folds must be in 1...20; got \(folds)") }
        if let valSize, valSize < 1 { throw ValidationError("--val-size must be at least 1; got \(valSize)") }
        if !(1...4).contains(combine) { throw ValidationError("--combine must be in 1...4 (the differencings none, first, seasonal, both); got \(combine)") }
        if !(1...64).contains(ensemble) { throw ValidationError("--ensemble must be in 1...64; got \(ensemble)") }
        if let window, window < 1 || window > 100_000 { throw ValidationError("--window must be in 1...100000; got \(window)") }
        if !(coverage > 0 && coverage < 1) { throw ValidationError("--coverage must be in (0, 1); got \(coverage)") }
        if let testSize, Self.parseSize(testSize) == nil {
            throw ValidationError("--test-size must be a count of rows (e.g. 36) or a fraction in (0, 1) (e.g. 0.1); got '\(testSize)'")
        }
    }

    /// A count (>= 1) or a fraction in (0, 1).
    static func parseSize(_ text: String) -> Double? {
        guard let value = Double(text), value.isFinite, value > 0, value <= 1e9 else { return nil }
        if value < 1 { return value }
        return value == value.rounded() ? value : nil
    }
}
