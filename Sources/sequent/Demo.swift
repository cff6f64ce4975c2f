import ArgumentParser
import SequentData
import SequentNN
import SequentTensor

extension Sequent {
    /// `sequent demo`: a character-level recurrent model learns to add, on data it makes.
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a small character-level LSTM (or GRU, RNN) to add two-digit numbers, and watch it learn.",
            discussion: """
                The data is generated: sums such as "37+48=85;" one after another, with 10% \
                of all operand pairs held out of training. Every few steps the demo prints the \
                training loss, the loss on held-out text (all characters, and the answer \
                characters alone) and the speed; at the end, text sampled from the model, its \
                answers to held-out sums, and a verdict computed from those measurements. \
                Losses are in nats per character. The same seed gives the same run.
                """)

        @Option(parsing: .unconditional, help: "Training steps (default: 2000, or 600 with --quick).")
        var steps: Int?

        @Option(name: .customLong("hidden"), parsing: .unconditional, help: "The hidden size of the recurrent layer.")
        var hiddenSize = 128

        @Option(help: "The recurrent cell: \(RecurrentCellType.names.joined(separator: ", ")).")
        var cell: RecurrentCellType = .lstm

        @Option(name: .customLong("learning-rate"), parsing: .unconditional, help: "Adam's peak learning rate (after a short warm-up; cosine decay to a tenth).")
        var learningRate: Float = 1e-2

        @Option(parsing: .unconditional, help: "The seed of every random choice: data, initial weights, batches, sampling.")
        var seed: UInt64 = 42

        @Option(parsing: .unconditional, help: "Threads for oneDNN and Sequent's kernels (default: all \(Parallelism.coreCount) cores).")
        var threads: Int?

        @Flag(help: "A short run: 600 steps, 100 held-out sums tested.")
        var quick = false

        func validate() throws {
            if let steps, steps < 1 { throw ValidationError("--steps must be at least 1; got \(steps)") }
            if hiddenSize < 1 || hiddenSize > 4096 { throw ValidationError("--hidden must be in 1...4096; got \(hiddenSize)") }
            if !(learningRate > 0 && learningRate.isFinite) { throw ValidationError("--learning-rate must be positive; got \(learningRate)") }
            _ = try ThreadCount.checked(threads)
        }

        func run() throws {
            let model = RecurrentLanguageModel.Configuration(
                cell: cell, vocabularySize: AdditionCorpus.symbols.count, embeddingSize: 32, hiddenSize: hiddenSize)
            let settings = AdditionDemo.Settings(
                model: model, steps: steps ?? (quick ? 600 : 2000), seed: seed,
                answerTestCount: quick ? 100 : 300, learningRate: learningRate)
            try Parallelism.withThreads(try ThreadCount.checked(threads)) {
                try AdditionDemo(settings: settings).run()
            }
        }
    }
}

extension RecurrentCellType: ExpressibleByArgument {
    /// `--cell lstm|gru|rnn|rnn-relu`, by `init(name:)`.
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { names }
}
