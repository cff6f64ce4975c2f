import ArgumentParser
import Foundation
import SequentTensor
import SequentTrain

/// The flags every `sequent TASK train` has (`shared/design/APPS.md`), parsed and
/// range-checked in one place. A task includes them with `@OptionGroup var training:
/// TrainingOptions` and fills the values left nil with its own defaults (said in its help).
struct TrainingOptions: ParsableArguments {
    @Option(help: "The model folder to write (created if missing; checked writable before training starts).")
    var out: String

    @Option(parsing: .unconditional, help: "Stacked layers (default: the task's).")
    var layers: Int?

    @Option(name: .customLong("hidden"), parsing: .unconditional, help: "Hidden size of each layer, or the Transformer's width (default: the task's).")
    var hiddenSize: Int?

    @Option(parsing: .unconditional, help: "Dropout probability between layers, in [0, 1) (default: the task's).")
    var dropout: Float?

    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Examples (or windows) per step (default: the task's).")
    var batchSize: Int?

    @Option(parsing: .unconditional, help: "Optimizer steps (default: the task's).")
    var steps: Int?

    @Option(name: .customLong("time-limit"), help: "Stop cleanly after this long (e.g. 90s, 10m, 1h), with a checkpoint and a final evaluation.")
    var timeLimit: Duration?

    @Option(help: "A validation file in the training data's format (default: --val-fraction of the training data).")
    var val: String?

    @Option(name: .customLong("val-fraction"), parsing: .unconditional, help: "The share of the training data held out for validation when no --val is given, taken as the task makes fair: the end of a text, the last rows of a series, each class's share of labelled texts (default: the task's).")
    var valFraction: Double?

    @Option(name: .customLong("learning-rate"), parsing: .unconditional, help: "Peak learning rate (default: the task's).")
    var learningRate: Float?

    @Option(parsing: .unconditional, help: "The seed of every random choice: split, initial weights, batches, dropout.")
    var seed: UInt64 = 42

    @Option(parsing: .unconditional, help: "Threads for oneDNN and Sequent's kernels (default: all cores of this machine).")
    var threads: Int?

    @Flag(help: "Continue the run in --out from its latest checkpoint, bitwise as if never stopped.")
    var resume = false

    @Flag(help: "Print only errors and the final summary.")
    var quiet = false

    /// `--distributed` and its settings: data-parallel training under `mpirun`.
    @OptionGroup var distribution: DistributedOptions

    func validate() throws {
        try Self.check(layers, "--layers", in: 1...64)
        try Self.check(hiddenSize, "--hidden", in: 1...65_536)
        try Self.check(batchSize, "--batch-size", in: 1...1_048_576)
        try Self.check(steps, "--steps", in: 1...1_000_000_000)
        if let dropout, !(dropout >= 0 && dropout < 1) {
            throw ValidationError("--dropout must be in [0, 1); got \(dropout)")
        }
        if let learningRate, !(learningRate > 0 && learningRate.isFinite && learningRate <= 10) {
            throw ValidationError("--learning-rate must be positive and at most 10; got \(learningRate)")
        }
        if let valFraction, !(valFraction > 0 && valFraction < 0.9) {
            throw ValidationError("--val-fraction must be in (0, 0.9); got \(valFraction)")
        }
        if val != nil, valFraction != nil {
            throw ValidationError("--val and --val-fraction are two ways to choose the validation data; give one")
        }
        _ = try ThreadCount.checked(threads)
        if out.isEmpty { throw ValidationError("--out must name a folder; got an empty path") }
    }

    /// The thread count to run with: `--threads` checked against this machine, or all cores.
    var threadCount: Int { (try? ThreadCount.checked(threads)) ?? Parallelism.coreCount }

    /// `--time-limit` as the budget the `Trainer` stops at, counted from `start` (the
    /// command's own start, so that reading the data counts); nil without the flag.
    func timeLimit(startedAt start: Double, reservedSeconds: Double = 0) -> TimeLimit? {
        timeLimit.flatMap { try? TimeLimit(seconds: $0.inSeconds, start: start, reservedSeconds: reservedSeconds) }
    }

    /// A stop after step k when the environment sets `SEQUENT_STOP_AT_STEP=k`: how the tests
    /// of `--resume` cut a run where a kill would (nil otherwise).
    static var stopAtStepForTests: ClosureCallback? {
        guard let text = ProcessInfo.processInfo.environment["SEQUENT_STOP_AT_STEP"], let stopStep = Int(text) else { return nil }
        return ClosureCallback(onStepEnd: { report, control in
            if report.step >= stopStep { control.requestStop() }
        })
    }

    /// The learning rate every task command schedules: a linear warm-up from a tenth of
    /// `peak` over min(100, steps / 20) steps, then cosine decay to a tenth of `peak` at `steps`.
    static func warmupCosine(peak: Float, steps: Int) throws -> LinearWarmup {
        let warmup = min(100, max(1, steps / 20))
        return try LinearWarmup(
            warmupSteps: warmup, startFactor: 0.1,
            then: CosineAnnealing(initialLearningRate: peak, totalSteps: max(1, steps - warmup), minimumLearningRate: peak / 10))
    }

    /// The Trainer's settings for a task command's run in `folder`: checkpoints every
    /// `checkpointInterval` steps (the newest 2 kept), metrics.jsonl and TensorBoard events
    /// in the folder, evaluation every `evaluationInterval` steps, gradients clipped to norm
    /// 1, progress on standard output unless --quiet, --threads, and `timeLimit`.
    func trainerConfiguration(steps: Int, folder: ModelFolder, evaluationInterval: Int, timeLimit: TimeLimit?) -> TrainerConfiguration {
        var configuration = TrainerConfiguration(totalSteps: steps)
        configuration.maxGradientNorm = 1
        configuration.evaluationInterval = evaluationInterval
        configuration.checkpointDirectory = folder.checkpointsURL
        configuration.checkpointInterval = max(1, min(steps / 10, 500))
        configuration.keepLastCheckpoints = 2
        configuration.logDirectory = folder.url
        configuration.progress = quiet ? nil : .standardOutput()
        configuration.threadCount = threadCount
        configuration.timeLimit = timeLimit
        return configuration
    }

    /// Prints a line unless --quiet, flushed so that it shows before a long step.
    func say(_ text: String) {
        guard !quiet else { return }
        print(text)
        fflush(nil)
    }

    /// `--out` as a file URL.
    var outURL: URL { URL(fileURLWithPath: out) }

    /// Throws a `ValidationError` naming `flag` when `value` is set and outside `range`.
    static func check(_ value: Int?, _ flag: String, in range: ClosedRange<Int>) throws {
        if let value, !range.contains(value) {
            throw ValidationError("\(flag) must be in \(range.lowerBound)...\(range.upperBound); got \(value)")
        }
    }
}

/// `--threads` of the commands that apply a trained model (`eval`, `predict`, `generate`,
/// `transcribe`): included with `@OptionGroup var threads: ThreadOption`, checked when parsed.
struct ThreadOption: ParsableArguments {
    @Option(parsing: .unconditional, help: "Threads (default: all cores).")
    var threads: Int?

