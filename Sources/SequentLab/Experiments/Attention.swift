import Foundation
import SequentNN
import SequentTensor
import SequentTrain

/// Experiment 4: a seq2seq model with and without attention learns to reverse sequences of
/// growing length. The alignment of the task is known (output i reads source n-1-i), so the
/// attention can be checked: how often its argmax hits the true source position.
///
/// Both models: bidirectional LSTM encoder (16 per direction), LSTM decoder (32),
/// embeddings 16, vocabulary of 10 symbols, Adam at each model's swept rate, batches of 32 fresh pairs with
/// lengths drawn uniformly from the range; the recipe of Tests/SequentTrainTests/Seq2SeqReversalTests.
public struct AttentionExperiment {
    /// One model trained with one seed.
    public struct Variant: Sendable {
        public var name: String
        public var seed: UInt64
        /// Token accuracy of greedy decoding, by source length.
        public var accuracyByLength: [Int: Double]
        /// Share of teacher-forced symbol steps whose attention argmax is the true source position, by length.
        public var hitRateByLength: [Int: Double]
        /// An example's attention (output step x source position) at the longest length.
        public var exampleAlignment: [[Double]]?
        public var exampleSource: [Int]
        public var finalLoss: Double
    }

    public struct Result: Sendable {
        /// Every model's runs, one per seed (in the order of the lab's seeds).
        public var variants: [Variant]
        public var lengths: [Int]
        /// Each model's learning-rate sweep (the measured runs train at its chosen rate).
        public var sweeps: [LearningRateSweep] = []

        /// The runs of the model `name`.
        public func runs(_ name: String) -> [Variant] { variants.filter { $0.name == name } }
    }

    let settings: LabSettings
    let progress: LabProgress
    let symbols = 10
    var begin: Int { symbols }
    var end: Int { symbols + 1 }

    public init(settings: LabSettings, progress: LabProgress) {
        self.settings = settings
        self.progress = progress
    }

    func pairs(_ count: Int, lengths: ClosedRange<Int>, _ generator: inout RandomGenerator) -> (source: [[Int]], target: [[Int]]) {
        var sources: [[Int]] = [], targets: [[Int]] = []
        for _ in 0..<count {
            let n = lengths.lowerBound + Int(generator.next() % UInt64(lengths.count))
            let source = (0..<n).map { _ in Int(generator.next() % UInt64(symbols)) }
            sources.append(source)
            targets.append(source.reversed() + [end])
        }
        return (sources, targets)
    }

    /// A model of the experiment with its initial weights from `seed`.
    func makeModel(_ attention: Seq2Seq.Attention, seed: UInt64) throws -> Seq2Seq {
        var generator = RandomGenerator(seed: seed)
        return try Seq2Seq(cell: .lstm, sourceVocabularySize: symbols, targetVocabularySize: symbols + 2, embeddingSize: 16,
                           hiddenSize: 16, decoderHiddenSize: 32, bidirectional: true, attention: attention,
                           beginToken: begin, endToken: end, generator: &generator)
    }

    /// Trains `model` for `steps` on batches of 32 pairs drawn from `dataSeed`; returns the last training loss.
    func train(_ model: Seq2Seq, learningRate: Float, steps: Int, dataSeed: UInt64) throws -> Double {
        let lengths = settings.reversalLengths
        let outcome = try LabTraining(learningRate: learningRate, steps: steps, maxGradientNorm: 5).run(
            model, data: GeneratedBatches(generator: RandomGenerator(seed: dataSeed)) { pairs(32, lengths: lengths, &$0) }
        ) { batch in
            (try model.loss(source: Seq2Seq.Batch(batch.source), target: Seq2Seq.Batch(batch.target)), batch.target.count)
        }
        return Double(outcome.losses.last ?? .nan)
    }

    static let models: [(name: String, attention: Seq2Seq.Attention)] = [("no attention", .none), ("additive attention", .additive)]

