import ArgumentParser
import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

extension Sequent.Classify {
    /// `sequent classify train`: a text classifier on a labelled CSV/TSV file, into a model folder.
    struct ClassifyTrain: TaskTrainCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Train a text classifier on a labelled CSV or TSV file with a header.",
            discussion: """
                Defaults: word tokens (the training split's words), token vectors of 128 with \
                dropout 0.25, a 1 x 128 bidirectional LSTM over each text's own length (no \
                padding computed), attention pooling (one learned query, Yang et al. 2016), \
                dropout 0.25 before the linear head; batches of 64, Adam at 2e-3 with a short \
                warm-up and cosine decay to a tenth over --steps (default: 3 epochs; with \
                --time-limit and no --steps, the steps that fit in the limit, timed on this \
                machine first), gradients clipped to norm 1. --model transformer: 2 pre-norm \
                encoder layers 128 wide (--hidden), 4 heads (--heads), feed-forward 512, GELU, \
                learned positions, no dropout inside the layers, Adam at 2e-3 as well (tuned on \
                SST-2's validation split: 1e-3 learned slower). Validation: \
                --val FILE or a stratified --val-fraction (0.1) of --train, every class keeping \
                its share. model.safetensors keeps the weights of the best validation \
                accuracy; --resume continues a stopped run bitwise. A .tsv/.tab file is read \
                tab-separated, anything else comma-separated. Example:

                  sequent classify train --train ../shared/data/classification/sst2/train.tsv --text-column sentence --label-column label --out sst2 --time-limit 10m
                """)

        @OptionGroup var training: TrainingOptions

        @Option(help: "The labelled texts: CSV, or TSV (.tsv), with a header row (on --resume, default: the run's own).")
        var train: String?

        /// --val-fraction's default: 10 % of each class.
        static let defaultValFraction = 0.1

        @Option(name: .customLong("text-column"), help: "The text column: a header name or a 0-based index.")
        var textColumn = "text"

        @Option(name: .customLong("label-column"), help: "The label column: a header name or a 0-based index.")
        var labelColumn = "label"

        @Option(help: "bilstm, bigru, lstm, gru or transformer.")
        var model: ClassifierArchitecture = .bilstm

        @Option(parsing: .unconditional, help: "--model transformer: attention heads (default 4; they must divide --hidden).")
        var heads: Int?

        @Option(help: "last, mean, max or attention.")
        var pooling: TextPooling = .attention

        @Option(parsing: .unconditional, help: "The token-vector size (default 128).")
        var embedding: Int?

        @Option(name: .customLong("embedding-dropout"), parsing: .unconditional, help: "Dropout on the token vectors (default: --dropout).")
        var embeddingDropout: Float?

        @Option(help: "Pretrained word vectors in the GloVe/word2vec text format; their size sets --embedding.")
        var embeddings: String?

        @Flag(name: .customLong("freeze-embeddings"), help: "With --embeddings: keep the token vectors fixed (default: fine-tune them).")
        var freezeEmbeddings = false

        @Option(name: .customLong("class-weights"), help: "none, or balanced: each class's loss weighted by N / (C * n_c), as scikit-learn's class_weight='balanced'.")
        var classWeights: ClassWeighting = .none

        @Option(name: .customLong("max-length"), parsing: .unconditional, help: "Texts are cut to this many tokens.")
        var maxLength = 256

        @Option(name: .customLong("min-count"), parsing: .unconditional, help: "Words seen fewer times in the training split become <unk>.")
        var minimumCount = 1

        @Option(name: .customLong("eval-interval"), parsing: .unconditional, help: "Evaluate every this many steps (default: about 10 evaluations a run).")
        var evalInterval: Int?

        func validate() throws {
            try TrainingOptions.check(embedding, "--embedding", in: 1...65_536)
            try TrainingOptions.check(heads, "--heads", in: 1...1024)
            try TrainingOptions.check(maxLength, "--max-length", in: 1...1_000_000)
            try TrainingOptions.check(minimumCount, "--min-count", in: 1...1_000_000_000)
            try TrainingOptions.check(evalInterval, "--eval-interval", in: 1...1_000_000_000)
            if let embeddingDropout, !(embeddingDropout >= 0 && embeddingDropout < 1) {
                throw ValidationError("--embedding-dropout must be in [0, 1); got \(embeddingDropout)")
            }
            if freezeEmbeddings, embeddings == nil {
                throw ValidationError("--freeze-embeddings needs --embeddings FILE")
            }
            if model != .transformer, heads != nil {
                throw ValidationError("--heads is for --model transformer")
            }
            if model == .transformer, embedding != nil {
                throw ValidationError("--embedding is for recurrent models; a Transformer's token vectors are --hidden wide")
            }
            if !training.resume, train == nil {
                throw ValidationError("--train is required: the labelled CSV or TSV file to train on")
            }
        }

        func run() throws { try ClassifyTraining.run(self) }
    }
}

