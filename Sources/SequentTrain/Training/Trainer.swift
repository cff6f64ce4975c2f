import Foundation
import SequentNN
import SequentData
import SequentTensor

/// The training loop: batches in, optimizer steps out, with evaluation, early stopping,
/// clipping, checkpoints, metrics logs, a progress display, clean stops on Ctrl-C, and
/// resumption that continues bitwise.
///
///     var configuration = TrainerConfiguration(totalSteps: 1000)
///     configuration.checkpointDirectory = run.appendingPathComponent("checkpoints")
///     configuration.checkpointInterval = 100
///     configuration.logDirectory = run.appendingPathComponent("logs")
///     let trainer = try Trainer(model: model, optimizer: optimizer, data: batches,
///                               configuration: configuration, schedule: schedule) { model, batch in
///         let (logits, _) = try model(batch.inputs, batchSize: B, time: T)
///         return (try Loss.crossEntropy(logits: logits, targets: batch.targets), B * T)
///     }
///     if resuming { try trainer.resumeFromLatest(in: configuration.checkpointDirectory!) }
///     let result = try trainer.fit()
///
/// **One step** (numbered k from 0; `step` is k + 1 after it):
///
///     lr = schedule(k) (or the optimizer's own rate)     batch = data.nextBatch()
///     zero gradients;  (loss, tokens) = loss(model, batch);  loss.backward()
///     clipGradientNorm(maxGradientNorm) if set;  optimizer.step()
///
/// then, in order: metrics (`loss`, `learning_rate`, `tokens_per_s`, `step_s`,
/// `gradient_norm`, `compute_cpu_s`: the CPU time of forward and backward, which a busy
/// machine does not inflate as it does `step_s`; with data parallelism `allreduce_s`, the
/// wait for gradient communication after backward, and `allreduce_overlap_s`, the
/// communication hidden behind backward) to `metrics.jsonl` and TensorBoard, the progress display, `onStepEnd`;
/// every `evaluationInterval` steps (and at the last) the validation function in evaluation
/// mode (`eval/<name>` in the logs), early stopping, `onEvaluation`; every
/// `checkpointInterval` steps (and whenever the run ends) a checkpoint, `onCheckpoint`.
///
/// **Stopping.** SIGINT and SIGTERM, early stopping, `TrainingControl.requestStop()` and
/// the configuration's `timeLimit` (`--time-limit`) all end the run after the current step,
/// with its evaluation and a checkpoint; `fit` then returns the reason. The signal handlers are installed only while `fit` runs and the
/// previous ones restored after (a second Ctrl-C quits at once).
///
/// **Resuming.** A checkpoint holds the weights, the optimizer state, the step, the data
/// position, the state of every random generator the trainer knows (the data's, each
/// `StochasticModule`'s in the model (dropout, recurrent layers), and those in
/// `randomGenerators`), and the early-stopping
/// state. `resume(from:)` restores all of them; the next `fit` continues the logs from that
/// step (`MetricsLog` `.resume(fromStep:)`, `TensorBoardWriter(resumingFromStep:)`), and on
/// the CPU with the same thread count gives bitwise the losses of an uninterrupted run.
public final class Trainer<Model: Module, Data: TrainingData> {
    /// The loss of one batch (a one-element tensor to differentiate) and how many tokens
    /// (or examples) it covered, for the throughput.
    public typealias LossFunction = (Model, Data.Batch) throws -> (loss: Tensor, tokenCount: Int)

    /// The model being trained.
    public let model: Model
    /// The optimizer, built over `model`'s parameters (under their keys, so its state is saved
    /// under readable names).
    public let optimizer: any Optimizer
    /// The learning rate of each step; nil keeps the optimizer's own rate.
    public var schedule: (any LearningRateSchedule)?
    /// The batches.
    public var data: Data
    /// Intervals, stopping rules, directories, output.
    public var configuration: TrainerConfiguration
    /// The loss of a batch.
    public let loss: LossFunction
    /// Computes validation metrics (run in evaluation mode, without gradients needed); nil
    /// for no evaluation.
    public var validation: ((Model) throws -> [String: Double])?
    /// Code run at each step, evaluation, checkpoint and the end.
    public var callbacks: [any TrainingCallback] = []
    /// The model's config, saved as `config.json` in each checkpoint.
    public var modelConfig: any Encodable
    /// Further generators to save and restore, by name (for instance one the loss function
    /// draws noise from). Names must not start with `data` or `module:`.
    public var randomGenerators: [String: RandomGeneratorAccess] = [:]

