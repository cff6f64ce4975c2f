import ArgumentParser
import Foundation
import SequentData
import SequentLab
import SequentNN
import SequentTensor
import SequentTrain

extension Sequent.LM {
    /// `sequent lm train`: a language model on a text file, into a model folder.
    struct LMTrain: TaskTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Train a language model on a text file (or a folder of them).",
            discussion: """
                Defaults (a char-rnn-class model for a CPU): a 2 x 512 LSTM over characters, \
                token vectors of 64, dropout 0.2 between the layers and before the head, \
                windows of 128 characters in 32 parallel streams with the state carried from \
                window to window (truncated BPTT), Adam at 2e-3 with a short warm-up and \
                cosine decay to a tenth, gradients clipped to norm 1. With --time-limit and no \
                --steps, the step count is fitted to the time limit after timing a few steps, \
                so the learning rate has decayed when time runs out. Without either, 1,500 \
                steps (6.1M characters): about 10 minutes on 2 quiet cores, and a validation \
                loss of 1.44 nats per character (2.08 bits) on Tiny Shakespeare's last 10%.

                --model transformer: nanoGPT's CPU recipe, 4 layers x 128 wide, 4 heads, \
                context 64, batches of 12 windows at random starts, Adam at 1e-3 (warm-up, \
                cosine to a tenth), no dropout (the Transformer layers' dropout triples a \
                step's time on a CPU), 2,000 steps: 1.82 nats per character on Tiny \
                Shakespeare's last 10% in about 130 CPU seconds on 1 thread (nanoGPT's own \
                run of the recipe: 1.90 in 102). Validation: --val FILE, or the last --val-fraction of the text (0.1, as \
                nanoGPT splits Tiny Shakespeare). Logged: loss (nats per token), perplexity, \
                bits per character; model.safetensors keeps the weights of the best validation \
                loss. Example:

                  sequent lm train --text ../shared/data/text/tinyshakespeare.txt --out shakespeare --time-limit 10m
                """)

        @OptionGroup var training: TrainingOptions

        @Option(help: "The training text: a UTF-8 file or a folder of them (on --resume, default: the run's own).")
        var text: String?

        @Option(help: "Tokens: char (Unicode characters), word (words and punctuation, <unk>), bpe (byte-level byte-pair encoding).")
        var tokenizer: TokenizerKind = .char

        @Option(name: .customLong("vocab-size"), parsing: .unconditional, help: "bpe: the vocabulary to learn (default 512); word: the most frequent words kept (default: all seen --min-count times).")
        var vocabularySize: Int?

        @Option(name: .customLong("min-count"), parsing: .unconditional, help: "word: words seen fewer times become <unk>.")
        var minimumCount = 1

        @Option(help: "lstm, gru, rnn or transformer.")
        var model: LMArchitecture = .lstm

        @Option(parsing: .unconditional, help: "The Transformer's width (same as --hidden; default 128).")
        var width: Int?

        @Option(parsing: .unconditional, help: "The Transformer's attention heads (default 4).")
        var heads: Int?

        @Option(parsing: .unconditional, help: "Recurrent models: the token-vector size (default 64).")
        var embedding: Int?

        @Option(parsing: .unconditional, help: "Tokens per training window: the truncated-BPTT length (default 128), or the Transformer's context (default 64).")
        var context: Int?

        @Option(name: .customLong("eval-tokens"), parsing: .unconditional, help: "Evaluations during training score the first this many validation tokens (all of them when fewer); the model kept is then scored on all.")
        var evalTokens = 32_768

        @Option(name: .customLong("eval-interval"), parsing: .unconditional, help: "Evaluate on the validation text every this many steps (default: about 10 evaluations a run).")
        var evalInterval: Int?

        /// --val-fraction's default: the last 10 % of the text, as nanoGPT splits Tiny Shakespeare.
        static let defaultValFraction = 0.1

        /// The validation text given, if any.
        var val: String? { training.val }
        /// The share of --text held out (its end, contiguous) when no --val is given.
        var valFraction: Double { training.valFraction ?? Self.defaultValFraction }

        func validate() throws {
            try TrainingOptions.check(width, "--width", in: 1...65_536)
            try TrainingOptions.check(heads, "--heads", in: 1...1024)
            try TrainingOptions.check(embedding, "--embedding", in: 1...65_536)
            try TrainingOptions.check(context, "--context", in: 1...1_000_000)
            try TrainingOptions.check(evalInterval, "--eval-interval", in: 1...1_000_000_000)
            try TrainingOptions.check(evalTokens, "--eval-tokens", in: 2...1_000_000_000)
            try TrainingOptions.check(minimumCount, "--min-count", in: 1...1_000_000_000)
            if let width, let hidden = training.hiddenSize, width != hidden {
                throw ValidationError("--width and --hidden name the same size; got \(width) and \(hidden)")
            }
            if model != .transformer, width != nil || heads != nil {
                throw ValidationError("--width and --heads are for --model transformer; use --hidden for \(model.rawValue)")
            }
            if model == .transformer, embedding != nil {
                throw ValidationError("--embedding is for recurrent models; a Transformer's token vectors are --width wide")
            }
            if !training.resume, text == nil {
                throw ValidationError("--text is required: the file (or folder) of UTF-8 text to train on")
            }
        }

        func run() throws { try LMTraining.run(self) }
    }
}

