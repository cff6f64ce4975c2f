import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

/// `config.json`'s `config`: one forecast configuration per column forecast.
struct ForecastFolderConfig: Codable {
    var columns: [ForecastConfig]
}

/// Everything that rebuilds the forecasting models of one column and their data pipeline.
struct ForecastConfig: Codable {
    // The data.
    var csv: String
    var rows: Int
    var timeColumn: String?
    var column: String
    var covariates: [String]
    var calendar: [CalendarFeature]
    /// Whether each window row carries the calendar of the step after it, the step it
    /// predicts (future calendar covariates, `ForecastWindow`); nil in folders written before
    /// they existed, whose rows carry their own time's.
    var calendarAhead: Bool?
    /// The `year` calendar feature's scale, fitted on the training part's times.
    var yearScale: YearScale?
    var missing: MissingValuePolicy
    var frequency: Frequency
    var lastTime: TimeStamp
    /// The rows of the training part (the test part follows it); its last `validationSize`
    /// rows are the validation part, the rows before them the fitting part.
    var trainingSize: Int
    var validationSize: Int
    var testSize: Int

    // The forecast.
    var season: Int
    var horizon: Int
    var window: Int
    var strategy: ForecastStrategy
    var transform: SeriesTransform
    /// Mean and scale of each covariate over the fitting part.
    var covariateScales: [[Double]]
    /// The quantile heads' levels (lower, 0.5, upper) with `--intervals quantile`; nil for
    /// conformal intervals.
    var quantiles: [Double]?

    // The model.
    var model: ForecastingModel.Architecture
    /// A linear autoregression over the window beside the encoder (`--highway`; nil in
    /// folders written before it existed: none).
    var highway: Bool?
    /// `--loss-every-step`: trained with a loss after every row of the window (nil: after the last only).
    var lossEveryStep: Bool?
    var hidden: Int
    var layers: Int
    var dropout: Float
    var batchSize: Int
    var steps: Int
    var learningRate: Float
    var seed: UInt64
    var ensemble: Int
    /// Whether the differencing was chosen (`--difference validate` or `kpss`) rather than
    /// given, and `DifferencingChoice`'s statistics (on the training part).
    var differencingChosen = false
    /// How it was chosen: validate or kpss (`DifferencingChoice`); nil when given (and in
    /// folders written before `--difference kpss` existed, whose choice was validate).
    var differencingRule: DifferenceOption?
    /// Whether `calendar` holds `--offer-calendar`'s features because cross-validation chose
    /// the candidate with them (nil: it holds `--calendar`'s alone).
    var offeredCalendar: Bool?
    var seasonalStrength: Double?
    var kpss: Double?
    /// When chosen: the validation MAE of one model trained with each differencing that fits
    /// the series (`ForecastTraining.chooseDifferencing`).
    var differencingValidationMAE: [String: Double]?
    /// The rows at the end of the training part that choice was validated on (each fold's).
    var differencingValidationRows: Int?
    /// The rolling-origin folds the choice was cross-validated on (nil in folders written
    /// before `--folds` existed: one fold), and each candidate's MAE on each, fold 0 first.
    var differencingFolds: RollingOriginFolds?
    var differencingFoldMAE: [String: [Double]]?
    /// `--combine`: the configurations of the next-best differencings, whose models'
    /// forecasts are averaged with this one's (nil: this model alone), and the mean
    /// cross-validation MAE of that average.
    var partners: [ForecastConfig]?
    var combinationValidationMAE: Double?
    /// Filled after training: each member's best validation MAE.
    var validationMAE: [Double?]?

    /// Filled after training (conformal intervals only).
    var intervals: ConformalIntervals?
    /// Filled after training with quantile heads: CQR's correction of their interval at each
    /// step ahead (nil in folders written before it: the heads' quantiles as they are).
    var quantileCorrections: ConformalQuantiles?
    var trainedSteps: [Int] = []

    var fittingSize: Int { trainingSize - validationSize }
    /// The cross-validation candidate this configuration is: `seasonal`, `seasonal+calendar`.
    var candidateName: String { ForecastTraining.Candidate(differencing: transform.differencing, offeredCalendar: offeredCalendar == true).name }
    /// The rows the model reads: the window, and with the direct strategy and future
    /// calendars, H - 1 rows of the calendar of the steps after the first.
    var inputWindow: ForecastWindow {
        let ahead = calendarAhead ?? false
        return ForecastWindow(
            window: window, covariateCount: covariates.count, calendar: calendar, calendarAhead: ahead,
            futureSteps: ahead && strategy == .direct && !calendar.isEmpty ? horizon - 1 : 0, yearScale: yearScale)
    }
    var featureCount: Int { inputWindow.featureCount }
    var outputCount: Int { strategy == .direct ? horizon * (quantiles?.count ?? 1) : 1 }
    /// The steps one call of the model forecasts.
    var stepsPerCall: Int { strategy == .direct ? horizon : 1 }
    /// The intervals' nominal coverage; nil without intervals.
    var intervalCoverage: Double? { quantiles.map { $0[2] - $0[0] } ?? intervals?.coverage }
}

