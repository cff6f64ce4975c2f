import Foundation

/// Experiment 3: the textbook table of RNN, LSTM, GRU and Transformer, each cell the
/// textbook's claim beside this run's measurement and a verdict computed from it.
///
/// The rules (stated in the report too):
/// - long-term dependencies (experiment 2): "poor" holds if the model's longest solved lag
///   (over both tasks) is below the best gated model's; "good" if it is above the RNN's;
///   the Transformer's "excellent" if on each task it solves a lag at least as long as
///   every recurrent model's.
/// - parallel processing: "no (sequential)" holds if step time grows at least like T^0.7;
///   the Transformer's "yes" if all threads speed its step up (over one thread) more than
///   any recurrent model's, and by at least 1.2 times.
/// - vanishing gradient (experiment 1, after training): "severe" holds if g(1)/g(d) > 100;
///   "mitigated" if it is at least 10 times below the RNN's; "not an issue" if below 10.
/// - training speed: the order of the measured tokens per second at the longest length, at
///   one width; the Transformer's "fast" if it trains more tokens per second than the LSTM
///   and the GRU.
/// - computational complexity: the order of the measured time per token (RNN < GRU < LSTM);
///   the Transformer's quadratic term holds if its step time grows faster than T^1.1 between
///   the two longest lengths.
/// - memory: "O(T)" holds if the measured peak memory of a step grows as T^k with k in
///   [0.7, 1.3]; "O(T^2)" if k >= 1.5.
public enum ComparisonTable {
    /// One cell: the claim, the measurement, the verdict.
    struct Cell {
        var claim: String
        var measured: String
        var verdict: Verdict
        var text: String { "claim: \(claim)\nmeasured: \(measured)\nverdict: **\(verdict.rawValue)**" }
    }

    /// The least speed-up from one thread to all that counts as using the cores.
    static let parallelSpeedUp = 1.2
    /// The least growth exponent of step time between the two longest lengths that shows a
    /// term faster than linear.
    static let superlinearExponent = 1.1
    /// The memory exponents of "O(T)" and "O(T^2)".
    static let linearMemoryExponents = 0.7...1.3
    static let quadraticMemoryExponent = 1.5