/// The run behind `sequent lm train`.
struct LMTraining: TaskTraining {
    let command: Sequent.LM.LMTrain
    let distributed: Distributed?

    /// Steps of the default run when neither --steps nor --time-limit is given: about ten
    /// minutes on 2 cores for the default model.
    static let defaultSteps = 1_500
    /// The same for --model transformer: nanoGPT's CPU recipe (2,000 iterations of 12 x 64).
    static let defaultTransformerSteps = 2_000

    func run(threads: Int) throws {
        let started = Date()
        let startedMonotonic = MetricsClock.system.monotonicSeconds()
        let outURL = options.outURL
        let folder: ModelFolder
        var config: LMConfig
        let tokenizer: any Tokenizer
        let trainTokens: [Int]
        let valTokens: [Int]
        let valCharacters: Int

        if options.resume {
            (folder, config) = try ModelFolder.open(outURL, task: LMFolder.task, config: LMConfig.self)
            tokenizer = try loadTokenizer(from: folder.tokenizerURL)
            let textPath = command.text ?? config.data.text
            let data = try readData(textPath: textPath, valPath: command.val ?? config.data.val,
                                    valFraction: config.data.valFraction ?? command.valFraction, tokenizer: tokenizer)
            (trainTokens, valTokens, valCharacters) = (data.train, data.val, data.valCharacters)
            guard trainTokens.count == config.data.trainTokens, valTokens.count == config.data.valTokens else {
                throw SequentError.invalidArgument(
                    "--resume", "\(textPath) gives \(trainTokens.count) training and \(valTokens.count) validation tokens, but the run in \(outURL.path) was trained on \(config.data.trainTokens) and \(config.data.valTokens); resume with the same text")
            }
            // The global batch is the run's; a different number of ranks splits it anew.
            try Distributed.checkResume(globalBatch: config.batchSize, ranks: ranks, folder: outURL)
        } else {
            let textPath = command.text ?? ""
            let fullText = try TextFiles.read(URL(fileURLWithPath: textPath), option: "--text")
            var trainText = fullText, valText: String
            if let valPath = command.val {
                valText = try TextFiles.read(URL(fileURLWithPath: valPath), option: "--val")
            } else {
                (trainText, valText) = split(fullText, valFraction: command.valFraction, path: textPath)
            }
            // char: the vocabulary of all the text split here (as nanoGPT), so the held-out end
            // is encodable; a separate --val file must use the training text's characters.
            let vocabularyText = command.tokenizer == .char && command.val == nil ? fullText : trainText
            say("learning the \(command.tokenizer.rawValue) tokenizer on \(formatCount(vocabularyText.utf8.count)) bytes ...")
            tokenizer = try trainTokenizer(
                command.tokenizer, on: vocabularyText, vocabularySize: command.vocabularySize, minimumCount: command.minimumCount)
            trainTokens = try tokenizer.encode(trainText, path: textPath)
            valTokens = try tokenizer.encode(valText, path: command.val ?? "\(textPath) (the held-out end)")
            valCharacters = valText.unicodeScalars.count
            config = try makeConfig(tokenizer: tokenizer, trainTokens: trainTokens.count, valTokens: valTokens.count,
                                    trainCharacters: trainText.unicodeScalars.count, valCharacters: valCharacters,
                                    textPath: textPath)
            // The folder is created (and checked writable) only once the data is known good,
            // by rank 0 alone in a data-parallel run.
            folder = try ModelFolder.create(at: outURL, task: LMFolder.task, writes: isRoot)
            if isRoot {
                try folder.refuseExistingRun()
                try tokenizer.save(to: folder.tokenizerURL)
            }
        }
        guard valTokens.count >= 2 else {
            throw SequentError.invalidArgument("--val", "the validation text has \(valTokens.count) token(s); at least 2 are needed to score one")
        }

        // --time-limit counts from the command's start; what the two evaluations on the whole
        // validation text after training take (when timed) is kept out of it.
        var timeLimit = options.timeLimit(startedAt: startedMonotonic)

        // The model, optimizer, schedule and batches.
        var root = RandomGenerator(seed: config.seed)
        var modelGenerator = root.split(), dataGenerator = root.split()
        let model = try config.makeModel(generator: &modelGenerator)
        // config.batchSize is the global batch; each rank reads its share of every batch.
        let windows = try TokenWindows(
            tokens: trainTokens, batchSize: config.batchSize, time: config.context, order: config.windowOrder,
            generator: dataGenerator.split())
        let batches = try ShardedBatches(windows, rank: distributed?.rank ?? 0, shardCount: ranks)
        if !options.resume {
            if options.steps == nil, let limit = timeLimit {
                // Timed on one rank's share of a batch; every rank runs rank 0's schedule.
                let probe = try TokenWindows(tokens: trainTokens, batchSize: config.batchSize / ranks, time: config.context,
                                             order: config.windowOrder, generator: RandomGenerator(seed: config.seed))
                timeLimit = try fitSteps(to: limit, config: &config, batches: probe, valTokens: valTokens.count)
                if let distributed { config.steps = try distributed.broadcast(config.steps) }
            }
            if isRoot { try folder.writeConfig(config, version: Sequent.version) }
        }
        if let distributed {
            try distributed.checkAgreement(on: config, threads: threads, resume: options.resume)
        }
        say(config.summary(parameterCount: model.parameterCount))
        say("data: \(formatCount(config.data.trainTokens)) training tokens, \(formatCount(config.data.valTokens)) validation tokens; \(windows.batchesPerEpoch) steps an epoch")
        if ranks > 1 {
            say(distributed!.summary(globalBatch: config.batchSize, threads: threads))
        }

        let optimizer = try Adam(namedParameters: model.namedParameters(), learningRate: config.learningRate)
        let schedule = try TrainingOptions.warmupCosine(peak: config.learningRate, steps: config.steps)

        var trainerConfiguration = options.trainerConfiguration(
            steps: config.steps, folder: folder, evaluationInterval: command.evalInterval ?? max(1, config.steps / 10), timeLimit: timeLimit)
        trainerConfiguration.earlyStopping = try EarlyStopping(metric: "loss", patience: Int.max)
        trainerConfiguration.distributed = distributed

        // Recurrent models carry their state across the windows of a stream; it is saved in
        // every checkpoint's config.json so that a resumed run continues bitwise.
        let carried = CarriedState()
        let (B, T) = (config.batchSize, config.context)
        // Evaluations during training score a prefix of the validation tokens (the same one
        // each time, so they compare); the model kept is scored on all of them at the end.
        let evalTokens = Array(valTokens.prefix(command.evalTokens))
        let evalCharacters = evalTokens.count == valTokens.count ? valCharacters : tokenizer.decode(evalTokens).unicodeScalars.count
        let validation: (LanguageModel) throws -> [String: Double] = { model in
            try LMEvaluation.score(model, tokens: evalTokens, characters: evalCharacters, tokenizer: tokenizer,
                                   batchSize: B, context: T).metrics
        }
        let fullScore = { (model: LanguageModel) throws -> LMScore in
            try LMEvaluation.score(model, tokens: valTokens, characters: valCharacters, tokenizer: tokenizer,
                                   batchSize: B, context: T)
        }
        let trainer = try Trainer(
            model: model, optimizer: optimizer, data: batches, configuration: trainerConfiguration,
            schedule: schedule, validation: validation,
            modelConfig: LMCheckpointConfig(config: config, carried: carried)
        ) { model, batch in
            let initial = batch.startsStreams ? nil : carried.state
            let (logits, state) = try model(batch.inputs, batchSize: batch.batchSize, time: batch.time, state: initial)
            carried.state = state?.detached()
            return (try Loss.crossEntropy(logits: logits, targets: batch.targets), batch.inputs.count)
        }
        if let distributed {
            // Checkpoints hold the state of all the streams: gathered from the ranks.
            trainer.beforeCheckpoint = {
                carried.checkpointState = try carried.state.map { state in
                    RecurrentState(hiddenState: try distributed.gatherRows(state.hiddenState, axis: 1),
                                   cellState: try state.cellState.map { try distributed.gatherRows($0, axis: 1) })
                }
            }
        }
        if options.resume, let checkpoint = try trainer.resumeFromLatest(in: folder.checkpointsURL) {
            carried.state = try checkpoint.config(as: LMCheckpointConfig.Saved.self).carriedState?.state()
            if let distributed, let state = carried.state {
                carried.state = RecurrentState(hiddenState: try distributed.localRows(of: state.hiddenState, axis: 1),
                                               cellState: try state.cellState.map { try distributed.localRows(of: $0, axis: 1) })
            }
            say("resumed at step \(trainer.step) of \(config.steps) from \(checkpoint.directory.path)")
        }

        trainer.addTaskCallbacks(savingBestTo: isRoot ? folder : nil)
        let result = try trainer.fit()
        // The other ranks are done: rank 0 scores, keeps the best weights and reports.
        guard isRoot else { return }

        // The weights kept: the best evaluation's, or the last ones if they score better on
        // the whole validation text (a run stopped between evaluations has not seen them).
        model.setTraining(false)
        let lastScore = try fullScore(model)
        var bestScore = lastScore
        if FileManager.default.fileExists(atPath: folder.weightsURL.path) {
            let kept = try LMFolder.open(outURL.path)
            bestScore = try fullScore(kept.model)
        }
        if lastScore.loss <= bestScore.loss || !FileManager.default.fileExists(atPath: folder.weightsURL.path) {
            try folder.saveWeights(of: model, metadata: ["step": String(trainer.step)])
            bestScore = lastScore
        }
        let best = try LMFolder.open(outURL.path)
        let seconds = Date().timeIntervalSince(started)
        try LMReport.write(folder: folder, config: config, score: bestScore, seconds: seconds, threads: threads,
                           sample: try? sample(best, length: 400))

        print("\(result.ending(of: config.steps)) in \(String(format: "%.1f", seconds)) s on \(threads) thread\(threads == 1 ? "" : "s")")
        print(String(format: "last weights (step %d): validation loss %.4f nats/token, perplexity %.3f, %.4f bits/char",
                     trainer.step, lastScore.loss, lastScore.perplexity, lastScore.bitsPerCharacter))
        print(String(format: "best validation (model.safetensors): loss %.4f nats/token, perplexity %.3f, %.4f bits/char over %d tokens",
                     bestScore.loss, bestScore.perplexity, bestScore.bitsPerCharacter, bestScore.tokens))
        print("model: \(outURL.path)  (report: \(folder.reportURL.path))")
        print("next:  sequent lm generate \(options.out) --prompt \"...\" --length 500")
    }