    /// Optimizer steps done.
    public private(set) var step = 0
    /// The best early-stopping metric so far.
    public private(set) var bestMetric: Double?
    /// The step of `bestMetric`.
    public private(set) var bestStep: Int?
    /// Evaluations in a row without improvement of the early-stopping metric.
    public private(set) var evaluationsWithoutImprovement = 0

    /// Data-parallel: how many items (target tokens, utterances) the loss function's mean
    /// over a rank's share is taken over, where the ranks' shares may differ in it (rows
    /// that differ in length, batches whose rows do not divide among the ranks,
    /// `UnevenShardedBatches`). The step's loss and gradients are then those of the mean
    /// over the whole batch (each rank weighted by this; `Distributed.averageGradients(weight:)`),
    /// not the mean of the ranks' means; a share of weight 0 counts for nothing. nil: the
    /// shares are equal (the mean of the means is the batch's). Unused by one process.
    /// A weighted mean's weights need not be counts (`classify`'s balanced class weights).
    public var lossWeight: ((Data.Batch) throws -> Double)?

    /// Called on every rank before a checkpoint is saved, for collective work the save needs
    /// (a data-parallel task gathering per-rank state into what `modelConfig` encodes).
    public var beforeCheckpoint: (() throws -> Void)?

    /// Called before each durable step of a checkpoint save (tests slow or cut saves here).
    var checkpointInterrupt: (String) throws -> Void = { _ in }

    /// A trainer; nothing runs until `fit()`.
    ///
    /// - Parameters:
    ///   - model: the model; `fit` puts it in training mode (and evaluation mode to evaluate).
    ///   - optimizer: built over the model's parameters.
    ///   - data: the batches.
    ///   - configuration: see `TrainerConfiguration`.
    ///   - schedule: the learning rate of each step; nil for the optimizer's own.
    ///   - validation: the evaluation; required if early stopping is configured.
    ///   - modelConfig: what rebuilds the model, saved as `config.json`.
    ///   - loss: the loss of a batch and its token count.
    /// - Throws: `SequentError` for a configuration that cannot work (see
    ///   `TrainerConfiguration.validate`).
    public init(
        model: Model, optimizer: any Optimizer, data: Data, configuration: TrainerConfiguration,
        schedule: (any LearningRateSchedule)? = nil, validation: ((Model) throws -> [String: Double])? = nil,
        modelConfig: any Encodable = [String: String](), loss: @escaping LossFunction
    ) throws {
        try configuration.validate()
        self.model = model
        self.optimizer = optimizer
        self.data = data
        self.configuration = configuration
        self.schedule = schedule
        self.validation = validation
        self.modelConfig = modelConfig
        self.loss = loss
    }

    // MARK: - Training

    /// Trains until `configuration.totalSteps` steps are done or the run is stopped.
    ///
    /// - Returns: why it ended, the losses of its steps, the last evaluation, the last checkpoint.
    /// - Throws: `SequentError` for a loss that is not one finite number, a non-finite
    ///   gradient norm (with clipping), a missing early-stopping metric, or a log or
    ///   checkpoint that cannot be written; errors of the loss, validation and callbacks.
    ///   Signal handlers are restored and logs flushed in every case.
    public func fit() throws -> TrainingResult {
        try configuration.validate()
        if configuration.earlyStopping != nil && validation == nil {
            throw SequentError.invalidArgument("Trainer", "early stopping needs a validation function")
        }
        let run = { (signal: () -> Int32?) throws -> TrainingResult in
            if let threads = self.configuration.threadCount {
                return try Parallelism.withThreads(threads) { try self.runLoop(signal: signal) }
            }
            return try self.runLoop(signal: signal)
        }
        if configuration.stopsOnSignals {
            return try StopSignals.watch { received in try run(received) }
        }
        return try run { nil }
    }