enum ClassWeighting: String, ExpressibleByArgument, CaseIterable {
    case none, balanced
}

/// The run behind `sequent classify train`.
struct ClassifyTraining: TaskTraining {
    let command: Sequent.Classify.ClassifyTrain
    let distributed: Distributed?

    func run(threads: Int) throws {
        let started = Date()
        let startedMonotonic = MetricsClock.system.monotonicSeconds()
        let outURL = options.outURL
        // On --resume, the run's own settings (its file, columns, split, seed) come from config.json.
        let resumed = options.resume ? try ModelFolder.open(outURL, task: ClassifyFolder.task, config: ClassifyConfig.self) : nil
        let saved = resumed?.config
        let trainPath = command.train ?? saved?.data.train ?? ""
        let textColumn = saved?.textColumn ?? command.textColumn, labelColumn = saved?.labelColumn ?? command.labelColumn
        let valPath = saved.map { $0.data.val } ?? options.val
        let valFraction = saved?.data.valFraction ?? options.valFraction ?? Sequent.Classify.ClassifyTrain.defaultValFraction
        let all = try LabelledTexts.read(URL(fileURLWithPath: trainPath), textColumn: textColumn, labelColumn: labelColumn, flag: "--train")
        var root = RandomGenerator(seed: saved?.seed ?? options.seed)
        var splitGenerator = root.split(), modelGenerator = root.split(), dataGenerator = root.split()
        let trainSet: LabelledTexts, valSet: LabelledTexts
        if let valPath {
            trainSet = all
            valSet = try LabelledTexts.read(URL(fileURLWithPath: valPath), textColumn: textColumn, labelColumn: labelColumn, flag: "--val")
        } else {
            (trainSet, valSet) = try all.stratifiedSplit(valFraction: valFraction, generator: &splitGenerator)
        }
        let classes = trainSet.classes
        guard classes.count >= 2 else {
            throw SequentError.invalidArgument(
                "--label-column", "\(trainPath): the label column '\(labelColumn)' has one class ('\(classes.first ?? "")') in the training data; a classifier needs at least 2")
        }
        let classID = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let counts = trainSet.classCounts
        say("classes (training split): " + classes.map { c in
            String(format: "%@ %d (%.1f%%)", c, counts[c] ?? 0, 100 * Double(counts[c] ?? 0) / Double(trainSet.count))
        }.joined(separator: ", "))
        if let unseen = valSet.labels.enumerated().first(where: { classID[$0.element] == nil }) {
            throw SequentError.malformedFile(
                valSet.path, "line \(valSet.lines[unseen.offset]): label '\(unseen.element)' is not among the training classes \(classes)")
        }

        let folder: ModelFolder
        var config: ClassifyConfig
        let tokenizer: WordTokenizer
        var vectors: WordVectors?
        if let resumed, let saved {
            folder = resumed.folder
            guard let loaded = try folder.loadTokenizer(vocabularySize: saved.vocabularySize) as? WordTokenizer else {
                throw SequentError.malformedFile(folder.tokenizerURL.path, "is not a word tokenizer")
            }
            guard saved.classes == classes, saved.data.trainRecords == trainSet.count, saved.data.valRecords == valSet.count else {
                throw SequentError.invalidArgument(
                    "--resume", "\(trainPath) gives \(trainSet.count) training and \(valSet.count) validation texts in classes \(classes), but the run in \(outURL.path) was trained on \(saved.data.trainRecords) and \(saved.data.valRecords) in \(saved.classes); resume with the same file")
            }
            (config, tokenizer) = (saved, loaded)
        } else {
            tokenizer = try WordTokenizer.train(on: trainSet.texts.joined(separator: "\n"), minimumCount: command.minimumCount)
            vectors = try command.embeddings.map { try WordVectors.read(URL(fileURLWithPath: $0), flag: "--embeddings") }
            config = try makeConfig(trainSet: trainSet, valSet: valSet, valFraction: valFraction, classes: classes,
                                    counts: counts, tokenizer: tokenizer, vectors: vectors)
            // The folder is created (and checked writable) only once the data is known good,
            // by rank 0 alone in a data-parallel run.
            folder = try ModelFolder.create(at: outURL, task: ClassifyFolder.task, writes: isRoot)
            if isRoot {
                try folder.refuseExistingRun()
                try tokenizer.save(to: folder.tokenizerURL)
            }
        }
        let maxLength = config.maxLength
        let trainSequences = try trainSet.texts.map { try classifierTokens($0, tokenizer: tokenizer, maxLength: maxLength) }
        let valSequences = try valSet.texts.map { try classifierTokens($0, tokenizer: tokenizer, maxLength: maxLength) }
        let trainLabels = trainSet.labels.map { classID[$0]! }
        let valLabels = valSet.labels.map { classID[$0]! }
        let weights = config.classWeights
        let stepsPerEpoch = (trainSet.count + config.batchSize - 1) / config.batchSize

        let model = try config.makeModel(generator: &modelGenerator)
        if let vectors {
            var table = model.embedding.weight.value.scalars
            let E = config.embedding
            var found = 0
            for (id, word) in tokenizer.words.enumerated() {
                guard let vector = vectors.vectors[word] ?? vectors.vectors[word.lowercased()] else { continue }
                table.replaceSubrange((id * E)..<((id + 1) * E), with: vector)
                found += 1
            }
            try model.embedding.weight.assign(Tensor(shape: [tokenizer.vocabularySize, E], scalars: table))
            say("--embeddings: \(found) of \(tokenizer.vocabularySize) tokens have a vector (the rest keep random ones)\(config.freezeEmbeddings ? "; frozen" : "")")
        }
        // config.batchSize is the global batch; each rank reads its rows of every batch (as
        // evenly as they divide; every batch is used, an epoch's smaller last one too).
        let batches = try UnevenShardedBatches(
            ShuffledBatches(Array(trainSequences.indices), batchSize: config.batchSize, generator: dataGenerator.split()),
            rank: distributed?.rank ?? 0, shardCount: ranks)
        let loss: Trainer<TextClassifier, UnevenShardedBatches<ShuffledBatches<Int>>>.LossFunction = { model, share in
            // A rank without rows computes the batch's first and counts for nothing. Its rows
            // are padded to the whole batch's length, so its tensors are rows of one process's.
            let rows = share.rows.isEmpty ? 0..<1 : share.rows
            let batch = TextBatch(trainSequences, indices: share.global).rows(rows)
            let (logits, _) = try BatchShard.with(firstRow: rows.lowerBound, rows: rows.count) {
                try model(batch.tokens, batchSize: batch.batchSize, time: batch.time, lengths: batch.lengths)
            }
            let targets = batch.indices.map { trainLabels[$0] }
            let mask = weights.map { w in Tensor(shape: [targets.count], scalars: targets.map { w[$0] }) }
            return (try Loss.crossEntropy(logits: logits, targets: targets, mask: mask), share.rows.isEmpty ? 0 : batch.lengths.reduce(0, +))
        }
        // --time-limit counts from the command's start; without --steps the schedule is fitted to it.
        var timeLimit = options.timeLimit(startedAt: startedMonotonic)
        if saved == nil {
            if options.steps == nil, let limit = timeLimit {
                timeLimit = try fitSteps(to: limit, config: &config, batches: batches, loss: loss,
                                         valTokens: valSequences.reduce(0) { $0 + $1.count },
                                         trainTokens: trainSequences.reduce(0) { $0 + $1.count })
                // Timed on each rank's share; every rank runs rank 0's schedule.
                if let distributed { config.steps = try distributed.broadcast(config.steps) }
            }
            if isRoot { try folder.writeConfig(config, version: Sequent.version) }
        }
        if let distributed {
            try distributed.checkAgreement(on: config, threads: threads, resume: saved != nil)
            say(distributed.summary(globalBatch: config.batchSize, threads: threads))
        }
        say(config.summary(parameterCount: model.parameterCount))
        say("data: \(trainSet.count) training texts, \(valSet.count) validation texts; \(stepsPerEpoch) steps an epoch, \(config.steps) steps")

        let trained = model.namedParameters().filter { !(config.freezeEmbeddings && $0.key == "emb.weight") }
        let optimizer = try Adam(namedParameters: trained, learningRate: config.learningRate)
        let schedule = try TrainingOptions.warmupCosine(peak: config.learningRate, steps: config.steps)
        var trainerConfiguration = options.trainerConfiguration(
            steps: config.steps, folder: folder, evaluationInterval: command.evalInterval ?? max(1, config.steps / 10), timeLimit: timeLimit)
        trainerConfiguration.earlyStopping = try EarlyStopping(metric: "accuracy", mode: .maximize, patience: Int.max)
        trainerConfiguration.distributed = distributed

        let classCount = classes.count
        let validation: (TextClassifier) throws -> [String: Double] = { model in
            let output = try ClassifierInference.run(model, sequences: valSequences, labels: valLabels)
            let m = ClassifierInference.metrics(output, labels: valLabels, classCount: classCount)
            return ["loss": output.loss, "accuracy": m.accuracy, "macro_f1": m.macroF1]
        }
        let trainer = try Trainer(
            model: model, optimizer: optimizer, data: batches, configuration: trainerConfiguration,
            schedule: schedule, validation: validation, modelConfig: config, loss: loss)
        // The loss is a mean over the share's texts, weighted by their class weights if
        // balanced; the ranks' shares may differ in both.
        trainer.lossWeight = { share in
            weights.map { w in share.rows.reduce(0.0) { $0 + Double(w[trainLabels[share.global[$1]]]) } } ?? Double(share.rows.count)
        }
        if saved != nil, try trainer.resumeFromLatest(in: folder.checkpointsURL) != nil {
            say("resumed at step \(trainer.step) of \(config.steps)")
        }
        trainer.addTaskCallbacks(savingBestTo: isRoot ? folder : nil)
        let result = try trainer.fit()
        // The other ranks are done: rank 0 scores, keeps the best weights and reports.
        guard isRoot else { return }

        model.setTraining(false)
        let last = try validation(model)
        var best = last
        if FileManager.default.fileExists(atPath: folder.weightsURL.path) {
            best = try validation(try ClassifyFolder.open(outURL.path).model)
        }
        if (last["accuracy"] ?? 0) > (best["accuracy"] ?? 0) || !FileManager.default.fileExists(atPath: folder.weightsURL.path) {
            try folder.saveWeights(of: model, metadata: ["step": String(trainer.step)])
            best = last
        }
        let kept = try ClassifyFolder.open(outURL.path)
        let output = try ClassifierInference.run(kept.model, sequences: valSequences, labels: valLabels)
        let metrics = ClassifierInference.metrics(output, labels: valLabels, classCount: classCount)
        let seconds = Date().timeIntervalSince(started)
        try ClassifyReport.write(folder: folder, config: config, metrics: metrics, seconds: seconds, threads: threads,
                                 data: valSet.path + (valPath == nil ? " (stratified held-out \(valFraction))" : ""))

        print("\(result.ending(of: config.steps)) in \(String(format: "%.1f", seconds)) s on \(threads) thread\(threads == 1 ? "" : "s")")
        print(String(format: "best validation (model.safetensors): accuracy %.4f, macro-F1 %.4f, loss %.4f over %d texts",
                     metrics.accuracy, metrics.macroF1, output.loss, valSet.count))
        print("model: \(outURL.path)  (report: \(folder.reportURL.path))")
        print("next:  echo \"a text\" | sequent classify predict \(options.out) --explain")
    }

