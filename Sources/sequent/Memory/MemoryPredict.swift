import ArgumentParser
import Foundation
import SequentData
import SequentLab
import SequentNN
import SequentTensor
import SequentTrain

/// `sequent memory predict DIR [FILE...]`: applies a model folder to new input, files or
/// stdin, one result per line.
struct MemoryPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Apply a `sequent memory` model: copy a bit sequence, or answer bAbI questions.",
        discussion: """
            Copy models read one sequence per line, its vectors separated by spaces (each as many \
            0/1 digits as the model's bits), and print the sequence they output:
              echo "10110010 01100111 11110000" | sequent memory predict ntm-copy
            bAbI models read stories in the bAbI text format and print one answer per question:
              sequent memory predict memn2n qa1_test.txt
            """)

    @Argument(help: "The model folder written by `sequent memory train`.")
    var folder: String

    @Argument(help: "Input files (default: standard input).")
    var files: [String] = []

    func run() throws {
        let folder = try ModelFolder.open(URL(fileURLWithPath: self.folder), task: "memory")
        let inputs: [(path: String, text: String)]
        if files.isEmpty {
            inputs = [("<stdin>", String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self))]
        } else {
            inputs = try files.map { path in
                guard let data = FileManager.default.contents(atPath: path) else { throw SequentError.io(path, "cannot be read (missing or unreadable)") }
                return (path, String(decoding: data, as: UTF8.self))
            }
        }
        if let config = try? folder.readConfig(as: BitTaskConfig.self) {
            guard config.task.task == .copy else {
                throw SequentError.invalidArgument("sequent memory predict", "predicts with copy models and bAbI models; \(folder.url.path) holds a \(config.task.task.rawValue) model (score it with `sequent memory eval`)")
            }
            let model = try BitTaskModel(config)
            try folder.loadTrainedWeights(into: model.module)
            for input in inputs {
                for (index, line) in input.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let words = line.split(separator: " ")
                    if words.isEmpty { continue }
                    print(try copy(words, model: model, bits: config.task.bits, at: "\(input.path):\(index + 1)"))
                }
            }
        } else {
            let config = try folder.readConfig(as: BAbIConfig.self)
            let vocabulary = try folder.readJSON(BAbIVocabulary.self, from: ModelFolder.tokenizerFileName)
            let model = try BAbIModel(config, vocabularySize: vocabulary.count)
            try folder.loadTrainedWeights(into: model.module)
            for input in inputs {
                let examples = BAbIFormat.examples(try BAbIFormat.parse(input.text, path: input.path), memoryLimit: config.network.memories)
                for start in stride(from: 0, to: examples.count, by: 128) {
                    let chunk = Array(examples[start..<min(start + 128, examples.count)])
                    let (logits, _, _) = try withoutGradients {
                        try model(chunk, vocabulary: vocabulary, memories: config.network.memories, sentenceLength: config.network.sentenceLength)
                    }
                    for id in logits.argmax(alongAxis: 1).scalars { print(vocabulary.words[Int(id)]) }
                }
            }
        }
    }

    /// The model's output for one line of bit vectors.
    private func copy(_ words: [Substring], model: BitTaskModel, bits: Int, at place: String) throws -> String {
        let length = words.count
        let (T, X) = (2 * length + 1, bits + 1)
        var inputs = [Float](repeating: 0, count: T * X)
        for (t, word) in words.enumerated() {
            guard word.count == bits, word.allSatisfy({ $0 == "0" || $0 == "1" }) else {
                throw SequentError.malformedFile(place, "vector \(t + 1) is \"\(word)\"; expected \(bits) digits 0 or 1")
            }
            for (j, digit) in word.enumerated() { inputs[t * X + j] = digit == "1" ? 1 : 0 }
        }
        inputs[length * X + bits] = 1
        let logits = try withoutGradients { try model.logits(Tensor(shape: [T, 1, X], scalars: inputs)) }
        return (0..<length).map { t in
            String((0..<bits).map { j in logits.scalars[(length + 1 + t) * bits + j] > 0 ? "1" : "0" })
        }.joined(separator: " ")
    }
}
