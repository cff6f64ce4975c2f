import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

/// Experiment 6: external memory against an LSTM. The Neural Turing Machine and an LSTM of
/// about its parameter count learn copy on short sequences and are scored on longer ones;
/// an end-to-end memory network and an LSTM reading the story as one sequence answer
/// generated bAbI-style questions. Both sides of each comparison get the same data, batch
/// size and steps. Every run uses the settings of `sequent memory train` with each of the
/// lab's seeds; a copy run stops once it has solved the training lengths (the steps it
/// needed are measured).
public struct MemoryExperiment {
    public var settings: LabSettings
    public var progress: LabProgress

    public init(settings: LabSettings, progress: LabProgress = .silent) {
        self.settings = settings
        self.progress = progress
    }

    /// The budgets of the experiment, from the lab's mode.
    public struct Budget: Sendable {
        public var copyMaxLength: Int, copySteps: Int, testLengths: [Int], testSequences: Int
        /// Adam's peak learning rate on copy, for both models.
        public var copyLearningRate: Float
        public var controllerSize: Int, memorySlots: Int, memoryWidth: Int, lstmHidden: Int
        /// Train the NTM with Collier and Beel's (2018) recipe
        /// (`NeuralTuringMachineConfiguration.withCollierBeelRecipe()`); false: `sequent memory
        /// train`'s fixed start on slot 0 with PyTorch's controller initialisation.
        public var collierBeelRecipe: Bool
        public var babiTasks: [Int], babiQuestions: Int, babiSteps: Int

        /// The full run: the paper's copy machine (100-unit controller, 128 x 20 memory) and an
        /// LSTM of 120 units (about the same parameter count), lengths 1-20, 10000 steps (the
        /// command's default), tested to 120;
        /// all six generated bAbI tasks, 1000 questions each (bAbI 1k).
        public static let full = Budget(copyMaxLength: 20, copySteps: 10000, testLengths: [10, 20, 40, 60, 80, 120], testSequences: 32,
                                        copyLearningRate: 1e-3,
                                        controllerSize: 100, memorySlots: 128, memoryWidth: 20, lstmHidden: 120, collierBeelRecipe: false,
                                        babiTasks: BAbIGenerator.tasks, babiQuestions: 1000, babiSteps: 4000)
        /// --quick: lengths 1-5 tested to 20 with a 32-unit controller on 32 x 8 memory (LSTM
        /// 40 units), 2000 steps at a learning rate of 0.01 (at 1e-3 the small machine does not
        /// learn in 2000 steps); bAbI tasks 1 and 6 only, 1000 questions each, 3000 steps.
        public static let quick = Budget(copyMaxLength: 5, copySteps: 2000, testLengths: [5, 10, 20], testSequences: 32,
                                         copyLearningRate: 1e-2,
                                         controllerSize: 32, memorySlots: 32, memoryWidth: 8, lstmHidden: 40, collierBeelRecipe: false,
                                         babiTasks: [1, 6], babiQuestions: 1000, babiSteps: 3000)
    }

    public var budget: Budget { settings.isQuick ? .quick : .full }

    /// A copy run is solved, and stops, at the first evaluation (every 100 steps, on the 32
    /// validation sequences of the longest training length) with fewer bit errors per
    /// sequence than this: at most 1 wrong bit in the 32 sequences.
    public static let solvedBitErrors = 0.05

    /// One model trained on copy with one seed.
    public struct CopyRun: Sendable {
        public var name: String
        public var seed: UInt64
        public var parameterCount: Int
        public var seconds: Double
        /// CPU seconds of one training step (forward and backward) at the longest training
        /// length: the median of the paired rounds (`Result.stepRatios`).
        public var stepSeconds: Double
        public var bitErrors: [(length: Int, bitErrors: Double)]
        /// The step of the evaluation that found copy solved at the training lengths; nil if none did.
        public var solvedAtStep: Int?
        public func errors(at length: Int) -> Double? { bitErrors.first { $0.length == length }?.bitErrors }
    }