    /// The config of a new run: flags, else the defaults.
    private func makeConfig(
        trainSet: LabelledTexts, valSet: LabelledTexts, valFraction: Double, classes: [String], counts: [String: Int],
        tokenizer: WordTokenizer, vectors: WordVectors?
    ) throws -> ClassifyConfig {
        let transformer = command.model == .transformer
        // --batch-size is per rank; the config keeps the global batch.
        let batchSize = min((options.batchSize ?? 64) * ranks, trainSet.count)
        let stepsPerEpoch = (trainSet.count + batchSize - 1) / batchSize
        var weights: [Float]?
        if command.classWeights == .balanced {
            weights = classes.map { Float(Double(trainSet.count) / (Double(classes.count) * Double(counts[$0] ?? 1))) }
        }
        if let vectors, let size = command.embedding, size != vectors.dimension {
            throw SequentError.invalidArgument("--embedding", "\(size) differs from the \(vectors.dimension) numbers of each vector in \(command.embeddings ?? "")")
        }
        // A Transformer's token vectors are its width: --hidden, or the pretrained vectors' size.
        if transformer, let vectors, let hidden = options.hiddenSize, hidden != vectors.dimension {
            throw SequentError.invalidArgument("--hidden", "a Transformer's width is its token vectors' size: \(hidden) differs from the \(vectors.dimension) numbers of each vector in \(command.embeddings ?? "")")
        }
        let hidden = options.hiddenSize ?? (transformer ? vectors?.dimension ?? 128 : 128)
        let heads = transformer ? command.heads ?? 4 : nil
        if let heads, hidden % heads != 0 {
            throw SequentError.invalidArgument("--heads", "\(heads) heads do not divide the width \(hidden) (--hidden)")
        }
        let dropout = options.dropout ?? 0.25
        return ClassifyConfig(
            model: command.model, pooling: command.pooling, layers: options.layers ?? (transformer ? 2 : 1), hidden: hidden,
            embedding: transformer ? hidden : vectors?.dimension ?? command.embedding ?? 128, dropout: dropout,
            embeddingDropout: command.embeddingDropout ?? dropout, heads: heads, feedForward: transformer ? 4 * hidden : nil,
            classes: classes, classWeights: weights, vocabularySize: tokenizer.vocabularySize, maxLength: command.maxLength,
            batchSize: batchSize, steps: options.steps ?? 3 * stepsPerEpoch,
            learningRate: options.learningRate ?? 2e-3,
            seed: options.seed, embeddings: command.embeddings, freezeEmbeddings: command.freezeEmbeddings,
            textColumn: command.textColumn, labelColumn: command.labelColumn,
            data: ClassifyDataSummary(train: command.train ?? "", val: options.val, valFraction: options.val == nil ? valFraction : nil,
                                      trainRecords: trainSet.count, valRecords: valSet.count))
    }