    /// The last `valFraction` of `text` (by Unicode scalars) for validation, the rest to train.
    private func split(_ text: String, valFraction: Double, path: String) -> (String, String) {
        let scalars = text.unicodeScalars
        let cut = Int(Double(scalars.count) * (1 - valFraction))
        let index = scalars.index(scalars.startIndex, offsetBy: cut)
        return (String(scalars[..<index]), String(scalars[index...]))
    }

    /// Reads and encodes the training and validation text of a run being resumed.
    private func readData(textPath: String, valPath: String?, valFraction: Double, tokenizer: any Tokenizer) throws
        -> (train: [Int], val: [Int], valCharacters: Int) {
        let fullText = try TextFiles.read(URL(fileURLWithPath: textPath), option: "--text")
        var trainText = fullText, valText: String
        if let valPath {
            valText = try TextFiles.read(URL(fileURLWithPath: valPath), option: "--val")
        } else {
            (trainText, valText) = split(fullText, valFraction: valFraction, path: textPath)
        }
        return (try tokenizer.encode(trainText, path: textPath),
                try tokenizer.encode(valText, path: valPath ?? "\(textPath) (the held-out end)"),
                valText.unicodeScalars.count)
    }

    /// The config of a new run: flags, else the defaults.
    private func makeConfig(
        tokenizer: any Tokenizer, trainTokens: Int, valTokens: Int, trainCharacters: Int, valCharacters: Int, textPath: String
    ) throws -> LMConfig {
        let transformer = command.model == .transformer
        let context = command.context ?? (transformer ? 64 : 128)
        let hiddenSize = command.width ?? options.hiddenSize ?? (transformer ? 128 : 512)
        let heads = transformer ? (command.heads ?? 4) : 0
        if transformer, hiddenSize % heads != 0 {
            throw SequentError.invalidArgument("--heads", "\(heads) heads do not divide the width \(hiddenSize)")
        }
        // --batch-size is per rank; the config keeps the global batch.
        var batchSize = (options.batchSize ?? (transformer ? 12 : 32)) * ranks
        let order: WindowOrder = transformer ? .sampled : .streams
        let needed = { (b: Int) in order == .streams ? b * context + 1 : context + 1 }
        if trainTokens < needed(1) {
            throw SequentError.invalidArgument(
                "--text", "\(textPath) gives \(trainTokens) training tokens, shorter than one context window of \(context) + 1; give more text or a smaller --context")
        }
        if trainTokens < needed(batchSize) {
            guard options.batchSize == nil else {
                throw SequentError.invalidArgument(
                    "--batch-size", "\(trainTokens) training tokens do not fill \(batchSize) streams of \(context) + 1; give a smaller --batch-size or --context")
            }
            batchSize = max(1, (trainTokens - 1) / context) / ranks * ranks
            guard batchSize >= 1 else {
                throw SequentError.invalidArgument(
                    "--text", "\(trainTokens) training tokens do not fill one stream of \(context) + 1 per rank for \(ranks) ranks; give more text, a smaller --context or fewer ranks")
            }
            say("note: the text fills only \(batchSize) streams of \(context) tokens; --batch-size \(batchSize / ranks)\(ranks > 1 ? " per rank" : "")")
        }
        return LMConfig(
            model: command.model, layers: options.layers ?? (transformer ? 4 : 2), hiddenSize: hiddenSize,
            embedding: transformer ? hiddenSize : (command.embedding ?? 64), heads: heads, context: context,
            dropout: options.dropout ?? (transformer ? 0 : 0.2), tokenizer: tokenizer.kind,
            vocabularySize: tokenizer.vocabularySize, batchSize: batchSize, steps: options.steps ?? (transformer ? Self.defaultTransformerSteps : Self.defaultSteps),
            learningRate: options.learningRate ?? (transformer ? 1e-3 : 2e-3), seed: options.seed, windowOrder: order,
            data: LMDataSummary(
                text: textPath, val: command.val, valFraction: command.val == nil ? command.valFraction : nil,
                trainTokens: trainTokens, valTokens: valTokens, trainCharacters: trainCharacters, valCharacters: valCharacters))
    }

