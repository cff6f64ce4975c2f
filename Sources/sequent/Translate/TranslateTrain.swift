import ArgumentParser
import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

extension Sequent.Translate {
    /// `sequent translate train`: a sequence-to-sequence model on sentence pairs, into a model folder.
    struct TranslateTrain: TaskTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Train a translation (or any sentence-to-sentence) model on parallel files or a TSV of pairs.",
            discussion: """
                Input: --source FILE --target FILE (line i with line i) or --pairs FILE (TSV: source<TAB>target, \
                --header to skip a first line). Validation: --val-source/--val-target or --val-pairs; without them \
                a --val-fraction (0.05) of the pairs is held out at random. Pairs longer than --max-length tokens \
                (default 100) are dropped from training with a count (--refuse-long: stop with the line instead).

                Defaults: word tokens per side (words seen at least twice; --tokenizer bpe --vocab-size N for \
                byte-level BPE; --joint-vocab for one vocabulary on both sides); --model gru with --attention \
                additive (Bahdanau) over a bidirectional 1-layer encoder of 256 per direction, token vectors of \
                256, decoder 256; batches of 64 pairs bucketed by length (each batch padded only to its own \
                longest sentence, padding masked), teacher forcing, label smoothing 0.1, Adam at 1e-3 with \
                a linear warm-up (--warmup, 200 steps) and cosine decay to a tenth, gradients clipped to norm 1; \
                --dropout (recurrent default 0) drops token vectors and between encoder layers. --model \
                transformer: 3+3 layers, d_model 256, 8 heads, feed-forward 512, dropout 0.1, learning rate \
                7e-4. Steps: --steps, or with --time-limit alone as many as fit (a few steps are timed first; \
                the schedule then ends with the limit), else 20 epochs. Validation loss and BLEU (sacrebleu's \
                13a, greedy decoding, detokenised) at every evaluation; model.safetensors keeps the best \
                validation BLEU. Example:

                  sequent translate train --source ../shared/data/translation/multi30k/train.de --target ../shared/data/translation/multi30k/train.en --val-source ../shared/data/translation/multi30k/val.de --val-target ../shared/data/translation/multi30k/val.en --out de-en --time-limit 30m
                """)

        @OptionGroup var training: TrainingOptions

        @Option(help: "Source sentences, one a line (with --target).")
        var source: String?
        @Option(help: "Target sentences, line i the translation of --source line i.")
        var target: String?
        @Option(help: "A TSV file of pairs: source<TAB>target, one a line (instead of --source/--target).")
        var pairs: String?
        @Flag(help: "--pairs/--val-pairs: the first line is a header and is skipped.")
        var header = false

        @Option(name: .customLong("val-source"), help: "Validation source sentences (with --val-target).")
        var valSource: String?
        @Option(name: .customLong("val-target"), help: "Validation target sentences.")
        var valTarget: String?
        @Option(name: .customLong("val-pairs"), help: "Validation pairs as a TSV file.")
        var valPairs: String?
        @Option(name: .customLong("val-fraction"), parsing: .unconditional, help: "Without validation files: the share of pairs held out at random.")
        var valFraction: Double = 0.05

        @Option(help: "gru, lstm or transformer.")
        var model: TranslationArchitecture = .gru
        @Option(help: "Recurrent models: none, additive (Bahdanau), dot or general (Luong).")
        var attention: TranslationAttention = .additive
        @Flag(name: .customLong("unidirectional"), help: "Recurrent models: a one-direction encoder (default bidirectional).")
        var unidirectional = false
        @Option(parsing: .unconditional, help: "Recurrent: the token-vector size (default 256; the Transformer uses --hidden).")
        var embedding: Int?
        @Option(parsing: .unconditional, help: "Transformer: attention heads (default 8).")
        var heads: Int?
        @Option(name: .customLong("feed-forward"), parsing: .unconditional, help: "Transformer: the feed-forward width (default 2 x --hidden).")
        var feedForward: Int?
        @Option(name: .customLong("label-smoothing"), parsing: .unconditional, help: "Label smoothing epsilon in [0, 1).")
        var labelSmoothing: Float = 0.1
        @Option(parsing: .unconditional, help: "Warm-up steps of the learning rate (default 200, at most a tenth of the steps).")
        var warmup: Int?

        @Option(help: "word or bpe.")
        var tokenizer: TokenizerKind = .word
        @Option(name: .customLong("vocab-size"), parsing: .unconditional, help: "word: the most frequent words kept per vocabulary (default: all seen --min-count times); bpe: the size (default 8000).")
        var vocabSize: Int?
        @Option(name: .customLong("min-count"), parsing: .unconditional, help: "word: words seen fewer times become <unk>.")
        var minimumCount = 2
        @Flag(name: .customLong("joint-vocab"), help: "One tokenizer learned on both sides.")
        var jointVocab = false

        @Option(name: .customLong("max-length"), parsing: .unconditional, help: "The most tokens of a training sentence (the Transformer's positions are this + 2).")
        var maxLength = 100
        @Flag(name: .customLong("refuse-long"), help: "Stop at the first pair longer than --max-length instead of dropping it.")
        var refuseLong = false

        @Option(name: .customLong("max-tokens"), parsing: .unconditional, help: "Cut batches by tokens instead of pairs (fairseq's --max-tokens): at most this many padded tokens a batch per rank, pairs x the longest pair's max(source, target) tokens; --batch-size, when given, caps the pairs.")
        var maxTokens: Int?

        @Option(name: .customLong("eval-interval"), parsing: .unconditional, help: "Evaluate (validation loss and BLEU) every this many steps (default: about 20 evaluations a run, at most every 1000).")
        var evalInterval: Int?

        func validate() throws {
            if pairs == nil {
                guard source != nil, target != nil else {
                    throw ValidationError("give --source FILE --target FILE, or --pairs FILE")
                }
            } else if source != nil || target != nil {
                throw ValidationError("give either --pairs or --source/--target, not both")
            }
            if (valSource == nil) != (valTarget == nil) { throw ValidationError("--val-source and --val-target go together") }
            if valPairs != nil && valSource != nil { throw ValidationError("give either --val-pairs or --val-source/--val-target") }
            guard valFraction > 0, valFraction < 1 else { throw ValidationError("--val-fraction must be in (0, 1); got \(valFraction)") }
            try TrainingOptions.check(embedding, "--embedding", in: 1...65_536)
            try TrainingOptions.check(heads, "--heads", in: 1...256)
            try TrainingOptions.check(feedForward, "--feed-forward", in: 1...262_144)
            try TrainingOptions.check(warmup, "--warmup", in: 0...1_000_000_000)
            try TrainingOptions.check(vocabSize, "--vocab-size", in: 2...1_000_000)
            try TrainingOptions.check(minimumCount, "--min-count", in: 1...1_000_000_000)
            try TrainingOptions.check(maxLength, "--max-length", in: 1...100_000)
            try TrainingOptions.check(evalInterval, "--eval-interval", in: 1...1_000_000_000)
            try TrainingOptions.check(maxTokens, "--max-tokens", in: 1...100_000_000)
            guard labelSmoothing >= 0, labelSmoothing < 1 else { throw ValidationError("--label-smoothing must be in [0, 1); got \(labelSmoothing)") }
            if tokenizer == .bpe, let vocabSize, vocabSize < 256 { throw ValidationError("--vocab-size for bpe must be at least 256 (the byte tokens); got \(vocabSize)") }
            if model == .transformer {
                let width = training.hiddenSize ?? 256, h = heads ?? 8
                guard width % h == 0 else { throw ValidationError("--hidden \(width) must be a multiple of --heads \(h)") }
            }
        }

        func run() throws { try TranslateTraining.run(self) }
    }
}