/// The neural forecaster: one model or an ensemble whose forecasts (in the model's scaled
/// space) are averaged, over the transform of `config`; with partners (`--combine`), the
/// average of its own forecast and theirs, in the series' units.
struct NeuralForecaster {
    let config: ForecastConfig
    let members: [ForecastingModel]
    /// The forecasters of `config.partners`, in their order.
    var partners: [NeuralForecaster] = []

    /// This forecaster without its partners.
    var alone: NeuralForecaster { NeuralForecaster(config: config, members: members) }

    /// Fresh models for `config` (member k drawn from seed + k).
    static func makeMembers(_ config: ForecastConfig) throws -> [ForecastingModel] {
        try (0..<config.ensemble).map { k in
            var generator = RandomGenerator(seed: config.seed &+ UInt64(k))
            return try ForecastingModel(
                architecture: config.model, featureCount: config.featureCount, outputCount: config.outputCount,
                hiddenSize: config.hidden, layerCount: config.layers, dropout: config.dropout,
                highwayWindow: config.highway == true ? config.inputWindow.length : nil, generator: &generator)
        }
    }

    /// The ensemble as one module, for the weights file: the model itself when there is one,
    /// `members.{k}.*` otherwise.
    static func weightsModule(_ members: [ForecastingModel]) -> any Module {
        members.count == 1 ? members[0] : Ensemble(members: members)
    }

    final class Ensemble: Module {
        let members: [ForecastingModel]
        var isTraining = false
        init(members: [ForecastingModel]) { self.members = members }
        var submodules: [(key: String, module: any Module)] { members.enumerated().map { ("members.\($0.offset)", $0.element) } }
    }

    /// The values the model reads at every time of `y` (and the calendar of later times).
    struct Inputs {
        /// u_t (NaN before the transform's lag).
        var scaled: [Double]
        /// Scaled covariates, [covariate][t].
        var covariates: [[Double]]
        var times: [TimeStamp]
        /// Each partner's inputs, in `partners`' order.
        var partners: [Inputs] = []
    }

    /// The model's inputs over a series.
    ///
    /// - Throws: `SequentError` naming the row where a value is not finite after the
    ///   transform and scaling (a zero or negative value under a log).
    func inputs(y: [Double], covariates: [[Double]], times: [TimeStamp]) throws -> Inputs {
        let lag = config.transform.lag
        let u = Array(repeating: Double.nan, count: min(lag, y.count)) + config.transform.forward(y)
        if let bad = u.indices.first(where: { $0 >= lag && !u[$0].isFinite }) {
            throw SequentError(.invalidValue, "column '\(config.column)', row \(bad + 1): the value \(y[bad]) is not finite after the model's transform (\(config.transform.logarithm ? "log, " : "")\(config.transform.differencing.rawValue) differencing) and scaling")
        }
        let scaledCovariates = covariates.enumerated().map { k, column in
            column.map { ($0 - config.covariateScales[k][0]) / config.covariateScales[k][1] }
        }
        let partnerInputs = try partners.map { try $0.inputs(y: y, covariates: covariates, times: times) }
        return Inputs(scaled: u, covariates: scaledCovariates, times: times, partners: partnerInputs)
    }

    /// The first origin a window fits before: W values after the lag (of every partner too).
    var firstOrigin: Int { partners.map(\.firstOrigin).reduce(config.transform.lag + config.window, max) }

    /// The mean of this forecaster's and its partners' `forecast`s, in the series' units.
    private func combinedForecast(_ inputs: Inputs, y: [Double], origins: [Int], steps: Int) throws -> [[Double]] {
        let parts = try [alone.forecast(inputs, y: y, origins: origins, steps: steps)]
            + zip(partners, inputs.partners).map { try $0.forecast($1, y: y, origins: origins, steps: steps) }
        return origins.indices.map { b in (0..<steps).map { h in parts.map { $0[b][h] }.reduce(0, +) / Double(parts.count) } }
    }

