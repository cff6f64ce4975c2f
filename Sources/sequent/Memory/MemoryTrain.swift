import ArgumentParser
import Foundation
import SequentData
import SequentLab
import SequentNN
import SequentTensor
import SequentTrain

/// The tasks `sequent memory train` knows.
enum MemoryTaskName: String, ExpressibleByArgument, CaseIterable {
    case copy
    case repeatCopy = "repeat-copy"
    case recall
    case babi

    var bitTask: BitSequenceTask? { BitSequenceTask(rawValue: rawValue) }
}

/// `sequent memory train`: trains an NTM (or the LSTM baseline) on a bit-sequence task, or a
/// memory network (or the LSTM baseline) on bAbI, and writes a model folder.
struct MemoryTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an NTM on copy/repeat-copy/recall, or a memory network on bAbI, into a model folder.",
        discussion: """
            Example (runs as written from the repository root):
              sequent memory train --task copy --out ntm-copy --threads 1 --time-limit 15m

            Defaults, copy: NTM with a 100-unit LSTM controller, 128 x 20 memory, one read and one \
            write head, shifts -1..1, memory initialised to 1e-6; Adam 1e-3 cosine-annealed to 1e-4, \
            batch 16, gradient norm clipped to 10, 10000 steps, lengths 1-20. --model lstm: one LSTM layer of 120 units \
            (about the NTM's parameter count). bAbI: 3 hops, d = 20, position + temporal encoding, \
            adjacent tying, Adam 0.01 annealed to 0.001, batch 32, 10000 steps, tasks 1,2,3,6,7,8 generated (1000 \
            questions each) unless --babi FILE is given. --hidden sets the controller / LSTM / \
            embedding width, --layers the LSTM baseline's layers.
            The folder gets config.json, model.safetensors (best by validation), checkpoints/, \
            metrics.jsonl, TensorBoard events, report.md and SVG plots (the NTM's read and write \
            weightings; the memory network's hop attention).
            """)

    @Option(help: "copy, repeat-copy, recall or babi.")
    var task: MemoryTaskName

    @Option(help: "ntm or lstm (bit tasks; default ntm), memn2n or lstm (babi; default memn2n).")
    var model: String?

    @OptionGroup var training: TrainingOptions

    @Option(name: .customLong("min-length"), help: "Shortest training length (default: the paper's, 1 for copy).")
    var minLength: Int?

    @Option(name: .customLong("max-length"), help: "Longest training length (default: the paper's, 20 for copy).")
    var maxLength: Int?

    @Option(name: .customLong("memory-slots"), help: "NTM memory slots N (default 128), or the memory network's memories (default 50).")
    var memorySlots: Int?

    @Option(name: .customLong("memory-width"), help: "NTM slot width W (default 20).")
    var memoryWidth: Int?

    @Option(name: .customLong("shift-range"), help: "NTM shifts -R..R (default 1).")
    var shiftRange: Int?

    @Option(name: .customLong("read-heads"), help: "NTM read heads (default 1).")
    var readHeads: Int?

    @Option(help: "Memory-network hops (default 3).")
    var hops: Int?

    @Option(name: .customLong("linear-start"), help: "Memory network: train this many steps without the hops' softmax (the paper's linear start; default 0).")
    var linearStart: Int?

    @Option(help: "A bAbI training file (the text format); default: the generated tasks.")
    var babi: String?

    @Option(name: .customLong("babi-tasks"), help: "Generated bAbI tasks to train on, comma-separated (default 1,2,3,6,7,8).")
    var babiTasks: String?

    func validate() throws {
        for (value, flag) in [(minLength, "--min-length"), (maxLength, "--max-length"), (memorySlots, "--memory-slots"),
                              (memoryWidth, "--memory-width"), (readHeads, "--read-heads"), (hops, "--hops")] {
            try TrainingOptions.check(value, flag, in: 1...100_000)
        }
        try TrainingOptions.check(shiftRange, "--shift-range", in: 0...100_000)
        try TrainingOptions.check(linearStart, "--linear-start", in: 0...1_000_000_000)
        if task != .babi, babi != nil || babiTasks != nil || hops != nil || training.val != nil || training.valFraction != nil || linearStart != nil {
            throw ValidationError("--babi, --babi-tasks, --val, --val-fraction, --hops and --linear-start are for --task babi (the bit tasks validate on generated sequences)")
        }
        if training.valFraction != nil, babi == nil {
            throw ValidationError("--val-fraction holds back part of a --babi file; the generated tasks validate on fresh questions")
        }
        if let dropout = training.dropout, dropout != 0 {
            throw ValidationError("--dropout is not used by the NTM, the memory network or their LSTM baselines; leave it out")
        }
    }

    func run() throws {
        try training.distribution.run { try train(distributed: $0) }
    }

    /// The training, on every rank of a data-parallel run (`distributed`; rank 0 alone
    /// writes and prints), or alone.
    private func train(distributed: Distributed?) throws {
        let isRoot = distributed?.isRoot ?? true
        let started = MetricsClock.system.monotonicSeconds()
        // Every setting is checked before the folder is touched.
        if let bitTask = task.bitTask { try bitConfig(bitTask, ranks: distributed?.size ?? 1).validate() } else { try babiConfig(ranks: distributed?.size ?? 1).validate() }
        let folder = try ModelFolder.create(at: training.outURL, task: "memory", writes: isRoot)
        var progress: ProgressPrinter? = training.quiet || !isRoot ? nil : .standardOutput(logInterval: 50)
        progress?.message("sequent memory: training \(task.rawValue) into \(folder.url.path)")
        var options = BitTaskTraining.RunOptions(
            folder: folder, timeLimit: training.timeLimit(startedAt: started),
            threads: training.threadCount, progress: progress, resume: training.resume)
        options.distributed = distributed
        if let bitTask = task.bitTask {
            try trainBits(bitTask, folder: folder, options: options)
        } else {
            try trainBAbI(folder: folder, options: options)
        }
    }

    /// The bit task's config: the defaults with the flags given; --batch-size is per rank of
    /// `ranks`, the config keeps the global batch.
    private func bitConfig(_ bitTask: BitSequenceTask, ranks: Int = 1) throws -> BitTaskConfig {
        var config = BitTaskConfig.defaults(task: bitTask, model: model ?? "ntm")
        if let minLength { config.task.minLength = minLength }
        if let maxLength { config.task.maxLength = maxLength }
        if let hidden = training.hiddenSize { config.ntm.controllerSize = hidden; config.lstmHidden = hidden }
        if let layers = training.layers { config.lstmLayers = layers }
        if let memorySlots { config.ntm.memorySlots = memorySlots }
        if let memoryWidth { config.ntm.memoryWidth = memoryWidth }
        if let shiftRange { config.ntm.shiftRange = shiftRange }
        if let readHeads { config.ntm.readHeads = readHeads }
        if let batchSize = training.batchSize { config.batchSize = batchSize }
        config.batchSize *= ranks
        if let steps = training.steps { config.steps = steps }
        if let learningRate = training.learningRate { config.learningRate = learningRate }
        config.seed = training.seed
        return config
    }

    private func trainBits(_ bitTask: BitSequenceTask, folder: ModelFolder, options: BitTaskTraining.RunOptions) throws {
        let distributed = options.distributed
        let isRoot = distributed?.isRoot ?? true
        let config = try bitConfig(bitTask, ranks: distributed?.size ?? 1)
        if options.resume {
            let saved = try folder.readConfig(as: BitTaskConfig.self)
            guard saved == config else {
                throw SequentError.invalidArgument("--resume", "\(folder.configURL.path) was trained with other settings; resume with the same flags")
            }
        } else if isRoot {
            try folder.refuseExistingRun()
            try folder.writeConfig(config, version: Sequent.version)
        }
        if let distributed {
            try distributed.checkAgreement(on: config, threads: training.threadCount, resume: options.resume)
            if !training.quiet, isRoot { print(distributed.summary(globalBatch: config.batchSize, threads: training.threadCount)) }
        }
        let outcome = try BitTaskTraining.train(config, options: options)
        // The other ranks are done: rank 0 scores and reports.
        guard isRoot else { return }
        let lengths = [config.task.maxLength, 2 * config.task.maxLength]
        let scores = try BitTaskTraining.bitErrors(outcome.model, task: config.task, lengths: lengths, sequences: 64, seed: config.seed &+ 3)
        var report = """
            # sequent memory: \(config.model) on \(config.task.task.rawValue)

            Trained \(outcome.result.step) steps in \(String(format: "%.0f", outcome.seconds)) s (\(outcome.result.reason)), \
            \(outcome.model.module.parameterCount) parameters, lengths \(config.task.minLength)-\(config.task.maxLength).

            | length | bit errors per sequence (64 sequences) |
            |---|---|

            """
        for (length, errors) in scores { report += "| \(length) | \(String(format: "%.3f", errors)) |\n" }
        if case .ntm(let ntm) = outcome.model {
            let pictures = try BitTaskTraining.weightingPictures(ntm, task: config.task, length: min(config.task.maxLength, 20), seed: config.seed &+ 4)
            try folder.write(text: pictures.write.svg, to: "write-weightings.svg")
            try folder.write(text: pictures.read.svg, to: "read-weightings.svg")
            report += "\n![write weightings](write-weightings.svg)\n\n![read weightings](read-weightings.svg)\n"
        }
        try folder.write(text: report, to: ModelFolder.reportFileName)
        print(scores.map { "length \($0.length): \(String(format: "%.3f", $0.bitErrors)) bit errors per sequence" }.joined(separator: "\n"))
        print("model: \(folder.url.path)")
        print("next:  sequent memory eval \(folder.url.path) --lengths 10,20,40,60,80,120")
    }

    /// The bAbI config: the defaults with the flags given; --batch-size is per rank of
    /// `ranks`, the config keeps the global batch.
    private func babiConfig(ranks: Int = 1) throws -> BAbIConfig {
        var config = BAbIConfig.defaults(model: model ?? "memn2n")
        if let hidden = training.hiddenSize { config.network.embeddingSize = hidden; config.lstmHidden = hidden }
        if let hops { config.network.hops = hops }
        if let memorySlots { config.network.memories = memorySlots }
        if let linearStart { config.linearStartSteps = linearStart }
        if let batchSize = training.batchSize { config.batchSize = batchSize }
        config.batchSize *= ranks
        if let steps = training.steps { config.steps = steps }
        if let learningRate = training.learningRate { config.learningRate = learningRate }
        config.seed = training.seed
        if let babiTasks { config.tasks = try Self.parseTasks(babiTasks) }
        config.trainFile = babi
        return config
    }

    private func trainBAbI(folder: ModelFolder, options: BitTaskTraining.RunOptions) throws {
        let distributed = options.distributed
        let isRoot = distributed?.isRoot ?? true
        let config = try babiConfig(ranks: distributed?.size ?? 1)
        var train: BAbIDataSet, validation: BAbIDataSet
        if let babi {
            train = try BAbIDataSet.file(babi)
            if let val = training.val {
                validation = try BAbIDataSet.file(val)
            } else {
                let all = train.all
                let fraction = training.valFraction ?? 0.1
                let cut = max(1, training.valFraction.map { Int(Double(all.count) * (1 - $0)) } ?? all.count * 9 / 10)
                guard cut < all.count else {
                    throw SequentError.malformedFile(babi, "has too few questions (\(all.count)) to hold \(String(format: "%g", 100 * fraction))% back; give --val")
                }
                train = BAbIDataSet(groups: [(train.groups[0].name, Array(all[..<cut]))])
                validation = BAbIDataSet(groups: [("held back", Array(all[cut...]))])
            }
        } else {
            train = try BAbIDataSet.generated(tasks: config.tasks, count: config.questionsPerTask, seed: config.seed)
            validation = try training.val.map { try BAbIDataSet.file($0) }
                ?? BAbIDataSet.generated(tasks: config.tasks, count: 200, seed: config.seed &+ 1_000_003)
        }
        if isRoot {
            if !options.resume { try folder.refuseExistingRun() }
            try folder.writeConfig(config, version: Sequent.version)
        }
        if let distributed {
            try distributed.checkAgreement(on: config, threads: training.threadCount, resume: options.resume)
            if !training.quiet, isRoot { print(distributed.summary(globalBatch: config.batchSize, threads: training.threadCount)) }
        }
        let outcome = try BAbITraining.train(config, train: train, validation: validation, options: options)
        // The other ranks are done: rank 0 writes, scores and reports.
        guard isRoot else { return }
        try folder.writeConfig(outcome.config, version: Sequent.version)
        try folder.writeJSON(outcome.vocabulary, to: ModelFolder.tokenizerFileName)
        let (S, J) = (outcome.config.network.memories, outcome.config.network.sentenceLength)
        var report = """
            # sequent memory: \(config.model) on bAbI

            Trained \(outcome.result.step) steps in \(String(format: "%.0f", outcome.seconds)) s (\(outcome.result.reason)), \
            \(outcome.model.module.parameterCount) parameters.

            | questions | accuracy | supports found (correct answers) |
            |---|---|---|

            """
        for group in validation.groups {
            let scores = try BAbITraining.evaluate(outcome.model, vocabulary: outcome.vocabulary, examples: group.examples, memories: S, sentenceLength: J)
            let line = "\(group.name): accuracy \(String(format: "%.1f", 100 * scores.accuracy))%"
                + (scores.supportsFound.map { ", supports found in \(String(format: "%.1f", 100 * $0))% of correct answers" } ?? "")
            print(line)
            report += "| \(group.name) | \(String(format: "%.1f", 100 * scores.accuracy))% | \(scores.supportsFound.map { String(format: "%.1f%%", 100 * $0) } ?? "-") |\n"
        }
        if case .memn2n(let network) = outcome.model, let example = validation.all.first(where: { !$0.supporting.isEmpty }) {
            let picture = try BAbITraining.attentionPicture(network, vocabulary: outcome.vocabulary, example: example, memories: S, sentenceLength: J)
            try folder.write(text: picture.svg, to: "hop-attention.svg")
            report += "\n![hop attention](hop-attention.svg)\n"
        }
        try folder.write(text: report, to: ModelFolder.reportFileName)
        print("model: \(folder.url.path)")
        print("next:  sequent memory eval \(folder.url.path)\(babi.map { " --babi \($0)" } ?? "")")
    }

    /// "1,2,3" as task numbers.
    static func parseTasks(_ text: String) throws -> [Int] {
        try text.split(separator: ",").map { part in
            guard let task = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--babi-tasks takes task numbers separated by commas, e.g. 1,2,3; got \(text)")
            }
            return task
        }
    }
}