    /// Fits `config.steps` to `limit` (the learning-rate schedule's length): a few steps of a
    /// throwaway copy of the model are timed (`Trainer.secondsPerStep`), and the
    /// evaluations' share is taken off.
    ///
    /// - Returns: `limit` with the final evaluations' estimated time reserved.
    private func fitSteps(to limit: TimeLimit, config: inout LMConfig, batches: TokenWindows, valTokens: Int) throws -> TimeLimit {
        var generator = RandomGenerator(seed: config.seed ^ 0x5EED)
        let stepSeconds = try Trainer<LanguageModel, TokenWindows>.secondsPerStep(
            probe: try config.makeModel(generator: &generator), data: batches, learningRate: config.learningRate
        ) { probe, batch in
            let (logits, _) = try probe(batch.inputs, batchSize: batch.batchSize, time: batch.time)
            return (try Loss.crossEntropy(logits: logits, targets: batch.targets), batch.inputs.count)
        }
        // Ten evaluations of --eval-tokens and two of the whole validation text at the end, at
        // about three times the training speed.
        let evaluationSpeed = 3 * Double(batches.batchSize * config.context) / stepSeconds  // tokens/s (per rank)
        var fitted = limit
        fitted.reservedSeconds = 2 * Double(valTokens) / evaluationSpeed
        config.steps = fitted.fittedSteps(
            secondsPerStep: stepSeconds, evaluationSeconds: 10 * Double(min(valTokens, command.evalTokens)) / evaluationSpeed,
            at: MetricsClock.system.monotonicSeconds())
        say(String(format: "--time-limit: %.3f s a step here, so %d steps (the learning-rate schedule's length)", stepSeconds, config.steps))
        return fitted
    }

