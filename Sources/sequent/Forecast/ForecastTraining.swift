import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

/// Building a forecast's configuration from the flags and training its models on `Trainer`.
enum ForecastTraining {
    /// The configuration for the first column of `table`, the training part being its first `trainingRows` rows
    /// (default: all but the test part).
    ///
    /// - Throws: `SequentError` (or `ValidationError`) naming the flag: a test part that
    ///   leaves too little, a series shorter than the season or the window plus the horizon,
    ///   non-finite values after scaling.
    static func configure(
        table: SeriesTable, series: SeriesOptions, model: ModelOptions, training: TrainingOptions, trainingRows: Int? = nil,
        differencing forced: SeriesTransform.Differencing? = nil, offeredCalendar: Bool = false, validationRows: Int? = nil, ranks: Int = 1
    ) throws -> ForecastConfig {
        if let val = training.val {
            throw SequentError.invalidArgument("--val", "\(val): a forecast validates on the last --val-fraction of its own training part (the rows just before the test part), not on another file")
        }
        let y = table.columns[0].values
        let n = y.count
        let horizon = series.horizon
        let season = series.season ?? table.frequency.typicalSeason
        let testSize: Int
        if let text = model.testSize, let value = ModelOptions.parseSize(text) {
            testSize = value < 1 ? max(1, Int((value * Double(n)).rounded())) : Int(value)
        } else {
            testSize = horizon
        }
        guard horizon < n else {
            throw SequentError.invalidArgument("--horizon", "\(horizon) steps is not less than the \(n) rows of \(table.path)")
        }
        let trainingSize = trainingRows ?? (n - testSize)
        guard trainingSize > 0, trainingSize <= n else {
            throw SequentError.invalidArgument("--test-size", "\(testSize) test rows leave no training rows of the \(n) in \(table.path)")
        }
        guard season < trainingSize else {
            throw SequentError.invalidArgument("--season", "the training part has \(trainingSize) rows, not more than the season (\(season)); give a smaller --season or a longer series")
        }
        let trainingPart = Array(y[0..<trainingSize])

        // The transform: log and differencing, chosen on the training part only.
        let logarithm: Bool
        switch model.transform {
        case .log: logarithm = true
        case .none: logarithm = false
        case .auto: logarithm = Self.seasonalSwingGrowsWithLevel(trainingPart, season: season)
        }
        let validationSize = validationRows ?? max(1, Int(((training.valFraction ?? ModelOptions.defaultValFraction) * Double(trainingSize)).rounded()))
        let fittingSize = trainingSize - validationSize
        let window = model.window ?? max(8, 2 * season, 2 * horizon).clamped(atMost: max(8, trainingSize / 3))
        // AutoARIMA's tests read the whole training part (as auto.arima fits on it), as the model will see it.
        let levels = logarithm && trainingPart.allSatisfy({ $0 > 0 }) ? trainingPart.map { log($0) } : trainingPart
        let choice = DifferencingChoice.choose(levels, season: season)
        let differencing = forced ?? model.difference.given ?? choice.differencing
        let lag = switch differencing {
        case .none: 0
        case .first: 1
        case .seasonal: season
        case .both: season + 1
        }
        if model.lossEveryStep, model.strategy != .recursive || model.model.cell == nil || model.highway {
            throw SequentError.invalidArgument("--loss-every-step", "trains a recurrent model's one-step forecast after every row; it needs --strategy recursive, --model lstm|gru|rnn and no --highway")
        }
        if model.intervals == .quantile, model.strategy == .recursive {
            throw SequentError.invalidArgument("--intervals", "quantile needs --strategy direct: quantiles of one step's (differenced) values do not add up to quantiles of the forecast through a recursive forecast; use --strategy direct, or --intervals conformal")
        }
        let outputs = model.strategy == .direct ? horizon : 1
        let examples = fittingSize - (lag + window) - outputs + 1
        guard examples >= 1 else {
            throw SequentError.invalidArgument(
                "--horizon", "the series is too short: \(n) rows, \(testSize) held out for testing and \(validationSize) for validation leave \(fittingSize) to fit, fewer than the window (\(window)) + the differencing lag (\(lag)) + \(outputs) target\(outputs == 1 ? "" : "s") (horizon \(horizon), --strategy \(model.strategy.rawValue)); use a shorter --window, --horizon or --test-size, or --strategy recursive")
        }
        let transform = try SeriesTransform(
            fittedOn: Array(y[0..<fittingSize]), logarithm: logarithm, differencing: differencing, season: season, column: table.columns[0].name)
        let scaled = transform.forward(Array(y[0..<trainingSize]))
        if let bad = scaled.firstIndex(where: { !$0.isFinite }) {
            throw SequentError(.invalidValue, "\(table.path): column '\(table.columns[0].name)' is not finite after scaling at row \(bad + lag + 1) (value \(y[bad + lag])); check the data or use --transform none")
        }
        let covariateScales = try table.covariates.map { column -> [Double] in
            let part = column.values[0..<fittingSize]
            let mean = part.reduce(0, +) / Double(part.count)
            let sd = (part.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(part.count)).squareRoot()
            guard mean.isFinite, sd.isFinite else {
                throw SequentError(.invalidValue, "\(table.path): covariate '\(column.name)' is not finite after scaling")
            }
            return [mean, sd > 0 ? sd : 1]
        }
        if model.strategy == .recursive, !table.covariates.isEmpty {
            throw SequentError.invalidArgument("--covariates", "the recursive strategy would need the covariates' future values; use --strategy direct (the model then reads them over its input window only)")
        }
        // `--calendar`, and with `offeredCalendar` the features `--offer-calendar` adds to it.
        let given = try series.calendarFeatures()
        let offered = offeredCalendar ? try series.offeredCalendarFeatures() : []
        let calendar = given + offered.filter { !given.contains($0) }
        if calendar.contains(where: { $0 != .year }), table.times.first?.kind != .date {
            throw SequentError.invalidArgument("--calendar", "month, weekday and hour need a time column of dates; \(table.timeColumn.map { "'\($0)' holds numbers" } ?? "no --time-column was found")")
        }
        return ForecastConfig(
            csv: series.csv, rows: n, timeColumn: table.timeColumn, column: table.columns[0].name, covariates: series.covariateNames,
            calendar: calendar, calendarAhead: true, yearScale: calendar.contains(.year) ? YearScale(fittedOn: table.times[0..<trainingSize]) : nil, missing: series.missing, frequency: table.frequency, lastTime: table.times[trainingSize - 1],
            trainingSize: trainingSize, validationSize: validationSize, testSize: n - trainingSize,
            season: season, horizon: horizon, window: window, strategy: model.strategy, transform: transform,
            covariateScales: covariateScales, quantiles: model.intervals == .quantile ? [(1 - model.coverage) / 2, 0.5, (1 + model.coverage) / 2] : nil,
            model: model.model, highway: model.highway, lossEveryStep: model.lossEveryStep ? true : nil, hidden: training.hiddenSize ?? 32, layers: training.layers ?? 1,
            dropout: training.dropout ?? 0, batchSize: (training.batchSize ?? 32) * ranks, steps: training.steps ?? 600,
            learningRate: training.learningRate ?? 3e-3, seed: training.seed, ensemble: model.ensemble,
            differencingChosen: model.difference.given == nil, differencingRule: model.difference.given == nil ? model.difference : nil,
            offeredCalendar: offeredCalendar ? true : nil, seasonalStrength: choice.seasonalStrength, kpss: choice.kpss)
    }