    /// Forecasts `steps` values from each origin o (covering times o..<o+steps, from the
    /// values before o), in the series' units; with quantile heads, the median.
    ///
    /// - Throws: `SequentError` when an origin has too little history for a window, or
    ///   when covariates would be needed beyond the data's end with the direct strategy.
    func forecast(_ inputs: Inputs, y: [Double], origins: [Int], steps: Int, models: [ForecastingModel]? = nil) throws -> [[Double]] {
        if models == nil, !partners.isEmpty {
            return try combinedForecast(inputs, y: y, origins: origins, steps: steps)
        }
        if config.quantiles != nil {
            return try quantileForecast(inputs, y: y, origins: origins, steps: steps, models: models).map { $0[1] }
        }
        let models = models ?? members
        guard !origins.isEmpty else { return [] }
        try checkOrigins(origins, y: y)
        var extended = origins.map { Array(inputs.scaled[0..<$0]) }
        var produced = 0
        while produced < steps {
            let output = try meanOutput(windows(inputs, values: extended, ends: origins.map { $0 + produced }), models: models)
            let take = min(config.outputCount, steps - produced)
            for b in origins.indices {
                for k in 0..<take { extended[b].append(output[b * config.outputCount + k]) }
            }
            produced += take
        }
        return origins.enumerated().map { b, o in
            config.transform.inverse(Array(extended[b][o..<(o + steps)]), history: Array(y[0..<o]))
        }
    }

    /// The quantile heads' forecasts of `steps` <= H values from each origin, in the series'
    /// units: [origin][quantile][step], the quantiles as `config.quantiles` (lower, median,
    /// upper). The members' quantiles are averaged (Vincentization); each step's quantiles
    /// are sorted, so that they never cross.
    ///
    /// - Throws: `SequentError` for more steps than the horizon, and as `forecast`.
    func quantileForecast(_ inputs: Inputs, y: [Double], origins: [Int], steps: Int, models: [ForecastingModel]? = nil) throws -> [[[Double]]] {
        let quantiles = config.quantiles ?? []
        let Q = quantiles.count
        guard Q > 0, config.strategy == .direct else {
            throw SequentError.invalidArgument("--intervals", "quantile forecasts need a model with quantile heads and --strategy direct")
        }
        guard steps <= config.horizon else {
            throw SequentError.invalidArgument("--horizon", "a model with quantile heads forecasts at most its horizon (\(config.horizon)) steps at once; asked for \(steps)")
        }
        guard !origins.isEmpty else { return [] }
        try checkOrigins(origins, y: y)
        let output = try meanOutput(windows(inputs, values: origins.map { Array(inputs.scaled[0..<$0]) }, ends: origins), models: models ?? members)
        return origins.enumerated().map { b, o in
            let history = Array(y[0..<o])
            var offsets = [[Double]](repeating: [], count: Q)
            for h in 0..<steps {
                let sorted = (0..<Q).map { output[b * config.outputCount + h * Q + $0] }.sorted()
                for q in 0..<Q { offsets[q].append(sorted[q]) }
            }
            return offsets.map { config.transform.fromOffsets($0, history: history) }
        }
    }

    /// The prediction intervals (lower, upper) of the forecasts `forecasts` from `origins`:
    /// conformal half-widths around them, or the quantile heads' outer quantiles; nil
    /// without intervals. With partners, the mean of each part's bounds around its own
    /// forecast (averaging the endpoints, as Gaba, Tsetlin and Winkler 2017 combine interval
    /// forecasts; each part's coverage is calibrated, the average's is not guaranteed).
    func bounds(_ forecasts: [[Double]], inputs: Inputs, y: [Double], origins: [Int]) throws -> [(lower: [Double], upper: [Double])]? {
        if !partners.isEmpty {
            var sums = forecasts.map { (lower: [Double](repeating: 0, count: $0.count), upper: [Double](repeating: 0, count: $0.count)) }
            for (part, partInputs) in zip([alone] + partners, [inputs] + inputs.partners) {
                for (b, o) in origins.enumerated() {
                    let own = try part.forecast(partInputs, y: y, origins: [o], steps: forecasts[b].count)
                    guard let bound = try part.bounds(own, inputs: partInputs, y: y, origins: [o])?[0] else { return nil }
                    for h in forecasts[b].indices {
                        sums[b].lower[h] += bound.lower[h]
                        sums[b].upper[h] += bound.upper[h]
                    }
                }
            }
            let n = Double(partners.count + 1)
            return sums.map { ($0.lower.map { $0 / n }, $0.upper.map { $0 / n }) }
        }
        if config.quantiles != nil {
            return try zip(origins, forecasts).map { o, forecast in
                let q = try quantileForecast(inputs, y: y, origins: [o], steps: forecast.count)[0]
                return config.quantileCorrections?.bounds(lower: q[0], upper: q[2], logarithm: config.transform.logarithm) ?? (q[0], q[2])
            }
        }
        guard let intervals = config.intervals else { return nil }
        return forecasts.map { intervals.bounds($0, logarithm: config.transform.logarithm) }
    }