    /// One model trained on the bAbI tasks with one seed.
    public struct BAbIRun: Sendable {
        public var name: String
        public var seed: UInt64
        public var parameterCount: Int
        public var seconds: Double
        /// Per task: accuracy, and (memory network) supports found among correct answers.
        public var tasks: [(task: String, accuracy: Double, supportsFound: Double?)]
        public var meanAccuracy: Double { tasks.map(\.accuracy).reduce(0, +) / Double(max(tasks.count, 1)) }
    }

    /// Every run, one per model and seed (in the order of the lab's seeds).
    public struct Result: Sendable {
        public var budget: Budget
        public var ntm: [CopyRun], lstm: [CopyRun]
        /// The first seed's NTM.
        public var writePicture: Heatmap?, readPicture: Heatmap?
        public var memoryNetwork: [BAbIRun], storyLSTM: [BAbIRun]
        /// The first seed's memory network.
        public var attentionPicture: Heatmap?
        /// The NTM's step cost over the LSTM's, one value per paired round of every seed
        /// (`BitTaskTraining.pairedStepSeconds`: NTM, LSTM, NTM, LSTM, ... on the same batch).
        public var stepRatios: [Double] = []
    }

    /// Paired timing rounds per seed.
    public static let timingRounds = 10

    /// The copy task at the budget's lengths.
    public var copyTask: BitSequenceTaskSettings {
        var task = BitSequenceTaskSettings.paper(.copy)
        task.maxLength = budget.copyMaxLength
        return task
    }

    /// What trains `model` (`ntm` or `lstm`) on copy with `seed`: `sequent memory train`'s
    /// settings at the budget's sizes, steps and rate; the NTM with Collier and Beel's
    /// (2018) recipe where the budget says so.
    public func copyConfig(_ model: String, seed: UInt64) -> BitTaskConfig {
        let b = budget
        var config = BitTaskConfig.defaults(task: .copy, model: model)
        config.task = copyTask
        config.ntm.controllerSize = b.controllerSize
        config.ntm.memorySlots = b.memorySlots
        config.ntm.memoryWidth = b.memoryWidth
        if b.collierBeelRecipe { config.ntm = config.ntm.withCollierBeelRecipe() }
        config.lstmHidden = b.lstmHidden
        config.steps = b.copySteps
        config.learningRate = b.copyLearningRate
        config.seed = seed
        return config
    }