/// The run behind `sequent translate train`.
struct TranslateTraining: TaskTraining {
    let command: Sequent.Translate.TranslateTrain
    let distributed: Distributed?

    func readPairs() throws -> (train: SentencePairs, val: SentencePairs, valOrigin: String?) {
        let all: SentencePairs
        if let pairs = command.pairs {
            all = try SentencePairs.readTSV(URL(fileURLWithPath: pairs), hasHeader: command.header, flag: "--pairs")
        } else {
            all = try SentencePairs.readParallel(source: URL(fileURLWithPath: command.source!), target: URL(fileURLWithPath: command.target!))
        }
        if let valPairs = command.valPairs {
            return (all, try SentencePairs.readTSV(URL(fileURLWithPath: valPairs), hasHeader: command.header, flag: "--val-pairs"), valPairs)
        }
        if let valSource = command.valSource, let valTarget = command.valTarget {
            let val = try SentencePairs.readParallel(source: URL(fileURLWithPath: valSource), target: URL(fileURLWithPath: valTarget),
                                                     sourceFlag: "--val-source", targetFlag: "--val-target")
            return (all, val, valSource)
        }
        guard all.count >= 2 else {
            throw SequentError.malformedFile(all.origin, "\(all.count) pair is too few to hold some out for validation; give --val-source/--val-target")
        }
        var generator = RandomGenerator(seed: options.seed ^ 0x7261_6E73)
        var order = Array(0..<all.count)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(generator.next().multipliedFullWidth(by: UInt64(i + 1)).high))
        }
        let held = max(1, min(all.count - 1, Int((Double(all.count) * command.valFraction).rounded())))
        return (all.subset(Array(order[held...]).sorted()), all.subset(Array(order[..<held]).sorted()), nil)
    }

    func run(threads: Int) throws {
        let started = Date()
        let startedMonotonic = MetricsClock.system.monotonicSeconds()
        let outURL = options.outURL
        let (trainPairs, valPairs, valOrigin) = try readPairs()
        // On --resume the run's own tokenizers and settings; the data flags must give the same pairs.
        let resumed = try options.resume ? TranslateFolder.openForResume(outURL.path) : nil
        let tokenizers = try resumed?.tokenizers
            ?? TranslationTokenizers.train(on: trainPairs, kind: command.tokenizer, vocabularySize: command.vocabSize,
                                           minimumCount: command.minimumCount, joint: command.jointVocab)
        let maxLength = resumed?.config.maxLength ?? command.maxLength
        let train = try EncodedPairs(trainPairs, tokenizers: tokenizers, maxLength: maxLength, refusesLong: command.refuseLong)
        if let resumed, train.count != resumed.config.data.trainPairs || valPairs.count != resumed.config.data.valPairs {
            throw SequentError.invalidArgument(
                "--resume", "the data flags give \(train.count) training and \(valPairs.count) validation pairs, but the run in \(outURL.path) was trained on \(resumed.config.data.trainPairs) and \(resumed.config.data.valPairs) (\(resumed.config.data.train)); resume with the same files")
        }
        if !train.droppedLines.isEmpty {
            say("dropped \(train.droppedLines.count) training pairs longer than --max-length \(command.maxLength) tokens (lines \(train.droppedLines.prefix(5).map(String.init).joined(separator: ", "))\(train.droppedLines.count > 5 ? ", ..." : ""))")
        }
        // Validation keeps every pair (BLEU is over the whole set); the loss uses those that fit.
        let valSources = try valPairs.sources.map { try tokenizers.encodeSource($0) }.map { Array($0.prefix(maxLength)) }
        let valTargets = try valPairs.targets.map { try tokenizers.encodeTarget($0) }
        let valLossIndices = valTargets.indices.filter { valTargets[$0].count <= maxLength + 1 }

        var root = RandomGenerator(seed: resumed?.config.seed ?? options.seed)
        var modelGenerator = root.split(), dataGenerator = root.split()
        let isTransformer = command.model == .transformer
        // --batch-size and --max-tokens are per rank; the config keeps the global batch (any
        // number of ranks resumes it: a batch's rows are split as evenly as they go, weighted
        // by tokens). With --max-tokens alone the pairs are not capped (a pair has a token).
        let maxTokens = resumed.map { $0.config.maxTokens } ?? command.maxTokens.map { $0 * ranks }
        let batchSize = resumed?.config.batchSize ?? (options.batchSize ?? command.maxTokens ?? 64) * ranks
        if let perRank = command.maxTokens, resumed == nil {
            let longest = zip(train.sources, train.targets).map { max($0.count, $1.count) }.max() ?? 0
            if perRank < longest {
                throw SequentError.invalidArgument("--max-tokens", "\(perRank) tokens cannot hold the longest training pair (\(longest) tokens); give at least \(longest), or a smaller --max-length")
            }
        }
        let pairBatches = try BucketedPairBatches(sourceLengths: train.sources.map(\.count), targetLengths: train.targets.map(\.count),
                                                  batchSize: batchSize, maxTokens: maxTokens, generator: dataGenerator.split())
        let stepsPerEpoch = pairBatches.batchesPerEpoch
        let plannedSteps = resumed?.config.steps ?? options.steps ?? 20 * stepsPerEpoch
        let hidden = options.hiddenSize ?? 256
        var config = resumed?.config ?? TranslateConfig(
            model: command.model, attention: isTransformer ? .none : command.attention, bidirectional: !command.unidirectional,
            layers: options.layers ?? (isTransformer ? 3 : 1), hidden: hidden, embedding: isTransformer ? hidden : (command.embedding ?? 256),
            heads: command.heads ?? 8, feedForward: command.feedForward ?? 2 * hidden, dropout: options.dropout ?? (isTransformer ? 0.1 : 0),
            labelSmoothing: command.labelSmoothing, tokenizer: command.tokenizer, jointVocabulary: command.jointVocab,
            sourceVocabularySize: tokenizers.sourceVocabularySize, targetVocabularySize: tokenizers.targetVocabularySize,
            maxLength: command.maxLength, maxPositions: command.maxLength + 2, batchSize: batchSize, maxTokens: maxTokens, steps: plannedSteps,
            learningRate: options.learningRate ?? (isTransformer ? 7e-4 : 1e-3),
            warmupSteps: warmupSteps(steps: plannedSteps), seed: options.seed,
            data: TranslateDataSummary(train: command.pairs ?? "\(command.source!) + \(command.target!)", val: valOrigin,
                                       trainPairs: train.count, droppedPairs: train.droppedLines.count, valPairs: valPairs.count))

        // Every rank walks the same global batches and keeps its rows of each.
        let batches = try UnevenShardedBatches(pairBatches, rank: distributed?.rank ?? 0, shardCount: ranks)
        // --time-limit counts from the command's start (reading the data counts); without
        // --steps the schedule (warm-up and cosine) is fitted to it.
        // The final scoring and the report take about 5 % of the limit unless fitted.
        var timeLimit = options.timeLimit(startedAt: startedMonotonic, reservedSeconds: 0.05 * (options.timeLimit?.inSeconds ?? 0) + 5)
        let folder: ModelFolder
        if let resumed {
            folder = resumed.folder
        } else {
            // Rank 0 alone creates and writes the folder.
            folder = try ModelFolder.create(at: outURL, task: TranslateFolder.task, writes: isRoot)
            if isRoot { try folder.refuseExistingRun() }
            if options.steps == nil, let limit = timeLimit {
                // Timed on one rank's share of a batch; every rank runs rank 0's schedule.
                let share = ranks == 1 ? pairBatches : try BucketedPairBatches(sourceLengths: pairBatches.sourceLengths, targetLengths: pairBatches.targetLengths,
                                                    batchSize: max(1, batchSize / ranks), maxTokens: command.maxTokens, generator: dataGenerator.split())
                timeLimit = try fitSteps(to: limit, config: &config, batches: share, train: train, valPairs: valLossIndices.count,
                                         pairsPerBatch: Double(train.count) / Double(stepsPerEpoch))
                if let distributed {
                    config.steps = try distributed.broadcast(config.steps)
                    config.warmupSteps = warmupSteps(steps: config.steps)
                }
            }
            if isRoot {
                try tokenizers.source.save(to: folder.tokenizerURL)
                if !config.jointVocabulary { try tokenizers.target.save(to: folder.file(TranslateFolder.targetTokenizerFileName)) }
                try folder.writeConfig(config, version: Sequent.version)
            }
        }
        if let distributed {
            try distributed.checkAgreement(on: config, threads: threads, resume: resumed != nil)
            say(distributed.summary(globalBatch: config.maxTokens ?? config.batchSize, threads: threads) + (config.maxTokens == nil ? "" : " (tokens)"))
        }
        let steps = config.steps

        let model = try config.makeModel(generator: &modelGenerator)
        let module = model.module
        say(config.summary(parameterCount: module.parameterCount))
        let batching = config.maxTokens.map { String(format: "batches of at most %d tokens, %.1f pairs on average; ", $0, Double(train.count) / Double(stepsPerEpoch)) } ?? ""
        say("data: \(train.count) training pairs, \(valPairs.count) validation pairs; \(batching)\(stepsPerEpoch) steps an epoch, \(steps) steps planned")

        let optimizer = try Adam(namedParameters: module.namedParameters(), learningRate: config.learningRate)
        let schedule = try LinearWarmup(
            warmupSteps: max(1, config.warmupSteps), startFactor: 0.01,
            then: CosineAnnealing(initialLearningRate: config.learningRate, totalSteps: max(1, steps - config.warmupSteps),
                                  minimumLearningRate: config.learningRate / 10))
        var trainerConfiguration = options.trainerConfiguration(
            steps: steps, folder: folder, evaluationInterval: evaluationInterval(steps: steps), timeLimit: timeLimit)
        trainerConfiguration.earlyStopping = try EarlyStopping(metric: "bleu", mode: .maximize, patience: Int.max)
        trainerConfiguration.distributed = distributed

        let references = valPairs.targets
        let labelSmoothing = config.labelSmoothing
        func validation() throws -> [String: Double] {
            model.setTraining(false)
            defer { model.setTraining(true) }
            var lossSum = 0.0, tokenSum = 0
            try withoutGradients {
                let order = valLossIndices.sorted { valSources[$0].count < valSources[$1].count }
                for start in stride(from: 0, to: order.count, by: 128) {
                    let indices = Array(order[start..<min(start + 128, order.count)])
                    let tokens = indices.reduce(0) { $0 + valTargets[$1].count }
                    let loss = try model.loss(source: try Seq2Seq.Batch(indices.map { valSources[$0] }),
                                              target: try Seq2Seq.Batch(indices.map { valTargets[$0] }), labelSmoothing: 0)
                    lossSum += Double(loss.item) * Double(tokens)
                    tokenSum += tokens
                }
            }
            let scores = try TranslationInference.score(model, tokenizers: tokenizers, sources: valSources, references: references)
            return ["loss": lossSum / Double(max(1, tokenSum)), "bleu": scores.bleu.score, "chrf": scores.chrF.score]
        }
        func fit<M: Module>(_ module: M) throws -> (result: TrainingResult, step: Int, best: Double?, lastEvaluated: Bool) {
        let trainer = try Trainer(
            model: module, optimizer: optimizer, data: batches, configuration: trainerConfiguration,
            schedule: schedule, validation: { _ in try validation() }, modelConfig: config
        ) { _, share in
            let source = try Seq2Seq.Batch(share.global.map { train.sources[$0] })
            let target = try Seq2Seq.Batch(share.global.map { train.targets[$0] })
            guard distributed != nil else {  // one process: the whole batch, as before
                return (try model.loss(source: source, target: target, labelSmoothing: labelSmoothing), target.lengths.reduce(0, +))
            }
            // A share of the batch, padded as the whole batch is (so that every rank runs the
            // same shapes and draws the same dropout keys), and its rows of the batch's masks.
            // A rank without rows computes the first row and counts no tokens.
            let rows = share.rows.isEmpty ? 0..<1 : share.rows
            let loss = try BatchShard.with(firstRow: rows.lowerBound, rows: rows.count) {
                try model.loss(source: try source.sequences(rows), target: try target.sequences(rows), labelSmoothing: labelSmoothing)
            }
            return (loss, share.rows.isEmpty ? 0 : target.lengths[share.rows].reduce(0, +))
        }
        // The loss is a mean over target tokens, and the ranks' shares hold different numbers.
        trainer.lossWeight = { share in Double(share.rows.reduce(0) { $0 + train.targets[share.global[$1]].count }) }
        trainer.callbacks.append(ClosureCallback(onEvaluation: { report, _ in
            if isRoot, report.improved, let bleu = report.metrics["bleu"] {
                try folder.saveWeights(of: module, metadata: ["step": String(report.step), "bleu": String(bleu)])
            }
        }))
        if let stop = TrainingOptions.stopAtStepForTests { trainer.callbacks.append(stop) }
        if resumed != nil, let checkpoint = try trainer.resumeFromLatest(in: folder.checkpointsURL) {
            say("resumed at step \(trainer.step) of \(steps) from \(checkpoint.directory.path)")
        }
        let result = try trainer.fit()
        return (result, trainer.step, trainer.bestMetric, result.lastEvaluation != nil && (trainer.step % (trainerConfiguration.evaluationInterval ?? 1) == 0 || result.reason == .completed))
        }
        let result: TrainingResult, finalStep: Int, bestBLEU: Double?, lastEvaluated: Bool
        switch model {
        case .recurrent(let seq2seq): (result, finalStep, bestBLEU, lastEvaluated) = try fit(seq2seq)
        case .transformer(let transformer): (result, finalStep, bestBLEU, lastEvaluated) = try fit(transformer)
        }

        // The other ranks are done: rank 0 scores, keeps the best weights and reports.
        guard isRoot else { return }
        // A run stopped between evaluations (time limit, Ctrl-C): score its last weights too,
        // and keep them if they beat the best evaluated ones.
        var scores: (bleu: BLEU, chrF: ChrF, hypotheses: [String])?
        if !lastEvaluated || !FileManager.default.fileExists(atPath: folder.weightsURL.path) {
            model.setTraining(false)
            let last = try TranslationInference.score(model, tokenizers: tokenizers, sources: valSources, references: references)
            if last.bleu.score > (bestBLEU ?? -1) || !FileManager.default.fileExists(atPath: folder.weightsURL.path) {
                try folder.saveWeights(of: module, metadata: ["step": String(finalStep), "bleu": String(last.bleu.score)])
                say(String(format: "the last weights (step %d) score BLEU %.2f: kept as model.safetensors", finalStep, last.bleu.score))
                scores = last
            }
        }
        let kept = try TranslateFolder.open(outURL.path)
        let keptScores = try scores ?? TranslationInference.score(kept.model, tokenizers: tokenizers, sources: valSources, references: references)
        let seconds = Date().timeIntervalSince(started)
        try TranslateReport.write(folder: folder, config: config, bleu: keptScores.bleu, chrF: keptScores.chrF, seconds: seconds, threads: threads,
                                  sources: valPairs.sources, hypotheses: keptScores.hypotheses, references: references,
                                  valSources: valSources, model: kept.model, tokenizers: tokenizers)

        let ending = result.ending(of: steps)
        print("\(ending) (\(String(format: "%.2f", Double(finalStep) / Double(stepsPerEpoch))) epochs) in \(String(format: "%.1f", seconds)) s on \(threads) thread\(threads == 1 ? "" : "s")")
        print(String(format: "best validation (model.safetensors, greedy): BLEU %.2f, chrF %.2f over %d sentences", keptScores.bleu.score, keptScores.chrF.score, references.count))
        print("model: \(outURL.path)  (report: \(folder.reportURL.path))")
        print("next:  echo \"\(valPairs.sources.first ?? "a sentence")\" | sequent translate predict \(options.out) --beam 5")
    }

    /// The warm-up of a run of `steps`: --warmup, else 200, at most a tenth of the steps.
    func warmupSteps(steps: Int) -> Int {
        min(command.warmup ?? 200, steps / 10)
    }

    /// --eval-interval, else about 20 evaluations a run (at most every 1000 steps).
    func evaluationInterval(steps: Int) -> Int {
        command.evalInterval ?? max(1, min(1000, steps / 20))
    }

    /// Fits `config.steps` (and so the warm-up and the cosine) to `limit`: a few steps of a
    /// throwaway model are timed (`Trainer.secondsPerStep`), and the evaluations are taken
    /// off. An evaluation (the validation loss, forward only, and greedy decoding of every
    /// validation sentence) costs about as much as training on as many pairs (measured on
    /// Multi30k: 13 GRU steps, 18 Transformer steps for its 1,014 pairs); at most two more
    /// run after training (the last weights, and the kept ones when those are not the last),
    /// and 2 % of the limit is kept for the report.
    ///
    /// - Returns: `limit` with the evaluations after training reserved.
    private func fitSteps(
        to limit: TimeLimit, config: inout TranslateConfig, batches: BucketedPairBatches, train: EncodedPairs, valPairs: Int,
        pairsPerBatch: Double
    ) throws -> TimeLimit {
        var generator = RandomGenerator(seed: config.seed ^ 0x5EED)
        let probe = try config.makeModel(generator: &generator)
        let labelSmoothing = config.labelSmoothing
        func seconds<M: Module>(_ module: M) throws -> Double {
            try Trainer<M, BucketedPairBatches>.secondsPerStep(
                probe: module, data: batches, learningRate: config.learningRate, timedSteps: 6
            ) { _, indices in
                let target = try Seq2Seq.Batch(indices.map { train.targets[$0] })
                let loss = try probe.loss(source: try Seq2Seq.Batch(indices.map { train.sources[$0] }), target: target,
                                          labelSmoothing: labelSmoothing)
                return (loss, target.lengths.reduce(0, +))
            }
        }
        let stepSeconds: Double
        switch probe {
        case .recurrent(let model): stepSeconds = try seconds(model)
        case .transformer(let model): stepSeconds = try seconds(model)
        }
        let evaluationSeconds = Double(valPairs) / pairsPerBatch * stepSeconds
        var fitted = limit
        fitted.reservedSeconds = 2 * evaluationSeconds + 0.02 * limit.seconds  // and the report
        let now = MetricsClock.system.monotonicSeconds()
        // Evaluations every `evaluationInterval(steps)` steps: solve steps * s + steps / interval * e = left.
        var steps = fitted.fittedSteps(secondsPerStep: stepSeconds, at: now)
        for _ in 0..<3 {
            let evaluations = Double(steps) / Double(evaluationInterval(steps: steps))
            steps = fitted.fittedSteps(secondsPerStep: stepSeconds, evaluationSeconds: evaluations * evaluationSeconds, at: now)
        }
        config.steps = steps
        config.warmupSteps = warmupSteps(steps: steps)
        say(String(format: "--time-limit: %.3f s a step here, so %d steps (the learning-rate schedule's length; warm-up %d)",
                           stepSeconds, steps, config.warmupSteps))
        return fitted
    }
}

extension Seq2Seq.Batch {
    /// Sequences `range` of the batch, padded to the same length as the whole batch.
    fileprivate func sequences(_ range: Range<Int>) throws -> Seq2Seq.Batch {
        try Seq2Seq.Batch(tokens: Array(tokens[(range.lowerBound * time)..<(range.upperBound * time)]),
                          lengths: Array(lengths[range]), time: time)
    }
}