    private func runLoop(signal: () -> Int32?) throws -> TrainingResult {
        let configuration = self.configuration
        let clock = configuration.clock
        // Data-parallel: every rank trains, rank 0 alone writes (see `Distributed`).
        let distributed = configuration.distributed
        let writes = distributed?.isRoot ?? true
        if let distributed { try startDistributed(distributed) }
        let logs = try TrainingLogs(directory: writes ? configuration.logDirectory : nil, resumingFromStep: step, clock: clock)
        var progress = writes ? configuration.progress : nil
        defer { progress?.finish() }

        let control = TrainingControl()
        let startStep = step
        let started = clock.monotonicSeconds()
        var losses: [Float] = []
        var tokensThisRun = 0
        var lastEvaluation: [String: Double]?
        var lastCheckpoint: URL?
        var reason = TrainingResult.StopReason.completed
        model.setTraining(true)

        while step < configuration.totalSteps {
            // The step.
            let stepStarted = clock.monotonicSeconds()
            let learningRate = schedule?.learningRate(atStep: step) ?? optimizer.learningRate
            optimizer.learningRate = learningRate
            let batch = try data.nextBatch()
            model.zeroGradients()
            optimizer.zeroGradients()
            let computeStarted = ProcessCPUTime.seconds  // of forward and backward, all threads
            // With data parallelism the forward pass runs as this rank's share of the global
            // batch, so dropout applies the global batch's masks (`BatchShard`).
            var (lossTensor, tokenCount) = try distributed.map { distributed in
                try BatchShard.with(index: distributed.rank, count: distributed.size) { try loss(model, batch) }
            } ?? loss(model, batch)
            guard lossTensor.count == 1 else {
                throw SequentError.shapeMismatch("Trainer", "the loss function returned shape \(lossTensor.shape) at step \(step + 1); it must return one number")
            }
            var lossValue = lossTensor.item
            var computeCPUSeconds: Double?
            if let distributed {
                // Every rank back-propagates, its gradients reduced in buckets as backward
                // finishes them; the losses and token counts are averaged (summed) over the
                // ranks after, and a non-finite loss anywhere stops all.
                // Weighted, this rank's mean is seeded with its weight: its gradients are
                // those of its sum, and the ranks' sums are divided by the total weight.
                let weight = try lossWeight?(batch)
                let seed = weight.map { Tensor(shape: lossTensor.shape, scalars: [Float($0)]) }
                (lossValue, tokenCount) = try distributed.averageGradients(
                    optimizer.parameters, loss: lossValue, tokenCount: tokenCount, weight: weight
                ) { hook in
                    lossTensor.backward(gradient: seed, onGradientReady: hook)
                    computeCPUSeconds = ProcessCPUTime.seconds - computeStarted
                }
            }
            guard lossValue.isFinite else {
                throw Self.divergence("the loss is \(lossValue)", step: step + 1, learningRate: learningRate, previousLoss: losses.last)
            }
            if distributed == nil {
                lossTensor.backward()
                computeCPUSeconds = ProcessCPUTime.seconds - computeStarted
            }
            let gradientNorm: Float?
            do {
                gradientNorm = try configuration.maxGradientNorm.map { try clipGradientNorm(optimizer.parameters, maxNorm: $0) }
            } catch let error as SequentError where error.kind == .invalidValue {
                throw Self.divergence(error.message, step: step + 1, learningRate: learningRate, previousLoss: losses.last)
            }
            optimizer.step()
            step += 1
            losses.append(lossValue)
            tokensThisRun += tokenCount

            // Metrics of the step.
            let now = clock.monotonicSeconds()
            let stepSeconds = now - stepStarted
            let tokensPerSecond = stepSeconds > 0 ? Double(tokenCount) / stepSeconds : 0
            var scalars: [String: Double] = [
                "loss": Double(lossValue), "learning_rate": Double(learningRate),
                "tokens_per_s": tokensPerSecond, "step_s": stepSeconds,
            ]
            if let gradientNorm { scalars["gradient_norm"] = Double(gradientNorm) }
            if let computeCPUSeconds { scalars["compute_cpu_s"] = computeCPUSeconds }
            if let distributed {
                scalars["allreduce_s"] = distributed.lastGradientSeconds
                scalars["allreduce_overlap_s"] = distributed.lastOverlapSeconds
                if step == startStep + 1, let reordered = distributed.bucketsReordered {
                    scalars["allreduce_buckets_reordered"] = reordered ? 1 : 0
                    if reordered { progress?.message("gradient buckets re-formed in the order backward finished the gradients in step \(step)") }
                }
            }
            try logs.append(step: step, scalars)
            let runSeconds = now - started
            progress?.stepEnded(
                step: step, totalSteps: configuration.totalSteps, loss: lossValue, learningRate: learningRate,
                tokensPerSecond: runSeconds > 0 ? Double(tokensThisRun) / runSeconds : 0,
                elapsed: runSeconds, stepsThisRun: step - startStep)
            let report = StepReport(
                step: step, totalSteps: configuration.totalSteps, loss: lossValue, learningRate: learningRate,
                tokenCount: tokenCount, tokensPerSecond: tokensPerSecond, gradientNorm: gradientNorm,
                elapsedSeconds: runSeconds)
            for callback in callbacks { try callback.onStepEnd(report, control: control) }

            // Evaluation and early stopping.
            var earlyStop = false
            if let validation, configuration.evaluationInterval.map({ step % $0 == 0 }) ?? false || step == configuration.totalSteps {
                let metrics = try evaluate(validation)
                lastEvaluation = metrics
                try logs.append(step: step, Dictionary(uniqueKeysWithValues: metrics.map { ("eval/\($0.key)", $0.value) }))
                progress?.evaluated(step: step, metrics: metrics)
                var improved = false
                if let rule = configuration.earlyStopping {
                    guard let value = metrics[rule.metric] else {
                        throw SequentError.invalidArgument(
                            "Trainer", "early stopping watches '\(rule.metric)', which the validation function did not return (it returned \(metrics.keys.sorted()))")
                    }
                    improved = rule.improves(value, on: bestMetric)
                    if improved {
                        (bestMetric, bestStep, evaluationsWithoutImprovement) = (value, step, 0)
                    } else {
                        evaluationsWithoutImprovement += 1
                        earlyStop = evaluationsWithoutImprovement >= rule.patience
                    }
                }
                let evaluation = EvaluationReport(step: step, metrics: metrics, improved: improved, bestMetric: bestMetric)
                for callback in callbacks { try callback.onEvaluation(evaluation, control: control) }
            }

            // Why to stop, if at all (with several ranks: a stop on any rank stops all).
            let timeUp = configuration.timeLimit.map { step < configuration.totalSteps && $0.isReached(at: clock.monotonicSeconds()) } ?? false
            var (received, stopRequested) = (signal(), control.isStopRequested)
            if let distributed {
                // A time limit reached on one rank stops every rank, like a requested stop.
                (received, stopRequested) = try distributed.agreeOnStop(signal: received, stopRequested: stopRequested || timeUp)
            }
            if let number = received {
                reason = .interrupted(signal: number)
            } else if earlyStop {
                reason = .earlyStopped
            } else if timeUp {
                reason = .timeLimit
            } else if stopRequested {
                reason = .stopRequested
            }
            let stopping = reason != .completed
            if stopping, case .interrupted(let number) = reason {
                progress?.message("\(number == SIGINT ? "SIGINT" : number == SIGTERM ? "SIGTERM" : "signal \(number)") received: stopping after step \(step)")
            } else if reason == .timeLimit, let limit = configuration.timeLimit {
                progress?.message("time limit (\(Self.duration(limit.seconds))) reached: stopping after step \(step) of \(configuration.totalSteps)")
            } else if reason == .earlyStopped, let rule = configuration.earlyStopping {
                progress?.message("early stopping: '\(rule.metric)' has not improved for \(rule.patience) evaluations (best \(bestMetric.map { "\($0)" } ?? "none") at step \(bestStep.map(String.init) ?? "-"))")
            }

            // Checkpoint.
            if configuration.checkpointDirectory != nil,
               stopping || step == configuration.totalSteps || configuration.checkpointInterval.map({ step % $0 == 0 }) ?? false {
                try beforeCheckpoint?()
                if writes {
                    let directory = try saveCheckpoint()
                    lastCheckpoint = directory
                    try logs.synchronize()
                    if stopping { progress?.message("saved \(directory.path)") }
                    for callback in callbacks { try callback.onCheckpoint(directory, step: step, control: control) }
                }
            }
            if stopping { break }
        }
        try logs.synchronize()
        progress?.finish()
        let result = TrainingResult(
            reason: reason, step: step, startStep: startStep, losses: losses, lastEvaluation: lastEvaluation,
            bestMetric: bestMetric, bestStep: bestStep, lastCheckpoint: lastCheckpoint)
        for callback in callbacks { try callback.onEnd(result) }
        return result
    }