    public func run() throws -> Result {
        let lengths = Array(settings.reversalLengths)
        // Each model's sweep: the same rates and steps, on the sweep seed, scored by the
        // teacher-forced loss on 256 validation pairs (lengths drawn from the same range).
        var validationData = RandomGenerator(seed: 555)
        let validation = pairs(256, lengths: settings.reversalLengths, &validationData)
        var sweeps: [LearningRateSweep] = []
        for (name, attention) in Self.models {
            sweeps.append(try LearningRateSweep.run(name, candidates: settings.sweepRates) { rate in
                progress("attention: learning-rate sweep, \(name), lr \(formatted(Double(rate))), \(settings.reversalSweepSteps) steps")
                let model = try makeModel(attention, seed: LabSettings.sweepSeed)
                _ = try train(model, learningRate: rate, steps: settings.reversalSweepSteps, dataSeed: LabSettings.sweepSeed)
                return Double(try withoutGradients {
                    try model.loss(source: Seq2Seq.Batch(validation.source), target: Seq2Seq.Batch(validation.target)).item
                })
            })
        }
        var variants: [Variant] = []
        for ((name, attention), sweep) in zip(Self.models, sweeps) {
            for seed in settings.seeds {
                let model = try makeModel(attention, seed: seed)
                progress("attention: \(name), \(settings.reversalSteps) steps, seed \(seed)")
                let loss = try train(model, learningRate: sweep.chosen, steps: settings.reversalSteps, dataSeed: seed &* 7)
                progress("attention: \(name), evaluating, seed \(seed)")
                var accuracy: [Int: Double] = [:], hits: [Int: Double] = [:]
                var example: [[Double]]?, exampleSource: [Int] = []
                for n in lengths {
                    var heldOut = RandomGenerator(seed: 99 &+ UInt64(n))
                    let test = pairs(64, lengths: n...n, &heldOut)
                    let (source, target) = (try Seq2Seq.Batch(test.source), try Seq2Seq.Batch(test.target))
                    let decoding = try model.greedyDecode(source: source, maxLength: n + 2)
                    var correct = 0
                    for (b, expected) in test.target.enumerated() {
                        for i in 0..<n where i < decoding.sequences[b].count && decoding.sequences[b][i] == expected[i] { correct += 1 }
                    }
                    accuracy[n] = Double(correct) / Double(64 * n)
                    let forced = try withoutGradients { try model(source: source, target: target) }
                    if let alignment = forced.alignment {  // (B, n+1, n)
                        let (T, S) = (alignment.shape[1], alignment.shape[2])
                        let a = alignment.scalars
                        var hit = 0
                        for b in 0..<64 {
                            for i in 0..<n {
                                let row = (b * T + i) * S
                                var best = 0
                                for j in 1..<S where a[row + j] > a[row + best] { best = j }
                                if best == n - 1 - i { hit += 1 }
                            }
                        }
                        hits[n] = Double(hit) / Double(64 * n)
                        if n == lengths.last, seed == settings.seeds.first {
                            example = (0..<T).map { i in (0..<S).map { Double(a[i * S + $0]) } }
                            exampleSource = test.source[0]
                        }
                    }
                }
                variants.append(Variant(name: name, seed: seed, accuracyByLength: accuracy, hitRateByLength: hits,
                                        exampleAlignment: example, exampleSource: exampleSource, finalLoss: loss))
            }
        }
        return Result(variants: variants, lengths: lengths, sweeps: sweeps)
    }