    func validate() throws { _ = try ThreadCount.checked(threads) }

    /// The thread count to run with: --threads, or all cores.
    var count: Int { (try? ThreadCount.checked(threads)) ?? Parallelism.coreCount }
}

/// `--threads`, the same check in every command (`Parallelism.checkedThreadCount`).
enum ThreadCount {
    /// `threads` if it is at least 1 and at most 4 times the machine's cores, else a
    /// `ValidationError` that says so; nil gives all cores.
    static func checked(_ threads: Int?) throws -> Int {
        do { return try Parallelism.checkedThreadCount(threads) } catch { throw ValidationError(error.message) }
    }
}

extension Trainer {
    /// What every task command adds to its trainer: the weights saved as `model.safetensors`
    /// at each evaluation that improves on the best, and the tests' stop
    /// (`TrainingOptions.stopAtStepForTests`).
    /// (`folder` nil: keep no weights, as on the ranks other than 0 of a data-parallel run.)
    func addTaskCallbacks(savingBestTo folder: ModelFolder?) {
        let model = self.model
        callbacks.append(ClosureCallback(onEvaluation: { report, _ in
            if report.improved, let folder { try folder.saveWeights(of: model, metadata: ["step": String(report.step)]) }
        }))
        if let stop = TrainingOptions.stopAtStepForTests { callbacks.append(stop) }
    }
}

extension TrainingResult {
    /// How the run ended, in the words every task command prints ("trained 1500 steps",
    /// "stopped at the time limit after step 627 of 1226 (continue with --resume)").
    func ending(of totalSteps: Int) -> String {
        switch reason {
        case .completed: return "trained \(step) steps"
        case .interrupted: return "interrupted at step \(step) of \(totalSteps) (continue with --resume)"
        case .timeLimit: return "stopped at the time limit after step \(step) of \(totalSteps) (continue with --resume)"
        case .stopRequested: return "stopped after step \(step) of \(totalSteps) (continue with --resume)"
        case .earlyStopped: return "stopped early at step \(step)"
        }
    }
}

extension Duration {
    /// In seconds, as a Double.
    var inSeconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}

/// `--time-limit`: a number with a unit (s, m, h), or plain seconds.
extension Duration: @retroactive ExpressibleByArgument {
    public init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var scale = 1.0, number = Substring(text)
        if let (suffix, factor) = units.first(where: { text.hasSuffix($0.0) && Double(text.dropLast($0.0.count)) != nil }) {
            scale = factor
            number = text.dropLast(suffix.count)
        }
        guard let value = Double(number), value.isFinite, value > 0, value * scale <= 1e9 else { return nil }
        self = .milliseconds(Int64((value * scale * 1000).rounded()))
    }
}
