import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

/// What trains a model on a bit-sequence task (copy, repeat copy, associative recall); saved
/// as the `config` of the model folder's `config.json`.
public struct BitTaskConfig: Codable, Equatable, Sendable {
    /// The task and its lengths.
    public var task: BitSequenceTaskSettings
    /// `ntm` or `lstm`.
    public var model: String
    /// The machine's sizes (model `ntm`).
    public var ntm: NeuralTuringMachineConfiguration
    /// The LSTM's hidden size and layers (model `lstm`).
    public var lstmHidden: Int
    public var lstmLayers: Int
    public var batchSize: Int
    public var steps: Int
    /// Adam's learning rate.
    public var learningRate: Float
    /// The global gradient norm is clipped to this (Collier and Beel 2018 clip NTM gradients).
    public var maxGradientNorm: Float
    public var seed: UInt64
    /// Evaluate (bit errors at the longest training length) every this many steps.
    public var evaluationInterval: Int

    /// The defaults of `sequent memory train --task TASK --model MODEL`: the paper's 100-unit
    /// LSTM controller and 128 x 20 memory with one read and one write head, shifts -1...1;
    /// for the LSTM, one layer of 120 units, about the NTM's parameter count on copy.
    /// Adam at 1e-3 cosine-annealed to 1e-4 over 10000 steps, batches of 16, gradient norm
    /// clipped to 10; validation every 100 steps on 32 sequences of the longest length.
    public static func defaults(task: BitSequenceTask, model: String) -> BitTaskConfig {
        let settings = BitSequenceTaskSettings.paper(task)
        let slots = max(128, settings.slotsNeeded(length: 6 * settings.maxLength) + 1)
        return BitTaskConfig(
            task: settings, model: model,
            ntm: NeuralTuringMachineConfiguration(inputSize: settings.inputSize, outputSize: settings.outputSize,
                                                  memorySlots: task == .copy ? 128 : slots),
            lstmHidden: 120, lstmLayers: 1, batchSize: 16, steps: 10000, learningRate: 1e-3, maxGradientNorm: 10, seed: 42,
            evaluationInterval: 100)
    }

    /// Checks the values before any work.
    ///
    /// - Throws: `SequentError` naming the first value out of range.
    public func validate() throws {
        try task.validate()
        guard model == "ntm" || model == "lstm" else {
            throw SequentError.invalidArgument("--model", "the bit-sequence tasks train `ntm` or `lstm`, got `\(model)`")
        }
        if model == "ntm" { try ntm.validate() }
        guard lstmHidden >= 1, lstmLayers >= 1, batchSize >= 1, steps >= 1, evaluationInterval >= 1 else {
            throw SequentError.invalidArgument("memory train", "sizes, batch size, steps and evaluation interval must be at least 1")
        }
    }
}

/// A model for the bit-sequence tasks: an NTM or the LSTM baseline, (T, B, X) in, logits
/// (T, B, Y) out.
public enum BitTaskModel {
    case ntm(NeuralTuringMachine)
    case lstm(SequenceLSTM)

    /// A model built as `config` says, initialised from its seed.
    public init(_ config: BitTaskConfig) throws {
        var generator = RandomGenerator(seed: config.seed)
        if config.model == "ntm" {
            self = .ntm(try NeuralTuringMachine(configuration: config.ntm, generator: &generator))
        } else {
            self = .lstm(try SequenceLSTM(inputSize: config.task.inputSize, hiddenSize: config.lstmHidden, layerCount: config.lstmLayers,
                                          outputSize: config.task.outputSize, generator: &generator))
        }
    }

    public var module: any Module {
        switch self { case .ntm(let m): m; case .lstm(let m): m }
    }

    /// Logits (T, B, Y).
    public func logits(_ inputs: Tensor, trace: NeuralTuringMachine.Trace? = nil) throws -> Tensor {
        switch self {
        case .ntm(let m): try m(inputs, trace: trace)
        case .lstm(let m): try m(inputs)
        }
    }
}

/// Training and scoring on the bit-sequence tasks, shared by `sequent memory` and the lab.
public enum BitTaskTraining {
    /// How a run is watched and where it writes.
    public struct RunOptions {
        /// The model folder (weights, checkpoints, logs); nil keeps everything in memory.
        public var folder: ModelFolder?
        /// Stop cleanly at this budget (`TrainerConfiguration.timeLimit`).
        public var timeLimit: TimeLimit?
        public var threads: Int?
        public var progress: ProgressPrinter?
        /// Continue the folder's latest checkpoint.
        public var resume: Bool
        /// Train data-parallel with this MPI job's ranks (each on its rows of every batch of
        /// `batchSize` rows, the global batch); rank 0 alone writes. nil: one process.
        public var distributed: Distributed?
        /// Stop at the first evaluation whose validation bit errors per sequence (at the
        /// longest training length) are below this: the task is solved (nil: train every step).
        public var solvedBelowBitErrors: Double?
        public init(folder: ModelFolder? = nil, timeLimit: TimeLimit? = nil, threads: Int? = nil,
                    progress: ProgressPrinter? = nil, resume: Bool = false, solvedBelowBitErrors: Double? = nil) {
            (self.folder, self.timeLimit, self.threads, self.progress, self.resume) = (folder, timeLimit, threads, progress, resume)
            self.solvedBelowBitErrors = solvedBelowBitErrors
        }