    /// - Throws: `SequentError` when an origin has too little history for a window.
    private func checkOrigins(_ origins: [Int], y: [Double]) throws {
        for o in origins where o < firstOrigin || o > y.count {
            throw SequentError.invalidArgument(
                "forecast", "an origin at row \(o + 1) needs \(firstOrigin) earlier values (window \(config.window) + lag \(config.transform.lag)); the series has \(min(o, y.count)) before it")
        }
    }

    /// The timestamp of row t of `inputs`, or of a later step (`frequency` after the last).
    func time(_ inputs: Inputs, _ t: Int) -> TimeStamp {
        t < inputs.times.count ? inputs.times[t] : config.frequency.advance(inputs.times.last ?? config.lastTime, by: t - inputs.times.count + 1)
    }

    /// The model's input sequences (B, L, F) that end before `ends[b]`, over `values[b]` (the
    /// scaled series, extended by a recursive forecast's own steps), the covariates and the
    /// calendar (`ForecastWindow`; L = the window, plus the future calendar rows of a direct model).
    func windows(_ inputs: Inputs, values: [[Double]], ends: [Int]) -> Tensor {
        let rows = config.inputWindow
        var scalars: [Float] = []
        scalars.reserveCapacity(ends.count * rows.length * rows.featureCount)
        for (b, end) in ends.enumerated() {
            rows.append(to: &scalars, values: values[b], end: end, covariates: inputs.covariates, time: { time(inputs, $0) })
        }
        return Tensor(shape: [ends.count, rows.length, rows.featureCount], scalars: scalars)
    }

    /// The members' outputs for `x`, averaged: (B x O) values.
    private func meanOutput(_ x: Tensor, models: [ForecastingModel]) throws -> [Double] {
        var sum = [Double](repeating: 0, count: x.shape[0] * config.outputCount)
        for model in models {
            let output = try withoutGradients { try model(x).scalars }
            for i in sum.indices { sum[i] += Double(output[i]) }
        }
        return sum.map { $0 / Double(models.count) }
    }

    /// Forecasts of the rows in `range` in consecutive blocks of H, each from the actual
    /// values before it (the model is not refitted).
    func blockForecast(_ inputs: Inputs, y: [Double], range: Range<Int>, models: [ForecastingModel]? = nil) throws -> [Double] {
        // The blocks are independent (each starts from actual values): the full ones run as one batch.
        let H = config.horizon
        let fullBlocks = range.count / H
        let origins = (0..<fullBlocks).map { range.lowerBound + $0 * H }
        var result = try forecast(inputs, y: y, origins: origins, steps: H, models: models).flatMap { $0 }
        let rest = range.count - fullBlocks * H
        if rest > 0 {
            result += try forecast(inputs, y: y, origins: [range.lowerBound + fullBlocks * H], steps: rest, models: models)[0]
        }
        return result
    }

    /// At most `maxOrigins` origins spread evenly over `range` (every one when it is shorter).
    static func spread(_ range: Range<Int>, maxOrigins: Int = 128) -> [Int] {
        let stride = max(1, (range.count + maxOrigins - 1) / maxOrigins)
        return Array(Swift.stride(from: range.lowerBound, to: range.upperBound, by: stride))
    }

    /// Forecasts of up to H steps, stopping at the end of `range`, from at most `maxOrigins`
    /// origins spread evenly over it (every one when it is shorter); the origins with a full
    /// horizon run as one batch.
    func rollingForecasts(_ inputs: Inputs, y: [Double], range: Range<Int>, maxOrigins: Int = 128) throws -> [(origin: Int, forecast: [Double])] {
        let H = config.horizon
        let origins = Self.spread(range, maxOrigins: maxOrigins)
        let full = origins.filter { $0 + H <= range.upperBound }
        var result = zip(full, try forecast(inputs, y: y, origins: full, steps: H)).map { (origin: $0, forecast: $1) }
        for o in origins where o + H > range.upperBound {
            result.append((o, try forecast(inputs, y: y, origins: [o], steps: range.upperBound - o)[0]))
        }
        return result
    }
}

/// The classical forecasts of the rows in `range`, in blocks of H each refitted on the actual
/// values before it (as `NeuralForecaster.blockForecast`).
func baselineBlockForecast(_ baseline: Baseline, y: [Double], range: Range<Int>, horizon: Int, season: Int) throws -> [Double] {
    var result: [Double] = []
    var origin = range.lowerBound
    while origin < range.upperBound {
        let steps = min(horizon, range.upperBound - origin)
        result += try baseline.forecast(Array(y[0..<origin]), horizon: steps, season: season)
        origin += steps
    }
    return result
}
