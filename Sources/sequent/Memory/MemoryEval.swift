import ArgumentParser
import Foundation
import SequentData
import SequentLab
import SequentNN
import SequentTensor
import SequentTrain

/// `sequent memory eval DIR`: scores a model folder of `sequent memory train`.
struct MemoryEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a `sequent memory` model folder: bit errors per sequence by length, or bAbI accuracy per task.",
        discussion: """
            Example:
              sequent memory eval ntm-copy --lengths 10,20,40,60,80,120 --json
            Bit tasks: fresh sequences from --seed at each length. bAbI: --babi FILE, or freshly \
            generated questions of the tasks the model was trained on.
            """)

    @Argument(help: "The model folder written by `sequent memory train`.")
    var folder: String

    @Option(help: "Bit tasks: the lengths to score, comma-separated (default 10,20,40,60,80,120 for copy; the training range's ends otherwise).")
    var lengths: String?

    @Option(help: "Bit tasks: sequences per length (default 64).")
    var sequences = 64

    @Option(help: "bAbI: a file to score on (default: 1000 freshly generated questions per trained task).")
    var babi: String?

    @Option(help: "The seed of the generated test data (differs from training's by default).")
    var seed: UInt64 = 20_141_020

    @OptionGroup var threads: ThreadOption

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        if sequences < 1 { throw ValidationError("--sequences must be at least 1; got \(sequences)") }
    }

    func run() throws {
        let folder = try ModelFolder.open(URL(fileURLWithPath: self.folder), task: "memory")
        try Parallelism.withThreads(threads.count) {
            if let config = try? folder.readConfig(as: BitTaskConfig.self) {
                try evaluateBits(folder, config)
            } else {
                try evaluateBAbI(folder, try folder.readConfig(as: BAbIConfig.self))
            }
        }
    }

    private func evaluateBits(_ folder: ModelFolder, _ config: BitTaskConfig) throws {
        guard babi == nil else { throw ValidationError("--babi is for bAbI models; \(folder.url.path) holds a \(config.task.task.rawValue) model") }
        let model = try BitTaskModel(config)
        try folder.loadTrainedWeights(into: model.module)
        let chosen: [Int]
        if let lengths {
            chosen = try lengths.split(separator: ",").map { part in
                guard let length = Int(part.trimmingCharacters(in: .whitespaces)), length >= config.task.shortestLength, length <= 10_000 else {
                    throw ValidationError("--lengths takes lengths from \(config.task.shortestLength) to 10000 separated by commas; got \(lengths)")
                }
                return length
            }
        } else {
            chosen = config.task.task == .copy ? [10, 20, 40, 60, 80, 120] : [config.task.minLength, config.task.maxLength, 2 * config.task.maxLength]
        }
        if case .ntm(let ntm) = model, let longest = chosen.max(), config.task.slotsNeeded(length: longest) > ntm.configuration.memorySlots {
            FileHandle.standardError.write(Data("note: length \(longest) needs \(config.task.slotsNeeded(length: longest)) memory slots; the machine has \(ntm.configuration.memorySlots)\n".utf8))
        }
        let scores = try BitTaskTraining.bitErrors(model, task: config.task, lengths: chosen, sequences: sequences, seed: seed)
        if json {
            let object: [String: Any] = [
                "model": folder.url.path, "task": config.task.task.rawValue, "architecture": config.model, "sequences_per_length": sequences,
                "bit_errors_per_sequence": Dictionary(uniqueKeysWithValues: scores.map { (String($0.length), $0.bitErrors) }),
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
        } else {
            print("\(config.model) on \(config.task.task.rawValue), \(sequences) sequences per length:")
            for (length, errors) in scores { print("  length \(length): \(String(format: "%.3f", errors)) bit errors per sequence") }
        }
    }

    private func evaluateBAbI(_ folder: ModelFolder, _ config: BAbIConfig) throws {
        if lengths != nil { throw ValidationError("--lengths is for bit-sequence models; \(folder.url.path) holds a bAbI model") }
        let vocabulary = try folder.readJSON(BAbIVocabulary.self, from: ModelFolder.tokenizerFileName)
        let model = try BAbIModel(config, vocabularySize: vocabulary.count)
        try folder.loadTrainedWeights(into: model.module)
        let data = try babi.map { try BAbIDataSet.file($0) } ?? BAbIDataSet.generated(tasks: config.tasks, count: 1000, seed: seed)
        let (S, J) = (config.network.memories, config.network.sentenceLength)
        var results: [[String: Any]] = []
        for group in data.groups {
            let scores = try BAbITraining.evaluate(model, vocabulary: vocabulary, examples: group.examples, memories: S, sentenceLength: J)
            var entry: [String: Any] = ["name": group.name, "questions": scores.questions, "accuracy": scores.accuracy, "loss": scores.loss]
            if let found = scores.supportsFound { entry["supports_found"] = found }
            results.append(entry)
            if !json {
                print("\(group.name): accuracy \(String(format: "%.1f", 100 * scores.accuracy))% of \(scores.questions)"
                      + (scores.supportsFound.map { ", supports found in \(String(format: "%.1f", 100 * $0))% of correct answers" } ?? ""))
            }
        }
        if json {
            let object: [String: Any] = ["model": folder.url.path, "architecture": config.model, "data": babi ?? "generated", "groups": results]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
        }
    }
}