    public static func section(_ result: Result, settings: LabSettings) -> ReportSection {
        let names = Self.models.map(\.name)
        let seeds = settings.seeds.map(String.init).joined(separator: ", ")
        /// One quantity of the model `name`, one value per seed.
        func values(_ name: String, _ quantity: (Variant) -> Double?) -> SeedValues { SeedValues(result.runs(name).compactMap(quantity)) }
        let attended = names.filter { name in result.runs(name).contains { !$0.hitRateByLength.isEmpty } }
        var section = ReportSection(title: "4. Attention at work: reversing sequences")
        section.paragraph("""
            Task: reverse a sequence of n symbols (of 10), n drawn from \(settings.reversalLengths.lowerBound)...\(settings.reversalLengths.upperBound) \
            during training. Both models: bidirectional LSTM encoder (16 per direction), LSTM decoder (32), \
            embeddings 16, \(settings.reversalSteps) Adam steps (gradient norm clipped to 5) on batches of 32, at the learning rate of \
            the model's own sweep (below: every rate trained for \(settings.reversalSweepSteps) steps on another seed, scored by the \
            teacher-forced loss on 256 validation pairs); seeds \(seeds) (initial weights and training data), mean ± sd over them. One model \
            decodes from the final encoder state alone (no attention, the fixed-length context); the other uses \
            Bahdanau's additive attention. Accuracy: share of output symbols right in greedy decoding, 64 held-out \
            sequences per length (the same for every seed). Hit rate: share of teacher-forced steps whose attention argmax is the true \
            source position n-1-i.
            """)
        let chart = LineChart(
            title: "Reversal accuracy vs source length (mean over seeds)", x: Axis("source length n (symbols)"),
            y: Axis("token accuracy / hit rate (fraction)", range: 0...1),
            series: names.map { name in LineSeries(name: name, points: result.lengths.map { n in (x: Double(n), y: values(name) { $0.accuracyByLength[n] }.mean) }) }
                + attended.map { name in
                    LineSeries(name: "argmax hit rate (\(name))", points: result.lengths.map { n in (x: Double(n), y: values(name) { $0.hitRateByLength[n] }.mean) }, dashed: true)
                },
            references: [("chance 0.1", 0.1)])
        section.figure("attention_accuracy", "Greedy-decoding accuracy against source length, with and without attention (mean over seeds \(seeds)); dashed: how often the attention argmax is the true source position.", chart.svg)
        if let example = result.variants.first(where: { $0.exampleAlignment != nil }), let alignment = example.exampleAlignment {
            let n = example.exampleSource.count
            let heatmap = Heatmap(
                title: "Additive attention while reversing n = \(n)", xTitle: "source position j (symbol)",
                yTitle: "output step i", xLabels: example.exampleSource.enumerated().map { "\($0.offset):\($0.element)" },
                yLabels: (0..<alignment.count).map { $0 < n ? "\($0)" : "end" }, values: alignment, valueTitle: "weight")
            section.figure("attention_heatmap", "Attention weights of one held-out sequence (seed \(example.seed); rows: output steps, columns: source positions with their symbols); the reversal's alignment is the anti-diagonal.", heatmap.svg)
        }
        let rows = result.lengths.map { n in
            ["\(n)"] + names.map { values($0) { $0.accuracyByLength[n] }.text() } + attended.prefix(1).map { values($0) { $0.hitRateByLength[n] }.text() }
        }
        section.table(ReportTable(header: ["n"] + names.map { "accuracy, \($0)" } + attended.prefix(1).map { _ in "argmax hit rate" }, rows: rows))
        section.paragraph("**Learning-rate sweep** (validation loss after \(settings.reversalSweepSteps) steps; the chosen rate in bold).")
        section.table(LearningRateSweep.table(result.sweeps, lossName: "validation loss"))

        var claims: [Claim] = []
        if let none = names.first(where: { $0 == "no attention" }), let att = attended.first {
            let third = max(1, result.lengths.count / 3)
            let (shortest, longest) = (result.lengths.prefix(third), result.lengths.suffix(third))
            /// The mean of a quantity over `keys`, one value per seed.
            func mean(_ name: String, _ keys: some Collection<Int>, _ quantity: @escaping (Variant, Int) -> Double?) -> SeedValues {
                values(name) { run in
                    let found = keys.compactMap { quantity(run, $0) }
                    return found.isEmpty ? nil : found.reduce(0, +) / Double(found.count)
                }
            }
            let noneShort = mean(none, shortest) { $0.accuracyByLength[$1] }, noneLong = mean(none, longest) { $0.accuracyByLength[$1] }
            let attLong = mean(att, longest) { $0.accuracyByLength[$1] }
            // Accuracies within 0.05 of each other are ties.
            claims.append(Claim("Without attention, accuracy falls as the source grows (the fixed-length context is a bottleneck).",
                                measured: "no attention: \(noneShort.text()) on the shortest third, \(noneLong.text()) on the longest third",
                                verdict: SeedComparison.higher(noneShort, than: noneLong, absoluteTie: 0.05)))
            claims.append(Claim("With attention, long sources are reversed more accurately than without.",
                                measured: "longest third: attention \(attLong.text()), none \(noneLong.text())",
                                verdict: SeedComparison.higher(attLong, than: noneLong, absoluteTie: 0.05)))
            let hit = mean(att, result.lengths) { $0.hitRateByLength[$1] }
            claims.append(Claim("The attention learns the alignment: its argmax is the true source position most of the time (> 80%).",
                                measured: "mean argmax hit rate \(hit.text())", verdict: SeedComparison.above(hit, 0.8)))
        }
        section.claims(claims)
        section.results = .object([("sweep", .array(result.sweeps.map(\.json)))] + names.map { name in
            (name, .array(result.runs(name).map { v in
                .object([
                    ("seed", .number(Double(v.seed))),
                    ("final_loss", .of(v.finalLoss)),
                    ("accuracy_by_length", .object(result.lengths.map { ("\($0)", .of(v.accuracyByLength[$0])) })),
                    ("hit_rate_by_length", .object(result.lengths.compactMap { n in v.hitRateByLength[n].map { ("\(n)", .of($0)) } })),
                ])
            }))
        })
        return section
    }
}