        /// The Trainer's settings for a run of `steps` steps evaluated every
        /// `evaluationInterval`: checkpoints and logs in the folder, the time limit, threads
        /// and progress.
        func trainerConfiguration(steps: Int, evaluationInterval: Int, maxGradientNorm: Float) -> TrainerConfiguration {
            var configuration = TrainerConfiguration(totalSteps: steps)
            configuration.maxGradientNorm = maxGradientNorm
            configuration.evaluationInterval = evaluationInterval
            configuration.threadCount = threads
            configuration.progress = progress
            configuration.timeLimit = timeLimit
            configuration.distributed = distributed
            if let folder {
                configuration.checkpointDirectory = folder.checkpointsURL
                configuration.checkpointInterval = max(evaluationInterval, 500)
                configuration.keepLastCheckpoints = 2
                configuration.logDirectory = folder.url
            }
            return configuration
        }

        /// With `resume`, restores the folder's latest checkpoint into `trainer` (an error if
        /// there is none).
        func resumeIfAsked<M: Module, D: TrainingData>(_ trainer: Trainer<M, D>) throws {
            if resume, let folder { try trainer.resumeFromLatest(in: folder.checkpointsURL) }
        }
    }

    /// What a run did.
    public struct Outcome {
        public var model: BitTaskModel
        public var result: TrainingResult
        /// Wall-clock seconds of `fit`.
        public var seconds: Double
        /// The best validation bit errors per sequence.
        public var bestBitErrors: Double?
        /// The step of the evaluation that found the task solved (`RunOptions.solvedBelowBitErrors`);
        /// nil when none did.
        public var solvedAtStep: Int?
    }

    /// The loss of a batch: mean binary cross-entropy of the scored steps' logits.
    public static func loss(_ logits: Tensor, _ batch: BitSequenceBatch) throws -> Tensor {
        try Loss.binaryCrossEntropyWithLogits(logits: logits.slice(alongAxis: 0, batch.outputStart..<batch.time), targets: batch.scoredTargets)
    }

    /// Trains a model as `config` says on the Trainer; keeps the weights with the fewest
    /// validation bit errors (in the folder's `model.safetensors` when there is a folder).
    ///
    /// - Throws: `SequentError` for a config that cannot work, data, I/O and training errors.
    public static func train(_ config: BitTaskConfig, options: RunOptions) throws -> Outcome {
        try config.validate()
        let model = try BitTaskModel(config)
        switch model {
        case .ntm(let m): return try train(m, model, config, options)
        case .lstm(let m): return try train(m, model, config, options)
        }
    }

    private static func train<M: Module>(_ module: M, _ model: BitTaskModel, _ config: BitTaskConfig, _ options: RunOptions) throws -> Outcome {
        var dataGenerator = RandomGenerator(seed: config.seed &+ 1)
        let data = try ShardedBatches(BitSequenceBatches(settings: config.task, batchSize: config.batchSize, generator: dataGenerator.split()),
                                      rank: options.distributed?.rank ?? 0, shardCount: options.distributed?.size ?? 1)
        var validationGenerator = RandomGenerator(seed: config.seed &+ 2)
        let validation = try config.task.batch(length: config.task.maxLength, batchSize: 32, using: &validationGenerator)

        let configuration = options.trainerConfiguration(
            steps: config.steps, evaluationInterval: config.evaluationInterval, maxGradientNorm: config.maxGradientNorm)
        let optimizer = try Adam(namedParameters: module.namedParameters(), learningRate: config.learningRate)
        let trainer = try Trainer(
            model: module, optimizer: optimizer, data: data, configuration: configuration,
            schedule: try CosineAnnealing(initialLearningRate: config.learningRate, totalSteps: config.steps,
                                          minimumLearningRate: config.learningRate / 10),
            validation: { _ in
                let logits = try withoutGradients { try model.logits(validation.inputs) }
                return ["bit_errors": validation.bitErrorsPerSequence(logits: logits),
                        "loss": Double(try loss(logits, validation).item)]
            },
            modelConfig: config
        ) { _, batch in
            (try loss(try model.logits(batch.inputs), batch), batch.batchSize * (batch.time - batch.outputStart))
        }
        var best: (Double, Double)?
        var bestWeights = module.stateDictionary()
        var solvedAtStep: Int?
        trainer.callbacks.append(ClosureCallback(
            onEvaluation: { report, control in
                if let limit = options.solvedBelowBitErrors, let errors = report.metrics["bit_errors"], errors < limit, solvedAtStep == nil {
                    solvedAtStep = report.step
                    control.requestStop()
                }
                // The fewest bit errors; among equals, the lowest loss.
                guard let errors = report.metrics["bit_errors"], let loss = report.metrics["loss"],
                      best.map({ (errors, loss) < $0 }) ?? true else { return }
                best = (errors, loss)
                bestWeights = module.stateDictionary()
                guard options.distributed?.isRoot ?? true else { return }
                try options.folder?.saveWeights(of: module, metadata: ["step": String(report.step), "bit_errors": String(errors)])
            }))
        try options.resumeIfAsked(trainer)
        let started = Date()
        let result = try trainer.fit()
        let seconds = Date().timeIntervalSince(started)
        try module.loadStateDictionary(bestWeights)
        return Outcome(model: model, result: result, seconds: seconds, bestBitErrors: best?.0, solvedAtStep: solvedAtStep)
    }