    /// The configuration with the differencing chosen on the training part alone: by
    /// `DifferencingChoice` (`--difference kpss`), given, or, with `--difference validate`
    /// (the default), by rolling-origin cross-validation: one model (the ensemble's first
    /// member, same steps) is trained with each differencing the series is long enough for,
    /// none, first, seasonal and both, on each of `--folds` expanding-window folds
    /// (`RollingOriginFolds`: fold k fits on the rows before its origin and forecasts the
    /// next V rows in blocks of H from the actual values before each, V = `--val-size`,
    /// default max(--val-fraction, horizon) rows when that leaves at least half of the
    /// training part to fit), and the one with the lowest mean validation MAE over the folds
    /// (in the series' units) is kept; ties go to `DifferencingChoice`. Fold 0 is the end of
    /// the training part; no fold reads a row after its own end, and the test part is never
    /// read. With `--offer-calendar`, each differencing is a candidate twice, without and with
    /// those calendar features, and the folds choose both. With `--combine N`, the next N - 1
    /// candidates by that score become the configuration's partners, whose forecasts are
    /// averaged with its own.
    ///
    /// When the final model's own validation part is shorter than the horizon, the conformal
    /// intervals come from a candidate of its differencing (the chosen one, in fold 0; with
    /// kpss or a given differencing, one trained for it), calibrated on those rows at every
    /// step ahead (`train` keeps them).
    ///
    /// - Parameters:
    ///   - timeLimit, runsAfter: as `train`'s; the candidates share the time with the runs after.
    /// - Throws: as `configure` and `train`.
    static func chooseDifferencing(
        table: SeriesTable, series: SeriesOptions, model: ModelOptions, training: TrainingOptions, trainingRows: Int? = nil,
        timeLimit: TimeLimit?, runsAfter: Int, distributed: Distributed? = nil
    ) throws -> ForecastConfig {
        let ranks = distributed?.size ?? 1
        let statistical = try configure(table: table, series: series, model: model, training: training, trainingRows: trainingRows, ranks: ranks)
        let atHorizon = max(statistical.validationSize, statistical.horizon)
        let validationRows = model.valSize ?? (atHorizon <= statistical.trainingSize / 2 ? atHorizon : statistical.validationSize)
        if let valSize = model.valSize, valSize >= statistical.trainingSize {
            throw SequentError.invalidArgument("--val-size", "\(valSize) rows leave none to fit in the training part's \(statistical.trainingSize) rows")
        }
        let validating = model.difference == .validate
        // A final model whose validation part is shorter than the horizon gets its conformal
        // intervals from one model of its differencing validated on max(--val-fraction, H) rows.
        let calibrating = statistical.quantiles == nil && statistical.validationSize < statistical.horizon && validationRows > statistical.validationSize
        if model.combine > 1, !validating {
            throw SequentError.invalidArgument("--combine", "averages the models of the differencings with the lowest validation MAE; it needs --difference validate (the default), not \(model.difference.rawValue)")
        }
        guard validating || calibrating else { return statistical }
        var quiet = training
        quiet.quiet = true
        func candidate(_ candidate: Candidate, end: Int) -> ForecastConfig? {
            try? configure(table: table, series: series, model: model, training: training, trainingRows: end,
                           differencing: candidate.differencing, offeredCalendar: candidate.offeredCalendar, validationRows: validationRows, ranks: ranks)
        }
        // The candidates that fit the training part's own split (fold 0), on folds that every one of them fits:
        // each differencing, and with --offer-calendar each again with those calendar features.
        let offered = try series.offeredCalendarFeatures()
        let offering = validating && !offered.isEmpty
        let differencings = (validating ? SeriesTransform.Differencing.allCases : [statistical.transform.differencing])
            .flatMap { differencing in (offering ? [false, true] : [false]).map { Candidate(differencing: differencing, offeredCalendar: $0) } }
            .filter { candidate($0, end: statistical.trainingSize) != nil }
        guard let folds = RollingOriginFolds.widest(
            trainingSize: statistical.trainingSize, validationLength: validationRows, count: validating ? model.folds : 1, season: statistical.season,
            fits: { end in differencings.allSatisfy { candidate($0, end: end) != nil } })
        else { return statistical }
        let y = table.columns[0].values
        // Each candidate's forecasts of each fold's validation rows (nil once one is not finite).
        var forecasts: [Candidate: [[Double]]] = [:]
        var intervals: [Candidate: ConformalIntervals] = [:]
        let runs = differencings.count * folds.count
        for k in 0..<folds.count {
            for (j, differencing) in differencings.enumerated() {
                guard var config = candidate(differencing, end: folds.end(k)) else { continue }
                config.ensemble = 1
                let forecaster = try train(
                    config: &config, table: table, folder: nil, training: quiet, timeLimit: timeLimit,
                    runsAfter: runs - 1 - (k * differencings.count + j) + runsAfter, coverage: model.coverage, calibrating: k == 0, distributed: distributed, say: { _ in })
                let history = Array(y[0..<folds.end(k)])
                let inputs = try forecaster.inputs(y: history, covariates: table.covariates.map { Array($0.values[0..<folds.end(k)]) },
                                                   times: Array(table.times[0..<folds.end(k)]))
                let predicted = try forecaster.blockForecast(inputs, y: history, range: folds.folds[k].validation)
                if k == 0 || forecasts[differencing] != nil, predicted.allSatisfy({ $0.isFinite }) {
                    forecasts[differencing, default: []].append(predicted)
                } else {
                    forecasts[differencing] = nil
                }
                if k == 0, let own = config.intervals { intervals[differencing] = own }
            }
        }
        forecasts = forecasts.filter { $0.value.count == folds.count }
        guard validating else {
            var calibrated = statistical
            if let own = intervals[Candidate(differencing: statistical.transform.differencing)] { calibrated.intervals = own }
            return calibrated
        }
        let actual = folds.folds.map { Array(y[$0.validation]) }
        func foldMAE(_ predicted: [[Double]]) -> [Double] {
            zip(actual, predicted).map { (a: [Double], p: [Double]) -> Double in
                let errors: [Double] = zip(a, p).map { abs($0 - $1) }
                return errors.reduce(0, +) / Double(a.count)
            }
        }
        let foldScores = forecasts.mapValues(foldMAE)
        let scores = foldScores.mapValues { $0.reduce(0, +) / Double($0.count) }
        // Best first; ties to the statistical rule's choice (without the offered calendar), then in the candidates' order.
        let preferred = Candidate(differencing: statistical.transform.differencing)
        let ranked = differencings.filter { scores[$0] != nil }.enumerated()
            .sorted { (scores[$0.element]!, $0.element == preferred ? 0 : 1, $0.offset) < (scores[$1.element]!, $1.element == preferred ? 0 : 1, $1.offset) }
            .map(\.element)
        func finalConfig(_ differencing: Candidate) throws -> ForecastConfig {
            var config = try configure(table: table, series: series, model: model, training: training, trainingRows: trainingRows,
                                       differencing: differencing.differencing, offeredCalendar: differencing.offeredCalendar, ranks: ranks)
            config.differencingChosen = true
            // The candidate was validated at every step of the horizon: its errors give the
            // intervals when the final model's own validation part is shorter than the horizon.
            if config.validationSize < config.horizon { config.intervals = intervals[differencing] }
            return config
        }
        var chosen = try ranked.first.map(finalConfig) ?? statistical
        chosen.differencingChosen = true
        chosen.differencingValidationMAE = Dictionary(uniqueKeysWithValues: scores.map { ($0.key.name, $0.value) })
        chosen.differencingFoldMAE = Dictionary(uniqueKeysWithValues: foldScores.map { ($0.key.name, $0.value) })
        chosen.differencingValidationRows = validationRows
        chosen.differencingFolds = folds
        if model.combine > 1, ranked.count > 1 {
            let top = Array(ranked.prefix(model.combine))
            chosen.partners = try top.dropFirst().map(finalConfig)
            // The combination's own cross-validation error: the mean of its candidates' fold forecasts.
            let combined: [[Double]] = (0..<folds.count).map { k in
                (0..<actual[k].count).map { t -> Double in
                    let values: [Double] = top.map { forecasts[$0]![k][t] }
                    return values.reduce(0, +) / Double(top.count)
                }
            }
            let mae = foldMAE(combined)
            chosen.combinationValidationMAE = mae.reduce(0, +) / Double(mae.count)
        }
        return chosen
    }