    /// Puts every rank in rank 0's state before the first step: the weights and optimizer
    /// state broadcast and checked; the step, data position and dropout generators checked.
    /// Every rank keeps the same generators, so all draw the same dropout keys and each
    /// applies its rows of the global batch's masks (`BatchShard`).
    private func startDistributed(_ distributed: Distributed) throws {
        try distributed.broadcastState(parameters: optimizer.namedParameters, optimizer: optimizer)
        let position = data.position
        let generators = stochasticModules().map { "\($0.key) \($0.layer.generator.stateWords)" }.joined(separator: "\n")
        try distributed.checkAgreement(
            "step \(step), epoch \(position.epoch), batch \(position.index), data order \(position.generator?.words ?? [])\n\(generators)",
            on: "where training starts")
    }

    /// Runs `validation` with the model in evaluation mode.
    private func evaluate(_ validation: (Model) throws -> [String: Double]) throws -> [String: Double] {
        model.setTraining(false)
        defer { model.setTraining(true) }
        return try validation(model)
    }

    // MARK: - Checkpoints

    /// Where the run stands now, as saved in a checkpoint.
    /// The error for a run whose loss or gradients stopped being finite at `step`, naming the
    /// likely causes: a learning rate too high for the model, or non-finite values in the data.
    static func divergence(_ what: String, step: Int, learningRate: Float, previousLoss: Float?) -> SequentError {
        let before = previousLoss.map { "; the loss of the step before was \($0)" } ?? ""
        return SequentError(.invalidValue, """
            training stopped at step \(step): \(what)\(before). Likely causes: a learning rate too high \
            (\(learningRate); try one 3 to 10 times smaller, or gradient clipping), or NaN or infinite values \
            in the data. Nothing was trained on the non-finite values; the last checkpoint holds the state before them.
            """)
    }