    public func run() throws -> Result {
        let b = budget
        let task = copyTask
        var copyRuns: [String: [CopyRun]] = [:]
        var trained: [String: [BitTaskModel]] = [:]
        var pictures: (write: Heatmap, read: Heatmap)?
        for model in ["ntm", "lstm"] {
            for seed in settings.seeds {
                progress("copy: training the \(model.uppercased()) on lengths 1-\(b.copyMaxLength), at most \(b.copySteps) steps, seed \(seed)")
                let config = copyConfig(model, seed: seed)
                let outcome = try BitTaskTraining.train(config, options: .init(solvedBelowBitErrors: Self.solvedBitErrors))
                let errors = try BitTaskTraining.bitErrors(outcome.model, task: task, lengths: b.testLengths, sequences: b.testSequences, seed: 77)
                trained[model, default: []].append(outcome.model)
                copyRuns[model, default: []].append(CopyRun(
                    name: model == "ntm" ? "NTM" : "LSTM", seed: seed, parameterCount: outcome.model.module.parameterCount,
                    seconds: outcome.seconds, stepSeconds: .nan, bitErrors: errors, solvedAtStep: outcome.solvedAtStep))
                if pictures == nil, case .ntm(let ntm) = outcome.model {
                    pictures = try BitTaskTraining.weightingPictures(ntm, task: task, length: b.copyMaxLength, seed: 5)
                }
            }
        }

        // Each seed's trained NTM and LSTM timed in interleaved rounds, judged on the paired ratios.
        var stepRatios: [Double] = []
        for (index, (ntm, lstm)) in zip(trained["ntm"] ?? [], trained["lstm"] ?? []).enumerated() {
            let rounds = try BitTaskTraining.pairedStepSeconds(ntm, lstm, task: task, length: b.copyMaxLength,
                                                               batchSize: BitTaskConfig.defaults(task: .copy, model: "ntm").batchSize,
                                                               rounds: Self.timingRounds)
            stepRatios += rounds.map { $0.first / $0.second }
            func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
            copyRuns["ntm"]?[index].stepSeconds = median(rounds.map(\.first))
            copyRuns["lstm"]?[index].stepSeconds = median(rounds.map(\.second))
        }

        var babiRuns: [String: [BAbIRun]] = [:]
        var attentionPicture: Heatmap?
        for seed in settings.seeds {
            let train = try BAbIDataSet.generated(tasks: b.babiTasks, count: b.babiQuestions, seed: seed)
            let test = try BAbIDataSet.generated(tasks: b.babiTasks, count: 200, seed: seed &+ 1_000_003)
            for model in ["memn2n", "lstm"] {
                progress("bAbI: training the \(model == "lstm" ? "LSTM" : "memory network") on tasks \(b.babiTasks.map(String.init).joined(separator: ",")), \(b.babiSteps) steps, seed \(seed)")
                var config = BAbIConfig.defaults(model: model)
                config.steps = b.babiSteps
                config.tasks = b.babiTasks
                config.seed = seed
                let outcome = try BAbITraining.train(config, train: train, validation: test, options: .init())
                let (S, J) = (outcome.config.network.memories, outcome.config.network.sentenceLength)
                let tasks = try test.groups.map { group in
                    let scores = try BAbITraining.evaluate(outcome.model, vocabulary: outcome.vocabulary, examples: group.examples, memories: S, sentenceLength: J)
                    return (group.name, scores.accuracy, scores.supportsFound)
                }
                babiRuns[model, default: []].append(BAbIRun(name: model == "lstm" ? "LSTM" : "MemN2N", seed: seed,
                                                            parameterCount: outcome.model.module.parameterCount, seconds: outcome.seconds, tasks: tasks))
                if attentionPicture == nil, case .memn2n(let network) = outcome.model, let example = test.groups.last?.examples.first {
                    attentionPicture = try BAbITraining.attentionPicture(network, vocabulary: outcome.vocabulary, example: example, memories: S, sentenceLength: J)
                }
            }
        }
        return Result(budget: b, ntm: copyRuns["ntm"] ?? [], lstm: copyRuns["lstm"] ?? [], writePicture: pictures?.write, readPicture: pictures?.read,
                      memoryNetwork: babiRuns["memn2n"] ?? [], storyLSTM: babiRuns["lstm"] ?? [], attentionPicture: attentionPicture,
                      stepRatios: stepRatios)
    }

    /// The steps each run needed to solve copy, one value per seed; +infinity for a run the
    /// budget did not solve (beyond what was measured, as the seed rule reads it).
    static func stepsToSolve(_ runs: [CopyRun]) -> SeedValues {
        SeedValues(runs.map { $0.solvedAtStep.map(Double.init) ?? .infinity })
    }

    /// "1200, 1500, > 10000": each seed's steps to solve.
    static func stepsText(_ runs: [CopyRun], budget: Int) -> String {
        runs.map { $0.solvedAtStep.map(String.init) ?? "> \(budget)" }.joined(separator: ", ")
    }