    /// A model cross-validation compares: a differencing, with or without the calendar
    /// features of `--offer-calendar`.
    struct Candidate: Hashable {
        var differencing: SeriesTransform.Differencing
        var offeredCalendar = false

        /// As the run and the folder name it: `seasonal`, `seasonal+calendar`.
        var name: String { differencing.rawValue + (offeredCalendar ? "+calendar" : "") }
    }

    /// Whether the seasonal swing of a positive series grows with its level: the correlation
    /// between each full season's mean and its range is above 0.5 (a log then makes the
    /// season additive).
    static func seasonalSwingGrowsWithLevel(_ x: [Double], season: Int) -> Bool {
        guard season > 1, x.allSatisfy({ $0 > 0 }), x.count >= 3 * season else { return false }
        let seasons = (0..<(x.count / season)).map { Array(x[($0 * season)..<(($0 + 1) * season)]) }
        let means = seasons.map { $0.reduce(0, +) / Double(season) }
        let ranges = seasons.map { $0.max()! - $0.min()! }
        return correlation(means, ranges) > 0.5
    }

    static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        let (ma, mb) = (a.reduce(0, +) / n, b.reduce(0, +) / n)
        let cov = zip(a, b).map { ($0 - ma) * ($1 - mb) }.reduce(0, +)
        let va = a.map { ($0 - ma) * ($0 - ma) }.reduce(0, +), vb = b.map { ($0 - mb) * ($0 - mb) }.reduce(0, +)
        return va > 0 && vb > 0 ? cov / (va * vb).squareRoot() : 0
    }

    /// Trains the configuration's models (`train`) and then, with `--combine`, each partner's
    /// (its checkpoints and logs in DIR/difference-NAME), all on the same training part.
    ///
    /// - Returns: the forecaster that averages its own and its partners' forecasts; `config`
    ///   holds what the trainings filled in, its partners' too.
    static func trainCombination(
        config: inout ForecastConfig, table: SeriesTable, folder: ModelFolder?, training: TrainingOptions,
        timeLimit: TimeLimit?, runsAfter: Int = 0, coverage: Double, curve: LearningCurve? = nil, distributed: Distributed? = nil,
        say: @escaping (String) -> Void
    ) throws -> NeuralForecaster {
        var partners = config.partners ?? []
        let own = try train(config: &config, table: table, folder: folder, training: training, timeLimit: timeLimit,
                            runsAfter: runsAfter + partners.reduce(0) { $0 + $1.ensemble }, coverage: coverage, curve: curve,
                            distributed: distributed, say: say)
        var trained: [NeuralForecaster] = []
        for j in partners.indices {
            let name = partners[j].candidateName
            say("combination: the models of the \(name) differencing (\(j + 2) of \(partners.count + 1)), whose forecasts are averaged with the \(config.candidateName) differencing's")
            let root = try folder.map { try ModelFolder.create(at: $0.file("difference-\(name)"), task: Sequent.Forecast.task, writes: distributed?.isRoot ?? true) }
            trained.append(try train(config: &partners[j], table: table, folder: root, training: training, timeLimit: timeLimit,
                                     runsAfter: runsAfter + partners[(j + 1)...].reduce(0) { $0 + $1.ensemble }, coverage: coverage,
                                     distributed: distributed, say: say))
        }
        config.partners = partners.isEmpty ? nil : partners
        return NeuralForecaster(config: config, members: own.members, partners: trained)
    }

    /// Trains every member of the ensemble on the fitting part with early stopping on the
    /// validation part, keeps each member's best weights, and calibrates the intervals.
    ///
    /// Each member runs on its own `Trainer` (checkpoints, logs, early stopping, clean stops
    /// on Ctrl-C and at `timeLimit`, whose time left is shared equally by the runs not yet
    /// trained: this column's members and `runsAfter` more); an interrupted run keeps the
    /// members trained so far.
    ///
    /// - Parameters:
    ///   - config: the configuration; on return it holds the intervals, the steps each member
    ///     trained and the number of members kept.
    ///   - folder: where checkpoints and logs go (nil: none, as in a refitting backtest).
    ///   - training: the shared flags; with `resume`, each member continues from its latest
    ///     checkpoint and a member that had finished is not trained again.
    ///   - timeLimit: the command's `--time-limit`, counted from its start.
    ///   - runsAfter: the trainings that will share what is left of `timeLimit` after this
    ///     one's (the members of the columns still to train, a backtest's refits).
    ///   - coverage: the nominal coverage of the conformal intervals.
    ///   - calibrating: whether to calibrate the intervals (not for a cross-validation fold
    ///     before the last, whose intervals are not used).
    ///   - curve: receives the first member's losses and validation MAE.
    ///   - say: progress messages.
    static func train(
        config: inout ForecastConfig, table: SeriesTable, folder: ModelFolder?, training: TrainingOptions,
        timeLimit: TimeLimit?, runsAfter: Int = 0, coverage: Double, calibrating: Bool = true, curve: LearningCurve? = nil, distributed: Distributed? = nil,
        say: @escaping (String) -> Void
    ) throws -> NeuralForecaster {
        let y = table.columns[0].values
        let fixed = config  // what the closures read; `config` itself gets the results
        var members = try NeuralForecaster.makeMembers(config)
        var forecaster = NeuralForecaster(config: config, members: members)
        let inputs = try forecaster.inputs(y: Array(y[0..<config.trainingSize]), covariates: table.covariates.map { Array($0.values[0..<config.trainingSize]) }, times: Array(table.times[0..<config.trainingSize]))
        let lag = config.transform.lag
        let origins = Array((lag + config.window)...(config.fittingSize - config.stepsPerCall))
        let validationRange = max(config.fittingSize, forecaster.firstOrigin)..<config.trainingSize
        let scale = ForecastMetrics.seasonalNaiveScale(Array(y[0..<config.fittingSize]), season: config.season) ?? 1
        let O = config.outputCount
        // Quantile heads learn the offsets of the levels from the transform's naive
        // continuation (`SeriesTransform.offsets`), each repeated for the Q quantiles.
        let quantileTargets: [Int: [Float]]? = config.quantiles.map { quantiles in
            Dictionary(uniqueKeysWithValues: origins.map { o in
                let v = config.transform.offsets(Array(y[o..<(o + config.horizon)]), history: Array(y[0..<o]))
                return (o, v.flatMap { value in Array(repeating: Float(value), count: quantiles.count) })
            })
        }
        let evaluationInterval = max(10, config.steps / 40)
        let patience = 10  // evaluations without a better validation MAE before a member stops
        config.trainedSteps = []
        config.validationMAE = []
        // Data-parallel (`distributed`): each member trains on every rank, each rank on its
        // rows of every batch; rank 0 alone writes.
        let isRoot = distributed?.isRoot ?? true

        for (k, model) in members.enumerated() {
            // The first member's checkpoints and logs are the folder's own (APPS.md); member k's
            // are in DIR/member-k.
            let memberFolder = folder.map { folder in k == 0 ? folder.url : folder.url.appendingPathComponent("member-\(k)") }
            var trainerConfiguration = TrainerConfiguration(totalSteps: config.steps)
            trainerConfiguration.evaluationInterval = evaluationInterval
            trainerConfiguration.earlyStopping = try EarlyStopping(metric: "mae", patience: patience)
            trainerConfiguration.maxGradientNorm = 1
            trainerConfiguration.threadCount = training.threadCount
            trainerConfiguration.timeLimit = timeLimit?.share(of: members.count - k + runsAfter, at: MetricsClock.system.monotonicSeconds())
            trainerConfiguration.distributed = distributed
            trainerConfiguration.progress = training.quiet ? nil : .standardOutput(logInterval: max(1, config.steps / 10))
            if let memberFolder {
                trainerConfiguration.checkpointDirectory = memberFolder.appendingPathComponent(ModelFolder.checkpointsFolderName)
                trainerConfiguration.checkpointInterval = evaluationInterval * 5
                trainerConfiguration.keepLastCheckpoints = 2
                trainerConfiguration.logDirectory = memberFolder
            }
            let batches = try UnevenShardedBatches(
                ShuffledBatches(origins, batchSize: min(config.batchSize, origins.count), generator: RandomGenerator(seed: config.seed &+ 1000 &+ UInt64(k))),
                rank: distributed?.rank ?? 0, shardCount: distributed?.size ?? 1)
            let optimizer = try Adam(namedParameters: model.namedParameters(), learningRate: config.learningRate, weightDecay: 0)
            let schedule = try CosineAnnealing(initialLearningRate: config.learningRate, totalSteps: config.steps, minimumLearningRate: config.learningRate / 10)
            let trainer = try Trainer(
                model: model, optimizer: optimizer, data: batches, configuration: trainerConfiguration, schedule: schedule,
                validation: { model in
                    let predicted = try forecaster.blockForecast(inputs, y: Array(y[0..<fixed.trainingSize]), range: validationRange, models: [model])
                    let actual = Array(y[validationRange])
                    let mae = zip(actual, predicted).map { abs($0 - $1) }.reduce(0, +) / Double(actual.count)
                    return ["mae": mae, "mase": mae / scale]
                },
                modelConfig: fixed
            ) { model, share in
                // A rank without rows of a batch computes its first and counts for nothing.
                let rows = share.rows.isEmpty ? 0..<1 : share.rows
                let batch = Array(share.global[rows])
                var target: [Float] = []
                let x = forecaster.windows(inputs, values: Array(repeating: inputs.scaled, count: batch.count), ends: batch)
                if fixed.lossEveryStep == true {
                    // Row t of the window ending before o predicts u_{t+1}: targets u_{o-W+1} ... u_o.
                    let W = fixed.window
                    for o in batch { for t in (o - W + 1)...o { target.append(Float(inputs.scaled[t])) } }
                    let prediction = try BatchShard.with(firstRow: rows.lowerBound, rows: rows.count) { try model.everyStepOutputs(x) }
                    let targets = Tensor(shape: [batch.count, W, 1], scalars: target)
                    return (try Loss.meanSquaredError(prediction, targets), share.rows.count)
                }
                for o in batch {
                    if let quantileTargets { target += quantileTargets[o]! } else { for t in o..<(o + O) { target.append(Float(inputs.scaled[t])) } }
                }
                let prediction = try BatchShard.with(firstRow: rows.lowerBound, rows: rows.count) { try model(x) }
                let targets = Tensor(shape: [batch.count, O], scalars: target)
                if let quantiles = fixed.quantiles {
                    return (try ForecastingModel.pinballLoss(prediction, targets, quantiles: quantiles), share.rows.count)
                }
                return (try Loss.meanSquaredError(prediction, targets), share.rows.count)
            }
            // The loss is a mean over the batch's rows, which need not divide among the ranks.
            trainer.lossWeight = { Double($0.rows.count) }
            // The best weights by validation, kept as they come (and in the member's folder,
            // so that a resumed run still ends with them).
            var best: [String: Tensor]?
            let bestName = "best.safetensors"
            let bestFolder = isRoot ? try memberFolder.map { try ModelFolder.create(at: $0, task: Sequent.Forecast.task) } : nil
            let bestURL = bestFolder?.file(bestName)
            trainer.callbacks.append(ClosureCallback(
                onStepEnd: { report, _ in
                    if k == 0 { curve?.losses.append((report.step, Double(report.loss))) }
                },
                onEvaluation: { report, _ in
                    if k == 0, let mae = report.metrics["mae"] { curve?.validation.append((report.step, mae)) }
                    guard report.improved else { return }
                    let weights = model.stateDictionary()
                    best = weights
                    try bestFolder?.write(try SafeTensors(tensors: weights).encoded(), to: bestName)
                }))
            // A member the interrupted run never reached has no checkpoint and starts afresh.
            if training.resume, let root = trainerConfiguration.checkpointDirectory, try trainer.resumeFromLatest(in: root, required: false) != nil {
                if let bestURL, FileManager.default.fileExists(atPath: bestURL.path) { best = try SafeTensors.read(from: bestURL).tensors }
                if trainer.step >= config.steps || trainer.evaluationsWithoutImprovement >= patience {
                    if let best { try model.loadStateDictionary(best) }
                    config.trainedSteps.append(trainer.step)
                    config.validationMAE?.append(trainer.bestMetric)
                    say("member \(k + 1): finished at step \(trainer.step) in the run resumed")
                    continue
                }
                say("member \(k + 1): resumed at step \(trainer.step)")
            }
            if config.ensemble > 1 { say("training member \(k + 1) of \(config.ensemble) (seed \(config.seed &+ UInt64(k)))") }
            let result = try trainer.fit()
            if let best { try model.loadStateDictionary(best) }
            config.trainedSteps.append(result.step)
            config.validationMAE?.append(result.bestMetric)
            let bestText = result.bestMetric.map { String(format: "%.4g", $0) } ?? "-"
            say("member \(k + 1): \(result.step) steps (\(result.reason)), best validation MAE \(bestText) at step \(result.bestStep.map(String.init) ?? "-")")
            if case .interrupted = result.reason, k + 1 < members.count {
                say("interrupted: the ensemble keeps the \(k + 1) member\(k == 0 ? "" : "s") trained so far (--resume continues all \(members.count))")
                break
            }
        }
        members = Array(members.prefix(config.trainedSteps.count))
        config.ensemble = members.count
        members.forEach { $0.setTraining(false) }
        forecaster = NeuralForecaster(config: config, members: members)

        let history = Array(y[0..<config.trainingSize])
        guard calibrating else { return NeuralForecaster(config: config, members: members) }
        // Quantile heads: conformalized (CQR) on the validation origins' quantile forecasts,
        // each as far ahead as the validation part reaches.
        if config.quantiles != nil {
            var scores = [[Double]](repeating: [], count: config.horizon)
            for o in NeuralForecaster.spread(validationRange) {
                let steps = min(config.horizon, validationRange.upperBound - o)
                let q = try forecaster.quantileForecast(inputs, y: history, origins: [o], steps: steps)[0]
                let (actual, lower, upper) = (config.transform.level(Array(y[o..<(o + steps)])), config.transform.level(q[0]), config.transform.level(q[2]))
                for h in 0..<steps { scores[h].append(ConformalQuantiles.score(actual: actual[h], lower: lower[h], upper: upper[h])) }
            }
            config.quantileCorrections = try ConformalQuantiles(scores: scores, horizon: config.horizon, coverage: coverage)
            return NeuralForecaster(config: config, members: members)
        }
        // Split-conformal intervals from the origins in the validation part (at most 128),
        // unless that part is shorter than the horizon and the differencing's choice left
        // intervals calibrated at every step ahead (`chooseDifferencing`).
        if config.validationSize < config.horizon && config.intervals != nil {
            return NeuralForecaster(config: config, members: members)
        }
        var errors = [[Double]](repeating: [], count: config.horizon)
        let forecasts = try forecaster.rollingForecasts(inputs, y: history, range: validationRange)
        for (o, predicted) in forecasts {
            let actualLevel = config.transform.level(Array(y[o..<(o + predicted.count)]))
            let predictedLevel = config.transform.level(predicted.map { config.transform.logarithm ? max($0, 1e-300) : $0 })
            for h in predicted.indices { errors[h].append(actualLevel[h] - predictedLevel[h]) }
        }
        config.intervals = try ConformalIntervals(errors: errors, horizon: config.horizon, coverage: coverage)
        return NeuralForecaster(config: config, members: members)
    }
}

/// The first member's training loss and validation MAE by step, for the report.
final class LearningCurve {
    var losses: [(step: Int, value: Double)] = []
    var validation: [(step: Int, value: Double)] = []
}

extension Int {
    fileprivate func clamped(atMost limit: Int) -> Int { Swift.min(self, limit) }
}