    public func trainingState() -> TrainingState {
        let position = data.position
        var generators: [String: RandomGeneratorState] = [:]
        if let dataGenerator = position.generator { generators[Self.dataGeneratorKey] = dataGenerator }
        for (key, layer) in stochasticModules() { generators[key] = RandomGeneratorState(words: layer.generator.stateWords) }
        for (key, access) in randomGenerators { generators[key] = RandomGeneratorState(words: access.get().stateWords) }
        var values: [String: Double] = ["evaluations_without_improvement": Double(evaluationsWithoutImprovement)]
        if let bestStep { values["best_step"] = Double(bestStep) }
        return TrainingState(step: step, epoch: position.epoch, dataPosition: position.index,
                             randomGenerators: generators, bestMetric: bestMetric, values: values)
    }

    /// Saves a checkpoint of the current state into `configuration.checkpointDirectory` and
    /// makes it the latest (`fit` does this on its own; call it to save between fits).
    ///
    /// - Returns: the checkpoint's directory.
    /// - Throws: `SequentError` if no checkpoint directory is configured or the save fails.
    @discardableResult
    public func saveCheckpoint() throws -> URL {
        guard let root = configuration.checkpointDirectory else {
            throw SequentError.invalidArgument("Trainer.saveCheckpoint", "configuration.checkpointDirectory is not set")
        }
        return try Checkpoint.save(
            to: root, model: model, optimizer: optimizer, config: modelConfig, trainingState: trainingState(),
            metadata: ["step": String(step)], keepLast: configuration.keepLastCheckpoints, interrupt: checkpointInterrupt)
    }