    /// A sample of the model's text for the report.
    private func sample(_ opened: LMFolder, length: Int) throws -> String {
        let generator = try LMGenerator(model: opened.model)
        var sampler = try TokenSampler(temperature: 0.8, seed: 1)
        let start = try opened.tokenizer.encode("\n")
        try generator.feed(start.isEmpty ? [0] : start)
        var tokens: [Int] = []
        try generator.generate(count: length, sampler: &sampler) { tokens.append($0) }
        return opened.tokenizer.decode(tokens)
    }
}

/// The recurrent state carried from one training window to the next.
final class CarriedState {
    var state: RecurrentState?
    /// What checkpoints save when it is not `state`: all the ranks' streams of a
    /// data-parallel run, gathered before each save.
    var checkpointState: RecurrentState?
}

/// What each checkpoint's `config.json` holds: the run's config and the carried state.
struct LMCheckpointConfig: Encodable {
    let config: LMConfig
    let carried: CarriedState

    /// A state as bit patterns (exact through JSON).
    struct SavedState: Codable {
        var shape: [Int]
        var hidden: [UInt32]
        var cell: [UInt32]?

        func state() -> RecurrentState {
            RecurrentState(hiddenState: Tensor(shape: shape, scalars: hidden.map(Float.init(bitPattern:))),
                           cellState: cell.map { Tensor(shape: shape, scalars: $0.map(Float.init(bitPattern:))) })
        }
    }

    /// The decodable form.
    struct Saved: Decodable {
        var config: LMConfig
        var carriedState: SavedState?
        enum CodingKeys: String, CodingKey {
            case config
            case carriedState = "carried_state"
        }
    }

    enum CodingKeys: String, CodingKey {
        case config
        case carriedState = "carried_state"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(config, forKey: .config)
        if let state = carried.checkpointState ?? carried.state {
            let saved = SavedState(shape: state.hiddenState.shape, hidden: state.hiddenState.scalars.map(\.bitPattern),
                                   cell: state.cellState?.scalars.map(\.bitPattern))
            try container.encode(saved, forKey: .carriedState)
        }
    }
}