    public static func section(
        gradients: VanishingGradientsExperiment.Result?, lags: LongLagExperiment.Result?,
        speed: SpeedExperiment.Result, settings: LabSettings
    ) -> ReportSection {
        var section = ReportSection(title: "3. The comparison table")
        var rows: [[String]] = []
        var claims: [Claim] = []
        func add(_ row: String, _ cells: [Architecture: Cell]) {
            var out = [row]
            for a in Architecture.allCases {
                let cell = cells[a] ?? Cell(claim: "-", measured: "not measured (the experiment it comes from did not run)", verdict: .notMeasured)
                out.append(cell.text)
                claims.append(Claim("\(row): \(a.rawValue) is \(cell.claim)", measured: cell.measured, verdict: cell.verdict))
            }
            rows.append(out)
        }

        // Long-term dependencies, from experiment 2.
        var longTerm: [Architecture: Cell] = [:]
        if let lags {
            let tasks = LongLagExperiment.Task.allCases.filter { !lags.lengths($0).isEmpty }
            func best(_ a: Architecture) -> Int { tasks.compactMap { lags.maxSolved($0, a) }.max() ?? 0 }
            func detail(_ a: Architecture) -> String {
                tasks.compactMap { t in lags.maxSolved(t, a).map { "\(t.rawValue) \($0 == 0 ? "none" : "T = \($0)")" } }.joined(separator: ", ")
            }
            let gatedBest = max(best(.lstm), best(.gru))
            let anySolved = Architecture.allCases.contains { best($0) > 0 }
            longTerm[.rnn] = Cell(claim: "poor", measured: "longest lag solved: \(detail(.rnn))",
                                  verdict: anySolved ? .from(best(.rnn) < gatedBest) : .inconclusive)
            for a in [Architecture.lstm, .gru] {
                longTerm[a] = Cell(claim: "good", measured: "longest lag solved: \(detail(a))",
                                   verdict: anySolved ? .from(best(a) > best(.rnn)) : .inconclusive)
            }
            let transformerLeads = tasks.allSatisfy { t in
                (lags.maxSolved(t, .transformer) ?? 0) >= Architecture.recurrent.compactMap { lags.maxSolved(t, $0) }.max() ?? 0
            }
            longTerm[.transformer] = Cell(claim: "excellent (attention reaches every step)", measured: "longest lag solved: \(detail(.transformer))",
                                          verdict: anySolved ? .from(transformerLeads) : .inconclusive)
        }
        add("Handles long-term dependencies", longTerm)

        // Parallel processing: does step time grow with T as a sequential loop does, and do
        // more threads help?
        var parallel: [Architecture: Cell] = [:]
        func speedUpText(_ a: Architecture) -> String {
            guard let last = speed.series(a).last, let speedUp = last.parallelSpeedUp else { return "" }
            return "; \(formatted(speedUp, 2))x faster on \(speed.threads) threads than on 1 (T = \(last.length))"
        }
        for a in Architecture.allCases {
            guard let k = speed.lengthExponent(a), let first = speed.series(a).first, let last = speed.series(a).last else { continue }
            let growth = "step time ~ T^\(formatted(k, 2)) (T = \(first.length): \(formatted(1000 * first.stepSeconds)) ms, T = \(last.length): \(formatted(1000 * last.stepSeconds)) ms)"
            if a == .transformer {
                let recurrentSpeedUps = Architecture.recurrent.compactMap { speed.series($0).last?.parallelSpeedUp }
                let verdict: Verdict = if let mine = last.parallelSpeedUp, recurrentSpeedUps.count == Architecture.recurrent.count {
                    .from(mine >= parallelSpeedUp && recurrentSpeedUps.allSatisfy { mine > $0 })
                } else {
                    .inconclusive  // one thread: nothing to compare
                }
                parallel[a] = Cell(claim: "yes (all steps at once)",
                                   measured: "\(growth); 1 layer: all \(last.length) steps at once\(speedUpText(a))",
                                   verdict: verdict)
            } else {
                parallel[a] = Cell(claim: "no (sequential over time)",
                                   measured: "\(growth); \(last.length) dependent steps\(speedUpText(a))",
                                   verdict: .from(k >= 0.7))
            }
        }
        add("Parallel processing", parallel)

        // Vanishing gradient, from experiment 1 (after training).
        var vanishing: [Architecture: Cell] = [:]
        if let gradients, let d = VanishingGradientsExperiment.judgedDistance(gradients) {
            let rnnRatio = gradients.curve(.rnn, trained: true)?.ratio(distance: d)
            for a in Architecture.allCases {
                guard let trained = gradients.curve(a, trained: true)?.ratio(distance: d),
                      let initial = gradients.curve(a, trained: false)?.ratio(distance: d), let rnnRatio else { continue }
                let measured = "g(1)/g(\(d)) = \(formatted(trained)) after training (\(formatted(initial)) at initialisation)"
                vanishing[a] = switch a {
                case .rnn: Cell(claim: "severe", measured: measured, verdict: .from(trained > 100))
                case .transformer: Cell(claim: "not an issue (no recurrence)", measured: measured,
                                        verdict: .from(trained < VanishingGradientsExperiment.nonVanishingRatio))
                default: Cell(claim: "mitigated", measured: measured,
                              verdict: trained.isInfinite && rnnRatio.isInfinite ? .inconclusive : .from(trained * 10 <= rnnRatio))
                }
            }
        }
        add("Vanishing gradient", vanishing)

        // Training speed: tokens per second at the longest length.
        var speedCells: [Architecture: Cell] = [:]
        let longest = speed.measurements.map(\.length).max() ?? 0
        let rate = Dictionary(uniqueKeysWithValues: speed.measurements.filter { $0.length == longest }.map { ($0.architecture, $0.tokensPerSecond) })
        if let rnn = rate[.rnn], let lstm = rate[.lstm], let gru = rate[.gru], let transformer = rate[.transformer] {
            func text(_ a: Architecture) -> String { "\(formatted(rate[a]! / 1000)) k tokens/s (training, T = \(longest), width \(speed.width))" }
            speedCells[.rnn] = Cell(claim: "fast (fastest of the three recurrent)", measured: text(.rnn), verdict: .from(rnn > lstm && rnn > gru))
            speedCells[.lstm] = Cell(claim: "slow (slowest of the three recurrent)", measured: text(.lstm), verdict: .from(lstm < rnn && lstm < gru))
            speedCells[.gru] = Cell(claim: "faster than LSTM", measured: text(.gru), verdict: .from(gru > lstm))
            speedCells[.transformer] = Cell(claim: "fast (parallel over time: faster than LSTM and GRU)", measured: text(.transformer),
                                            verdict: .from(transformer > lstm && transformer > gru))
        }
        add("Training speed", speedCells)

        // Computational complexity: counted FLOPs per token, measured time per token.
        var cost: [Architecture: Cell] = [:]
        if let rnn = rate[.rnn], let lstm = rate[.lstm], let gru = rate[.gru] {
            let timePerToken: [Architecture: Double] = [.rnn: 1 / rnn, .lstm: 1 / lstm, .gru: 1 / gru]
            for a in Architecture.allCases {
                guard let first = speed.series(a).first, let last = speed.series(a).last else { continue }
                func flopsPerToken(_ m: SpeedExperiment.Measurement) -> String {
                    formatted(m.forwardFLOPs / Double(speed.batch * m.length) / 1000)
                }
                let mine = 1 / last.tokensPerSecond
                let others = timePerToken.filter { $0.key != a }.map(\.value)
                switch a {
                case .transformer:
                    let k = speed.longLengthExponent(a)
                    cost[a] = Cell(claim: "O(T^2 d) time (the cost per token grows with T)",
                                   measured: "O(T D^2 + T^2 D): \(flopsPerToken(first)) kFLOP/token forward at T = \(first.length), \(flopsPerToken(last)) at T = \(last.length) (counted); step time ~ T^\(formatted(k, 2)) between the two longest lengths; \(formatted(1e6 * mine)) us/token measured",
                                   verdict: k.map { .from($0 > superlinearExponent) } ?? .inconclusive)
                default:
                    let verdict: Verdict = switch a {
                    case .rnn: .from(others.allSatisfy { mine < $0 })
                    case .lstm: .from(others.allSatisfy { mine > $0 })
                    default: .from(mine > timePerToken[.rnn]! && mine < timePerToken[.lstm]!)
                    }
                    cost[a] = Cell(claim: [Architecture.rnn: "low", .gru: "medium", .lstm: "high"][a]!,
                                   measured: "O(T H (In + H)): \(flopsPerToken(last)) kFLOP/token forward (counted); \(formatted(1e6 * mine)) us/token measured",
                                   verdict: verdict)
                }
            }
        }
        add("Computational complexity", cost)

        // Memory: the measured peak of a training step against T.
        var memory: [Architecture: Cell] = [:]
        for a in Architecture.allCases {
            let series = speed.series(a)
            guard let first = series.first, let last = series.last else { continue }
            guard let k = speed.memoryExponent(a), let low = first.peakMemoryBytes, let high = last.peakMemoryBytes else {
                memory[a] = Cell(claim: a == .transformer ? "O(T^2) (attention weights)" : "O(T) (a state per step)",
                                 measured: "peak memory not measurable here (/proc/self/clear_refs)", verdict: .notMeasured)
                continue
            }
            let measured = "peak step memory ~ T^\(formatted(k, 2)) (T = \(first.length): \(formatted(low / 1_048_576)) MiB, T = \(last.length): \(formatted(high / 1_048_576)) MiB)"
            if a == .transformer {
                // What the plain path (matmul, softmax, matmul) would keep: B h T^2 weights per layer.
                let weights = Double(speed.batch * (speed.width / ModelFamily.headWidth) * last.length * last.length * 4) / 1_048_576
                memory[a] = Cell(claim: "O(T^2) (attention weights)",
                                 measured: "\(measured); the fused attention kernel keeps no T x T weights (the plain path would keep \(formatted(weights)) MiB of them at T = \(last.length))",
                                 verdict: .from(k >= quadraticMemoryExponent))
            } else {
                memory[a] = Cell(claim: "O(T) (a state per step)", measured: measured, verdict: .from(linearMemoryExponents.contains(k)))
            }
        }
        add("Memory vs sequence length", memory)

        section.paragraph("""
            Each cell: the textbook's claim, this run's measurement, and the verdict computed from it. Rules: \
            long-term dependencies from experiment 2 ("poor" holds if the longest lag solved is below the best gated \
            model's, "good" if it is above the RNN's, "excellent" if the Transformer solves, on each task, a lag at \
            least as long as every recurrent model's); parallel processing from the growth of the training-step time \
            with T ("sequential" holds for an exponent of at least 0.7; "all steps at once" if \(speed.threads) threads \
            speed the Transformer's step up at least \(formatted(parallelSpeedUp, 2)) times and more than any recurrent \
            model's, at the longest T); vanishing gradient from experiment 1 after training ("severe": g(1)/g(d) > 100; \
            "mitigated": at least 10 times below the RNN's; "not an issue": below \(formatted(VanishingGradientsExperiment.nonVanishingRatio))); \
            speed and complexity from the measured training throughput at T = \(longest) (the Transformer's quadratic \
            term: step time growing faster than T^\(formatted(superlinearExponent, 2)) between the two longest lengths); \
            memory from the measured peak resident memory of one training step ("O(T)": exponent in \
            [\(formatted(linearMemoryExponents.lowerBound, 2)), \(formatted(linearMemoryExponents.upperBound, 2))]; "O(T^2)": at least \
            \(formatted(quadraticMemoryExponent, 2))). All models are one layer of width \(speed.width) (H, or D for the \
            Transformer: one causal pre-norm encoder layer, \(speed.width / ModelFamily.headWidth) heads, F = \(ModelFamily.feedForwardRatio) D, after an input \
            projection), In = \(speed.inputSize), batch \(speed.batch), \(speed.threads) thread(s). FLOPs are counted \
            from the equations, not measured; memory is measured (the growth of the resident size during one step).
            """)
        section.table(ReportTable(header: ["Property"] + Architecture.allCases.map(\.rawValue), rows: rows))

        // Plots: step time vs T (log-log), throughput bars, FLOPs and memory vs T.
        func seriesByArchitecture(_ value: (SpeedExperiment.Measurement) -> Double?) -> [LineSeries] {
            Architecture.allCases.map { a in
                LineSeries(name: a.rawValue, points: speed.series(a).compactMap { m in value(m).map { (x: Double(m.length), y: $0) } })
            }
        }
        let lengthAxis = Axis("sequence length T (steps)", scale: .log)
        let timeChart = LineChart(
            title: "Training-step time vs sequence length (width \(speed.width), batch \(speed.batch))",
            x: lengthAxis, y: Axis("time per training step (ms)", scale: .log), series: seriesByArchitecture { 1000 * $0.stepSeconds })
        section.figure("step_time", "Training-step time (forward, backward, Adam) against T, log-log: a slope of 1 is a sequential loop over time (or work linear in T), a steeper one a cost that grows faster than T.", timeChart.svg)
        let lengths = speed.measurements.map(\.length).reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }.sorted()
        let bars = GroupedBarChart(
            title: "Training throughput by sequence length (width \(speed.width))", groups: lengths.map { "T=\($0)" },
            groupAxisTitle: "sequence length", y: Axis("throughput (thousand tokens/s)"),
            series: Architecture.allCases.map { a in
                (a.rawValue, lengths.map { T in speed.measurements.first { $0.architecture == a && $0.length == T }.map { $0.tokensPerSecond / 1000 } })
            })
        section.figure("throughput", "Training tokens per second by sequence length.", bars.svg)
        let flopChart = LineChart(
            title: "Forward FLOPs per sequence vs length (counted)", x: lengthAxis, y: Axis("MFLOP per sequence", scale: .log),
            series: seriesByArchitecture { $0.forwardFLOPs / Double(speed.batch) / 1e6 })
        section.figure("flops", "Counted forward FLOPs per sequence: linear in T for the recurrent layers; the Transformer's attention adds a term in T^2.", flopChart.svg)
        let memoryChart = LineChart(
            title: "Peak memory of a training step vs length (measured)", x: lengthAxis, y: Axis("peak resident growth (MiB)", scale: .log),
            series: seriesByArchitecture { $0.peakMemoryBytes.map { $0 / 1_048_576 } })
        section.figure("memory", "Measured growth of the resident memory during one training step (batch \(speed.batch)), log-log.", memoryChart.svg)
        section.claims(claims)
        section.results = .object([
            ("width", .number(Double(speed.width))), ("batch", .number(Double(speed.batch))), ("threads", .number(Double(speed.threads))),
            ("timings", .array(speed.measurements.map { m in
                .object([("architecture", .string(m.architecture.rawValue)), ("length", .number(Double(m.length))),
                         ("step_seconds", .of(m.stepSeconds)), ("single_thread_step_seconds", .of(m.singleThreadStepSeconds)),
                         ("tokens_per_second", .of(m.tokensPerSecond)), ("forward_flops", .of(m.forwardFLOPs)),
                         ("peak_memory_bytes", .of(m.peakMemoryBytes))])
            })),
            ("length_exponent", .object(Architecture.allCases.map { ($0.rawValue, .of(speed.lengthExponent($0))) })),
            ("long_length_exponent", .object(Architecture.allCases.map { ($0.rawValue, .of(speed.longLengthExponent($0))) })),
            ("memory_exponent", .object(Architecture.allCases.map { ($0.rawValue, .of(speed.memoryExponent($0))) })),
        ])
        return section
    }
}