    /// Restores the state saved in a checkpoint: weights, optimizer state, step, data
    /// position, random generators, early-stopping state. The next `fit` continues from there.
    ///
    /// - Parameter url: a checkpoint root (its latest is loaded) or one checkpoint's directory.
    /// - Returns: the loaded checkpoint.
    /// - Throws: `SequentError` naming what does not fit (a missing file, tensor, or generator
    ///   state); the trainer is then unchanged.
    @discardableResult
    public func resume(from url: URL) throws -> Checkpoint {
        let checkpoint = try Checkpoint.load(from: url)
        let state = checkpoint.trainingState
        let path = checkpoint.directory.appendingPathComponent(Checkpoint.trainingStateFileName).path

        // Everything that can fail, before anything changes.
        func generator(_ key: String) throws -> RandomGenerator {
            guard let saved = state.randomGenerators[key] else {
                throw SequentError(.invalidArgument, "\(path): no state for random generator '\(key)' (the checkpoint has \(state.randomGenerators.keys.sorted()))")
            }
            return try RandomGenerator(stateWords: saved.words)
        }
        let dropouts = try stochasticModules().map { ($0.layer, try generator($0.key)) }
        let registered = try randomGenerators.map { ($0.value, try generator($0.key)) }
        var restoredData = data
        do {
            try restoredData.seek(to: DataPosition(epoch: state.epoch, index: state.dataPosition, generator: state.randomGenerators[Self.dataGeneratorKey]))
        } catch let error as SequentError {
            throw SequentError(error.kind, "\(path): \(error.message)")
        }
        let previousWeights = model.stateDictionary()
        try checkpoint.loadWeights(into: model)
        do {
            try checkpoint.loadOptimizerState(into: optimizer)
        } catch {
            try model.loadStateDictionary(previousWeights)
            throw error
        }

        data = restoredData
        for (layer, restored) in dropouts { layer.generator = restored }
        for (access, restored) in registered { access.set(restored) }
        step = state.step
        bestMetric = state.bestMetric
        bestStep = state.values["best_step"].map { Int($0) }
        evaluationsWithoutImprovement = Int(state.values["evaluations_without_improvement"] ?? 0)
        return checkpoint
    }

    /// Restores the latest checkpoint in `root` (`--resume`): the one way every task
    /// continues a run.
    ///
    /// - Parameters:
    ///   - root: the checkpoint root (`ModelFolder.checkpointsURL`, or an ensemble member's).
    ///   - required: whether a missing checkpoint is an error (a resumed run) or means
    ///     "start from step 0" (a member an interrupted run never reached).
    /// - Returns: the checkpoint restored, nil when there was none and none was required.
    /// - Throws: `SequentError.io` naming `root` when a required checkpoint is missing; as
    ///   `resume(from:)` otherwise.
    @discardableResult
    public func resumeFromLatest(in root: URL, required: Bool = true) throws -> Checkpoint? {
        guard let latest = try Checkpoint.latest(in: root) else {
            guard required else { return nil }
            throw SequentError.io(root.path, "--resume: no checkpoint to continue from (the run stopped before its first checkpoint); train again without --resume")
        }
        return try resume(from: latest)
    }