    /// Bit errors per sequence at each length, over `sequences` fresh sequences from `seed`.
    public static func bitErrors(_ model: BitTaskModel, task: BitSequenceTaskSettings, lengths: [Int], sequences: Int,
                                 seed: UInt64) throws -> [(length: Int, bitErrors: Double)] {
        model.module.setTraining(false)
        defer { model.module.setTraining(true) }
        var generator = RandomGenerator(seed: seed)
        return try lengths.map { length in
            var total = 0.0, done = 0
            while done < sequences {
                let count = min(32, sequences - done)
                let batch = try task.batch(length: length, batchSize: count, using: &generator)
                let logits = try withoutGradients { try model.logits(batch.inputs) }
                total += batch.bitErrorsPerSequence(logits: logits) * Double(count)
                done += count
            }
            return (length, total / Double(sequences))
        }
    }

    /// The CPU seconds of this process for one training step's forward and backward pass of
    /// each model, in `rounds` interleaved rounds (one step of `first`, then one of `second`,
    /// on the same batch of `batchSize` sequences of `length`), after one warm-up step each.
    /// Paired rounds, so that a change of load on shared cores hits both models alike; CPU
    /// time, so that other processes do not count.
    public static func pairedStepSeconds(_ first: BitTaskModel, _ second: BitTaskModel, task: BitSequenceTaskSettings, length: Int,
                                         batchSize: Int, rounds: Int) throws -> [(first: Double, second: Double)] {
        var generator = RandomGenerator(seed: 11)
        let batch = try task.batch(length: length, batchSize: batchSize, using: &generator)
        func seconds(_ model: BitTaskModel) throws -> Double {
            let started = ProcessCPUTime.seconds
            model.module.zeroGradients()
            try loss(try model.logits(batch.inputs), batch).backward()
            let spent = ProcessCPUTime.seconds - started
            model.module.zeroGradients()
            return spent
        }
        _ = try (seconds(first), seconds(second))
        return try (0..<rounds).map { _ in (try seconds(first), try seconds(second)) }
    }

    /// The NTM's read and write weightings on one example of `length`, as two heatmaps
    /// (memory slot against time step; only the slots some head weighted above 0.01), the
    /// paper's figure.
    public static func weightingPictures(_ ntm: NeuralTuringMachine, task: BitSequenceTaskSettings, length: Int, seed: UInt64) throws
        -> (write: Heatmap, read: Heatmap) {
        var generator = RandomGenerator(seed: seed)
        let batch = try task.batch(length: length, batchSize: 1, using: &generator)
        let trace = NeuralTuringMachine.Trace()
        ntm.setTraining(false)
        defer { ntm.setTraining(true) }
        _ = try withoutGradients { try ntm(batch.inputs, trace: trace) }
        let N = ntm.configuration.memorySlots
        let all = trace.writeWeightings + trace.readWeightings.flatMap { $0 }
        var used = (0..<N).filter { slot in all.contains { $0[slot] > 0.01 } }
        if used.isEmpty { used = Array(0..<min(N, 2 * length + 2)) }
        func picture(_ steps: [[Float]], _ title: String) -> Heatmap {
            Heatmap(title: title, xTitle: "time step (input, then output from \(batch.outputStart))", yTitle: "memory slot",
                    xLabels: (0..<steps.count).map(String.init), yLabels: used.map(String.init),
                    values: used.map { slot in steps.map { Double($0[slot]) } }, valueTitle: "weight")
        }
        return (picture(trace.writeWeightings, "NTM \(task.task.rawValue), length \(length): write weighting"),
                picture(trace.readWeightings.first ?? [], "NTM \(task.task.rawValue), length \(length): read weighting"))
    }

    /// Bit errors against length, one line per model, for the report.
    public static func bitErrorChart(_ series: [(name: String, points: [(length: Int, bitErrors: Double)])], trainedUpTo: Int) -> LineChart {
        LineChart(title: "Bit errors per sequence against length (trained on 1-\(trainedUpTo))",
                  x: Axis("sequence length"), y: Axis("bit errors per sequence"),
                  series: series.enumerated().map { index, entry in
                      LineSeries(name: entry.name, points: entry.points.map { (Double($0.length), $0.bitErrors) }, colorIndex: index)
                  })
    }
}

extension BitSequenceBatch: ShardableBatch {
    /// B.
    public var rowCount: Int { batchSize }

    /// Sequences `range` (axis 1 of the time-major inputs and targets).
    public func rows(_ range: Range<Int>) -> BitSequenceBatch {
        var share = self
        share.inputs = inputs.slice(alongAxis: 1, range)
        share.targets = targets.slice(alongAxis: 1, range)
        return share
    }
}