    /// Fits `config.steps` to `limit` (the schedule's length): a few steps of a throwaway
    /// model are timed (`Trainer.secondsPerStep`); the ten evaluations during training and
    /// the three after it (last weights, best weights, the report) are taken off.
    ///
    /// - Returns: `limit` with the evaluations after training reserved.
    private func fitSteps(
        to limit: TimeLimit, config: inout ClassifyConfig, batches: UnevenShardedBatches<ShuffledBatches<Int>>,
        loss: @escaping Trainer<TextClassifier, UnevenShardedBatches<ShuffledBatches<Int>>>.LossFunction, valTokens: Int, trainTokens: Int
    ) throws -> TimeLimit {
        var generator = RandomGenerator(seed: config.seed ^ 0x5EED)
        let stepSeconds = try Trainer<TextClassifier, UnevenShardedBatches<ShuffledBatches<Int>>>.secondsPerStep(
            probe: try config.makeModel(generator: &generator), data: batches, learningRate: config.learningRate, loss: loss)
        // An evaluation reads each validation token once, forward only: about a third of a
        // training step's time per token.
        let tokensPerStep = Double(trainTokens) / Double(max(1, (config.data.trainRecords + config.batchSize - 1) / config.batchSize))
        let evaluationSeconds = Double(valTokens) / max(1, tokensPerStep) * stepSeconds / 3
        var fitted = limit
        fitted.reservedSeconds = 3 * evaluationSeconds
        config.steps = fitted.fittedSteps(secondsPerStep: stepSeconds, evaluationSeconds: 10 * evaluationSeconds,
                                          at: MetricsClock.system.monotonicSeconds())
        say(String(format: "--time-limit: %.3f s a step here, so %d steps (the learning-rate schedule's length)", stepSeconds, config.steps))
        return fitted
    }
}

extension TextBatch {
    /// Rows `range`, padded to this batch's length.
    func rows(_ range: Range<Int>) -> TextBatch {
        var batch = self
        batch.tokens = Array(tokens[(range.lowerBound * time)..<(range.upperBound * time)])
        batch.lengths = Array(lengths[range])
        batch.indices = Array(indices[range])
        return batch
    }
}