    /// Seconds one training step takes here, timed on a throwaway model (so the model being
    /// trained, its optimizer and its data are untouched): one step to allocate, then
    /// `timedSteps` timed. Tasks that fit their schedule to a `TimeLimit` call this first.
    ///
    /// - Parameters:
    ///   - model: a model built like the real one (its weights do not matter).
    ///   - data: a copy of the batches (advanced here, not the trainer's).
    ///   - learningRate: the optimizer's rate (Adam, as every task uses).
    ///   - loss: the loss of a batch.
    /// - Throws: errors of the loss function and the optimizer.
    public static func secondsPerStep(
        probe model: Model, data: Data, learningRate: Float, timedSteps: Int = 4, clock: MetricsClock = .system,
        loss: LossFunction
    ) throws -> Double {
        var batches = data
        let optimizer = try Adam(namedParameters: model.namedParameters(), learningRate: learningRate)
        model.setTraining(true)
        func step() throws {
            let batch = try batches.nextBatch()
            model.zeroGradients()
            optimizer.zeroGradients()
            try loss(model, batch).loss.backward()
            optimizer.step()
        }
        try step()
        let started = clock.monotonicSeconds()
        for _ in 0..<max(1, timedSteps) { try step() }
        return (clock.monotonicSeconds() - started) / Double(max(1, timedSteps))
    }

    /// "90 s", "10 min", "1 h 30 min".
    static func duration(_ seconds: Double) -> String {
        if seconds < 120 { return String(format: "%.0f s", seconds) }
        if seconds < 7200 { return String(format: "%.0f min", seconds / 60) }
        return String(format: "%.0f h %.0f min", (seconds / 3600).rounded(.down), seconds.truncatingRemainder(dividingBy: 3600) / 60)
    }

    // MARK: - Random generators in the model

    /// The key of the data source's generator in `TrainingState.randomGenerators`.
    static var dataGeneratorKey: String { "data" }

    /// Every module in the model that draws random numbers, keyed `module:<dotted path>`
    /// (`module:` alone for the model itself).
    private func stochasticModules() -> [(key: String, layer: any StochasticModule)] {
        var found: [(key: String, layer: any StochasticModule)] = []
        func visit(_ module: any Module, _ path: String) {
            if let stochastic = module as? any StochasticModule { found.append(("module:\(path)", stochastic)) }
            for (key, child) in module.submodules { visit(child, path.isEmpty ? key : "\(path).\(key)") }
        }
        visit(model, "")
        return found
    }
}

/// Reads and writes a generator that lives somewhere the trainer cannot see (a property of
/// the loss function's closure, a data augmenter), so checkpoints save and restore it.
///
///     final class Noise { var generator = RandomGenerator(seed: 3) }
///     trainer.randomGenerators["noise"] = RandomGeneratorAccess(get: { noise.generator }, set: { noise.generator = $0 })
public struct RandomGeneratorAccess {
    /// The generator's current state.
    public let get: () -> RandomGenerator
    /// Replaces the generator (with a restored one).
    public let set: (RandomGenerator) -> Void

    /// An accessor made of a getter and a setter.
    public init(get: @escaping () -> RandomGenerator, set: @escaping (RandomGenerator) -> Void) {
        self.get = get
        self.set = set
    }
}