    public static func section(_ result: Result, settings: LabSettings) -> ReportSection {
        let b = result.budget
        let seeds = settings.seeds.map(String.init).joined(separator: ", ")
        let ntmParameters = result.ntm.first?.parameterCount ?? 0, lstmParameters = result.lstm.first?.parameterCount ?? 0
        var section = ReportSection(title: "6. External memory: the Neural Turing Machine and memory networks")
        section.paragraph("""
            Copy (Graves et al. 2014): 8-bit vectors, lengths 1-\(b.copyMaxLength) in training, at most \(b.copySteps) Adam steps \
            (\(b.copyLearningRate) annealed to a tenth over \(b.copySteps), batch 16, gradient norm clipped to 10, the settings of `sequent memory train`) for each model, \
            seeds \(seeds) (initial weights and data). A run stops once copy is **solved**: at the first evaluation (every 100 steps, \
            32 validation sequences of length \(b.copyMaxLength)) with fewer than \(formatted(solvedBitErrors)) bit errors per sequence (at most \
            1 wrong bit of \(32 * 8 * b.copyMaxLength)); the steps it needed are measured. NTM: \(b.controllerSize)-unit LSTM \
            controller, \(b.memorySlots) x \(b.memoryWidth) memory, one read and one write head, shifts -1..1 \
            (\(ntmParameters) parameters), memory initialised to the constant 1e-6 (Collier and Beel 2018)\
            \(b.collierBeelRecipe ? ", and the rest of their recipe: learned initial read vectors and weightings, controller forget-gate bias 1, heads' parameters and outputs clipped to ±20" : "; every head starts on slot 0, the reads at zeros, the controller with PyTorch's initialisation"). LSTM: one layer of \(b.lstmHidden) units (\(lstmParameters) parameters). \
            Scored: bit errors per sequence (outputs thresholded at 1/2) on \(b.testSequences) fresh sequences per length, mean ± sd over the seeds.\
            \(settings.isQuick ? " --quick cuts the lengths to 1-\(b.copyMaxLength) (tested to \(b.testLengths.last ?? 0)), the machine to \(b.memorySlots) x \(b.memoryWidth) with \(b.controllerSize) controller units (learning rate \(b.copyLearningRate)), and the bAbI tasks to \(b.babiTasks.map(String.init).joined(separator: ", ")) with \(b.babiQuestions) questions each; run without --quick for the paper's sizes and all six tasks." : "")
            """)
        func meanErrors(_ runs: [CopyRun]) -> [(length: Int, bitErrors: Double)] {
            b.testLengths.map { length in (length, SeedValues(runs.compactMap { $0.errors(at: length) }).mean) }
        }
        let chart = BitTaskTraining.bitErrorChart([("NTM", meanErrors(result.ntm)), ("LSTM", meanErrors(result.lstm))], trainedUpTo: b.copyMaxLength)
        section.figure("memory_copy_bit_errors", "Bit errors per sequence against length (mean over seeds \(seeds)); training lengths 1-\(b.copyMaxLength).", chart.svg)
        if let write = result.writePicture, let read = result.readPicture {
            section.figure("memory_ntm_write", "The NTM's write weighting while it copies one sequence (rows: memory slots it used; columns: time steps; seed \(settings.seeds.first ?? 0)).", write.svg)
            section.figure("memory_ntm_read", "The NTM's read weighting on the same sequence: it reads the slots back in the order it wrote them.", read.svg)
        }
        func errors(_ runs: [CopyRun], _ length: Int) -> SeedValues { SeedValues(runs.compactMap { $0.errors(at: length) }) }
        section.table(ReportTable(
            header: ["length", "NTM bit errors / sequence", "LSTM bit errors / sequence", "bits per sequence"],
            rows: b.testLengths.map { length in
                ["\(length)", errors(result.ntm, length).text(), errors(result.lstm, length).text(), "\(8 * length)"]
            }))
        let ratio = SeedValues(result.stepRatios)
        let ratioBySeed = stride(from: 0, to: result.stepRatios.count, by: timingRounds).map {
            formatted(SeedValues(Array(result.stepRatios[$0..<min($0 + timingRounds, result.stepRatios.count)])).mean, 3)
        }.joined(separator: ", ")
        let seconds = { (runs: [CopyRun]) in SeedValues(runs.map(\.seconds)).text() }
        section.paragraph("""
            Steps to solve copy (each seed): NTM \(stepsText(result.ntm, budget: b.copySteps)); LSTM \(stepsText(result.lstm, budget: b.copySteps)). \
            Cost: one training step (forward and backward, batch 16, length \(b.copyMaxLength); process CPU time, so \
            other processes on the machine do not count), each seed's trained NTM and LSTM timed in \(timingRounds) interleaved rounds \
            (NTM, LSTM, NTM, LSTM, ... on the same batch, so that a change of load hits both alike): \
            \(SeedValues(result.ntm.map { 1000 * $0.stepSeconds }).text()) ms for the NTM and \(SeedValues(result.lstm.map { 1000 * $0.stepSeconds }).text()) ms for the LSTM \
            (the seeds' medians); the paired ratio NTM / LSTM \(ratio.text()) over the \(ratio.count) rounds (by seed: \(ratioBySeed)); training took \(seconds(result.ntm)) s and \(seconds(result.lstm)) s (wall).
            """)

        let trained = b.copyMaxLength
        let longer = b.testLengths.contains(2 * trained) ? 2 * trained : (b.testLengths.last ?? 2 * trained)
        let bitsLonger = Double(8 * longer)
        let ntmTrained = errors(result.ntm, trained)
        let ntmLonger = SeedValues(errors(result.ntm, longer).values.map { $0 / bitsLonger })
        let lstmLonger = SeedValues(errors(result.lstm, longer).values.map { $0 / bitsLonger })
        let percent = { (v: SeedValues) in SeedValues(v.values.map { 100 * $0 }).text() }
        var claims: [Claim] = []
        let ntmSteps = stepsToSolve(result.ntm), lstmSteps = stepsToSolve(result.lstm)
        claims.append(Claim("The NTM learns to copy faster than the LSTM: fewer steps to solve the training lengths (Graves et al. 2014, figure 3)",
                            measured: "steps to solve (each seed; solved: under \(formatted(solvedBitErrors)) bit errors per sequence at length \(trained)): NTM \(stepsText(result.ntm, budget: b.copySteps)), LSTM \(stepsText(result.lstm, budget: b.copySteps))",
                            verdict: SeedComparison.lower(ntmSteps, than: lstmSteps)))
        claims.append(Claim("The NTM learns to copy: under 1 bit error per sequence at the longest training length (\(trained))",
                            measured: "NTM \(ntmTrained.text()) bit errors per sequence at length \(trained)",
                            verdict: ntmTrained.count == 0 ? .notMeasured : SeedComparison.below(ntmTrained, 1)))
        let generalises = SeedComparison.below(ntmLonger, 0.02)
        claims.append(Claim("The NTM generalises past its training lengths: under 2% of the bits wrong at length \(longer)",
                            measured: "NTM \(percent(ntmLonger))% of \(Int(bitsLonger)) bits wrong",
                            verdict: ntmLonger.count == 0 ? .notMeasured : generalises))
        claims.append(Claim("The LSTM of similar size fails past its training lengths where the NTM does not (over 10% of bits wrong at length \(longer))",
                            measured: "LSTM \(percent(lstmLonger))% of \(Int(bitsLonger)) bits wrong (NTM \(percent(ntmLonger))%)",
                            verdict: lstmLonger.count == 0 ? .notMeasured : generalises != .held ? .inconclusive : SeedComparison.above(lstmLonger, 0.1)))
        claims.append(Claim("An NTM step costs a small multiple of an LSTM step (at most 10 times) with the addressing fused",
                            measured: "paired ratio \(ratio.text()) (mean ± sd of \(ratio.count) interleaved rounds; by seed \(ratioBySeed))",
                            verdict: SeedComparison.below(ratio, 10)))

        let memory = result.memoryNetwork, story = result.storyLSTM
        let memoryMean = SeedValues(memory.map(\.meanAccuracy)), storyMean = SeedValues(story.map(\.meanAccuracy))
        let taskNames = memory.first?.tasks.map(\.task) ?? []
        func accuracy(_ runs: [BAbIRun], _ task: String) -> SeedValues { SeedValues(runs.compactMap { $0.tasks.first { $0.task == task }?.accuracy }) }
        func supports(_ task: String) -> SeedValues { SeedValues(memory.compactMap { $0.tasks.first { $0.task == task }?.supportsFound }) }
        section.paragraph("""
            bAbI-style questions, generated (tasks \(b.babiTasks.map(String.init).joined(separator: ", ")); \(b.babiQuestions) training \
            questions per task, 200 test questions per task from another seed; each of seeds \(seeds) generates its own questions and initial weights), one model trained on all tasks together for \
            \(b.babiSteps) Adam steps (batch 32). MemN2N (Sukhbaatar et al. 2015): 3 hops, d = 20, position and temporal encoding, \
            adjacent weight tying, \(memory.first?.parameterCount ?? 0) parameters, \(SeedValues(memory.map(\.seconds)).text()) s. LSTM: the statements then the \
            question as one word sequence, 32-wide embeddings, 64 units, \(story.first?.parameterCount ?? 0) parameters, \(SeedValues(story.map(\.seconds)).text()) s. \
            Supports found: among correct answers, the share where every supporting statement is the most attended memory of some hop. Mean ± sd over the seeds.
            """)
        section.table(ReportTable(
            header: ["task", "MemN2N accuracy", "LSTM accuracy", "MemN2N supports found"],
            rows: taskNames.map { [$0, accuracy(memory, $0).text(), accuracy(story, $0).text(), supports($0).text()] }
                + [["mean", memoryMean.text(), storyMean.text(), ""]]))
        if let picture = result.attentionPicture {
            section.figure("memory_hop_attention", "The memory network's attention per hop over one story's statements (* marks the supporting ones; seed \(settings.seeds.first ?? 0)).", picture.svg)
        }
        let taskOne = accuracy(memory, "task 1"), taskOneSupports = supports("task 1")
        claims.append(Claim("The memory network answers single-supporting-fact questions (task 1) at least 99% right",
                            measured: "MemN2N \(taskOne.text()) on task 1", verdict: taskOne.count == 0 ? .notMeasured : SeedComparison.above(taskOne, 0.99)))
        claims.append(Claim("Its attention picks the supporting statement in at least 90% of its correct task-1 answers",
                            measured: "\(taskOneSupports.text())", verdict: taskOneSupports.count == 0 ? .notMeasured : SeedComparison.above(taskOneSupports, 0.9)))
        claims.append(Claim("The memory network beats the LSTM that reads the story as one sequence (mean accuracy over the tasks)",
                            measured: "MemN2N \(memoryMean.text()), LSTM \(storyMean.text())",
                            verdict: SeedComparison.higher(memoryMean, than: storyMean)))
        section.claims(claims)
        func copyJSON(_ runs: [CopyRun]) -> JSONValue {
            .array(runs.map { run in
                .object([("seed", .number(Double(run.seed))), ("parameters", .number(Double(run.parameterCount))),
                         ("solved_at_step", .of(run.solvedAtStep.map(Double.init))), ("seconds", .of(run.seconds)),
                         ("step_seconds", .of(run.stepSeconds)),
                         ("bit_errors", .object(run.bitErrors.map { ("\($0.length)", .of($0.bitErrors)) }))])
            })
        }
        func babiJSON(_ runs: [BAbIRun]) -> JSONValue {
            .array(runs.map { run in
                .object([("seed", .number(Double(run.seed))), ("parameters", .number(Double(run.parameterCount))), ("seconds", .of(run.seconds)),
                         ("mean_accuracy", .of(run.meanAccuracy)),
                         ("tasks", .object(run.tasks.map { ($0.task, .object([("accuracy", .of($0.accuracy)), ("supports_found", .of($0.supportsFound))])) }))])
            })
        }
        section.results = .object([("copy", .object([("ntm", copyJSON(result.ntm)), ("lstm", copyJSON(result.lstm))])),
                                   ("babi", .object([("memn2n", babiJSON(memory)), ("lstm", babiJSON(story))]))])
        return section
    }
}