/// The settings of a `Trainer`.
public struct TrainerConfiguration {
    /// The step at which `fit` ends, >= 1.
    public var totalSteps: Int
    /// Clip the global gradient norm to this (`clipGradientNorm`); nil for no clipping.
    public var maxGradientNorm: Float?
    /// Evaluate every this many steps (and at the last step); nil to evaluate only at the last.
    public var evaluationInterval: Int?
    /// Stop when a validation metric stops improving; needs a validation function.
    public var earlyStopping: EarlyStopping?
    /// The checkpoint root; nil for no checkpoints.
    public var checkpointDirectory: URL?
    /// Save every this many steps (and whenever the run ends); nil to save only at the end.
    public var checkpointInterval: Int?
    /// Keep only the newest this many checkpoints; nil keeps all.
    public var keepLastCheckpoints: Int?
    /// Where `metrics.jsonl` and the TensorBoard event files go; nil for no logs.
    public var logDirectory: URL?
    /// The progress display; nil for silence. Default: standard output, a bar on a terminal.
    public var progress: ProgressPrinter?
    /// Train data-parallel with the ranks of this MPI job: `data` must give each rank its own
    /// share of the global batch (`ShardedBatches`). Rank 0 alone writes checkpoints, logs
    /// and progress; the others train, evaluate and agree on when to stop. nil: one process.
    public var distributed: Distributed?
    /// Run the kernels on this many threads (`Parallelism.withThreads`); nil for all cores.
    /// Bitwise resumption needs the same count before and after.
    public var threadCount: Int?
    /// Stop cleanly (checkpoint, logs) at the first step that ends past this budget's
    /// deadline, with the reason `.timeLimit`; nil for no limit. Counted on the system's
    /// monotonic clock from `TimeLimit.start`, so a limit that started with the command
    /// covers its data loading too.
    public var timeLimit: TimeLimit?
    /// Whether SIGINT and SIGTERM stop the run cleanly during `fit` (default true).
    public var stopsOnSignals: Bool
    /// The clocks of the logs and the throughput; tests pass their own.
    public var clock: MetricsClock

    /// A configuration that trains `totalSteps` steps, prints progress, and saves and logs
    /// nothing until directories are set.
    public init(totalSteps: Int) {
        self.totalSteps = totalSteps
        self.progress = .standardOutput()
        self.stopsOnSignals = true
        self.clock = .system
    }

    /// Checks the values that must be positive.
    ///
    /// - Throws: `SequentError` naming the first invalid setting.
    public func validate() throws {
        func positive(_ value: Int?, _ name: String) throws {
            if let value, value < 1 { throw SequentError.invalidArgument("TrainerConfiguration", "\(name) must be at least 1, got \(value)") }
        }
        try positive(totalSteps, "totalSteps")
        try positive(evaluationInterval, "evaluationInterval")
        try positive(checkpointInterval, "checkpointInterval")
        try positive(keepLastCheckpoints, "keepLastCheckpoints")
        try positive(threadCount, "threadCount")
        if let maxGradientNorm, !(maxGradientNorm.isFinite && maxGradientNorm > 0) {
            throw SequentError.invalidArgument("TrainerConfiguration", "maxGradientNorm must be finite and > 0, got \(maxGradientNorm)")
        }
    }
}

/// The metrics log and the TensorBoard writer of one `fit`, both optional.
private struct TrainingLogs {
    /// The name of the JSON-lines log in the log directory.
    static let metricsFileName = "metrics.jsonl"

    let metrics: MetricsLog?
    let board: TensorBoardWriter?

    /// Opens both in `directory`: new logs at step 0, otherwise continued from `step`.
    init(directory: URL?, resumingFromStep step: Int, clock: MetricsClock) throws {
        guard let directory else {
            (metrics, board) = (nil, nil)
            return
        }
        let url = directory.appendingPathComponent(Self.metricsFileName)
        if step == 0, let existing = try? Data(contentsOf: url), !existing.isEmpty {
            throw SequentError(.io, "Trainer: \(directory.path) holds the logs of another run; resume that run "
                + "(Trainer.resume(from:) its checkpoint) or choose a new logDirectory")
        }
        metrics = try MetricsLog(url: url, mode: step > 0 ? .resume(fromStep: step) : .create, clock: clock)
        board = try TensorBoardWriter(logDirectory: directory, resumingFromStep: step > 0 ? step : nil, clock: clock)
    }

    /// Logs `scalars` at `step` in both.
    func append(step: Int, _ scalars: [String: Double]) throws {
        try metrics?.append(step: step, scalars)
        try board?.addScalars(scalars, step: step)
    }

    /// Puts both on disk.
    func synchronize() throws {
        try metrics?.synchronize()
        try board?.synchronize()
    }
}
