import Foundation

/// Experiment 3: the textbook table of RNN, LSTM, GRU and Transformer, each cell the
/// textbook's claim beside this run's measurement and a verdict computed from it.
///
/// Every comparison follows `SeedComparison`'s rule: a difference beyond the spread of the
/// seeds, or for timings, per-round ratios of interleaved timing rounds whose spread lies
/// wholly on one side of 1 (`SeedComparison.higherPaired`); the rules of each row are stated
/// in the report's paragraph, written beside the code that applies them below.
public enum ComparisonTable {
    /// One cell: the claim, the measurement, the verdict.
    struct Cell {
        var claim: String
        var measured: String
        var verdict: Verdict
        var text: String { "claim: \(claim)\nmeasured: \(measured)\nverdict: **\(verdict.rawValue)**" }
    }

    /// The least growth exponent of step time between the two longest lengths that shows a
    /// term faster than linear.
    static let superlinearExponent = 1.1
    /// Throughput ratios within this fraction of 1 are ties (the paired timing rule).
    static let timingTie = 0.02
    /// The memory exponents of "O(T)".
    static let linearMemoryExponents = 0.7...1.3

    public static func section(
        gradients: VanishingGradientsExperiment.Result?, lags: LongLagExperiment.Result?,
        speed: SpeedExperiment.Result, attentionMemory: AttentionMemoryExperiment.Result? = nil, settings: LabSettings
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
            /// The longest lag solved on any task, one value per seed.
            func best(_ a: Architecture) -> SeedValues {
                let perTask = tasks.compactMap { lags.maxSolved($0, a)?.values }
                guard let first = perTask.first else { return SeedValues([]) }
                return SeedValues(first.indices.map { i in perTask.map { $0[i] }.max() ?? 0 })
            }
            func detail(_ a: Architecture) -> String {
                tasks.compactMap { t in lags.maxSolved(t, a).map { "\(t.rawValue) \($0.text())" } }.joined(separator: ", ")
            }
            let gatedBest = [best(.lstm), best(.gru)].max { $0.mean < $1.mean }!
            longTerm[.rnn] = Cell(claim: "poor", measured: "longest lag solved (0 = none): \(detail(.rnn))",
                                  verdict: SeedComparison.lower(best(.rnn), than: gatedBest))
            for a in [Architecture.lstm, .gru] {
                longTerm[a] = Cell(claim: "good", measured: "longest lag solved (0 = none): \(detail(a))",
                                   verdict: SeedComparison.higher(best(a), than: best(.rnn)))
            }
            // "Excellent": on no task does a recurrent model solve longer lags beyond the spread.
            let verdicts = tasks.map { t -> Verdict in
                guard let mine = lags.maxSolved(t, .transformer) else { return .inconclusive }
                let others = Architecture.recurrent.compactMap { lags.maxSolved(t, $0) }
                if others.contains(where: { SeedComparison.lower(mine, than: $0) == .held }) { return .notHeld }
                return mine.count < 2 ? .inconclusive : .held
            }
            longTerm[.transformer] = Cell(claim: "excellent (attention reaches every step)", measured: "longest lag solved (0 = none): \(detail(.transformer))",
                                          verdict: verdicts.contains(.notHeld) ? .notHeld : verdicts.allSatisfy { $0 == .held } ? .held : .inconclusive)
        }
        add("Handles long-term dependencies", longTerm)

        // Parallel processing, in the sense the claim is made: the critical path (dependent
        // steps per sequence: T for a recurrent layer, one per layer for the Transformer),
        // what 1 -> all threads buy, and the work done per second at equal FLOPs.
        var parallel: [Architecture: Cell] = [:]
        func last(_ a: Architecture) -> SpeedExperiment.Measurement? { speed.series(a).last }
        for a in Architecture.allCases {
            guard let k = speed.lengthExponent(a), let m = last(a) else { continue }
            let path = a == .transformer ? "critical path 1 layer (all \(m.length) steps at once)" : "critical path \(m.length) dependent steps"
            let threads = m.parallelSpeedUps.count > 0 ? "; 1 -> \(speed.threads) threads: \(m.parallelSpeedUps.text())x faster" : ""
            let measured = "\(path); step time ~ T^\(formatted(k, 2)); \(formatted(m.achievedFLOPRates.mean / 1e9)) GFLOP/s achieved (training, counted FLOPs)\(threads) (T = \(m.length), width \(speed.width))"
            if a == .transformer {
                // Both parts must hold; either one failing beyond the spread decides "did not
                // hold"; on one thread the speed-up part is missing, so it cannot hold.
                // Each part is judged round by round (the i-th timings of all models share a round).
                let recurrent = Architecture.recurrent.compactMap(last)
                var parts = recurrent.map { SeedComparison.higherPaired(m.achievedFLOPRates, than: $0.achievedFLOPRates, tie: timingTie) }
                let threadsMeasured = m.parallelSpeedUps.count >= 2 && recurrent.allSatisfy { $0.parallelSpeedUps.count >= 2 }
                if threadsMeasured {
                    parts += recurrent.map { SeedComparison.higherPaired(m.parallelSpeedUps, than: $0.parallelSpeedUps, tie: timingTie) }
                }
                let verdict: Verdict = parts.contains(.notHeld) ? .notHeld
                    : threadsMeasured && parts.allSatisfy { $0 == .held } ? .held : .inconclusive
                parallel[a] = Cell(claim: "yes (all steps at once: more threads and more FLOP/s than the recurrent models on this machine)",
                                   measured: measured, verdict: verdict)
            } else {
                parallel[a] = Cell(claim: "no (sequential over time)", measured: measured, verdict: .from(k >= 0.7))
            }
        }
        add("Parallel processing", parallel)

        // Vanishing gradient, from experiment 1 (after training).
        var vanishing: [Architecture: Cell] = [:]
        if let gradients, let d = VanishingGradientsExperiment.judgedDistance(gradients) {
            let rnnRatio = gradients.curve(.rnn, trained: true)?.logRatios(distance: d)
            for a in Architecture.allCases {
                guard let trained = gradients.curve(a, trained: true)?.logRatios(distance: d),
                      let initial = gradients.curve(a, trained: false)?.logRatios(distance: d), let rnnRatio else { continue }
                let measured = "log10 g(1)/g(\(d)) = \(trained.text()) after training (\(initial.text()) at initialisation)"
                vanishing[a] = switch a {
                case .rnn: Cell(claim: "severe", measured: measured, verdict: SeedComparison.above(trained, 2))
                case .transformer: Cell(claim: "not an issue (no recurrence)", measured: measured,
                                        verdict: SeedComparison.below(trained, Foundation.log10(VanishingGradientsExperiment.nonVanishingRatio)))
                default: Cell(claim: "mitigated", measured: measured,
                              verdict: SeedComparison.lower(trained, than: SeedValues(rnnRatio.values.map { $0 - 1 })))
                }
            }
        }
        add("Vanishing gradient", vanishing)

        // Training speed at the longest length, each model's i-th value from the i-th
        // interleaved timing round, compared round by round: the recurrent models' claims on
        // the work of a step (CPU seconds on one thread, which other processes on the cores
        // do not inflate), the Transformer's "parallel over time" on wall-clock throughput
        // on all threads, where parallelism shows.
        var speedCells: [Architecture: Cell] = [:]
        let longest = speed.measurements.map(\.length).max() ?? 0
        let atLongest = speed.measurements.filter { $0.length == longest }
        func tokensPer(_ seconds: (SpeedExperiment.Measurement) -> [Double]) -> [Architecture: SeedValues] {
            Dictionary(uniqueKeysWithValues: atLongest.map { m in (m.architecture, SeedValues(seconds(m).map { Double(speed.batch * m.length) / $0 })) })
        }
        let rates = tokensPer { $0.repeats.isEmpty ? [$0.stepSeconds] : $0.repeats }
        let work = tokensPer(\.workSeconds)
        let workOnOneThread = atLongest.allSatisfy { !$0.singleThreadCPURepeats.isEmpty }
        func all(_ verdicts: [Verdict]) -> Verdict {
            verdicts.allSatisfy { $0 == .held } ? .held : verdicts.contains(.notHeld) ? .notHeld : .inconclusive
        }
        /// "4.5 ± 0.2x the LSTM's": a's value over each other's, per round.
        func ratios(_ values: [Architecture: SeedValues], _ a: Architecture, _ others: [Architecture]) -> String {
            others.map { "\(SeedComparison.pairedRatios(values[a]!, values[$0]!).text())x the \($0.rawValue)'s" }.joined(separator: ", ")
        }
        func faster(_ values: [Architecture: SeedValues], _ a: Architecture, than others: [Architecture]) -> Verdict {
            all(others.map { SeedComparison.higherPaired(values[a]!, than: values[$0]!, tie: timingTie) })
        }
        func slower(_ values: [Architecture: SeedValues], _ a: Architecture, than others: [Architecture]) -> Verdict {
            all(others.map { SeedComparison.lowerPaired(values[a]!, than: values[$0]!, tie: timingTie) })
        }
        let workName = workOnOneThread ? "tokens per CPU second on one thread" : "tokens per CPU second"
        let complete = rates.count == Architecture.allCases.count && work.values.allSatisfy { $0.count >= 2 }
        if complete {
            func text(_ a: Architecture, _ others: [Architecture], on values: [Architecture: SeedValues], _ name: String) -> String {
                let r = rates[a]!
                return "\(SeedValues(r.values.map { $0 / 1000 }).text()) k tokens/s (training, T = \(longest), width \(speed.width), \(speed.threads) thread(s), \(r.count) interleaved rounds); \(name) per round: \(ratios(values, a, others))"
            }
            speedCells[.rnn] = Cell(claim: "fast (fastest of the three recurrent)", measured: text(.rnn, [.lstm, .gru], on: work, workName),
                                    verdict: faster(work, .rnn, than: [.lstm, .gru]))
            speedCells[.lstm] = Cell(claim: "slow (slowest of the three recurrent)", measured: text(.lstm, [.rnn, .gru], on: work, workName),
                                     verdict: slower(work, .lstm, than: [.rnn, .gru]))
            speedCells[.gru] = Cell(claim: "faster than LSTM", measured: text(.gru, [.lstm], on: work, workName), verdict: faster(work, .gru, than: [.lstm]))
            speedCells[.transformer] = Cell(claim: "fast (parallel over time: faster than LSTM and GRU)",
                                            measured: text(.transformer, [.lstm, .gru], on: rates, "wall-clock tokens/s"),
                                            verdict: faster(rates, .transformer, than: [.lstm, .gru]))
        }
        add("Training speed", speedCells)

        // Computational complexity: counted FLOPs per token, measured time per token.
        var cost: [Architecture: Cell] = [:]
        if complete {
            for a in Architecture.allCases {
                guard let first = speed.series(a).first, let last = speed.series(a).last else { continue }
                func flopsPerToken(_ m: SpeedExperiment.Measurement) -> String {
                    formatted(m.forwardFLOPs / Double(speed.batch * m.length) / 1000)
                }
                let mine = 1 / last.tokensPerSecond
                switch a {
                case .transformer:
                    let k = speed.longLengthExponents(a)
                    let pair = speed.series(a).suffix(2).map { "\($0.length)" }.joined(separator: " and ")
                    cost[a] = Cell(claim: "O(T^2 d) time (the cost per token grows with T)",
                                   measured: "O(T D^2 + T^2 D): \(flopsPerToken(first)) kFLOP/token forward at T = \(first.length), \(flopsPerToken(last)) at T = \(last.length) (counted); CPU time per step ~ T^\(k.text(2)) between T = \(pair) (\(k.count) interleaved rounds); \(formatted(1e6 * mine)) us/token measured",
                                   verdict: SeedComparison.above(k, superlinearExponent))
                default:
                    // Cost per token is 1 / throughput: compared through the rounds' work.
                    let verdict: Verdict = switch a {
                    case .rnn: faster(work, .rnn, than: [.lstm, .gru])
                    case .lstm: slower(work, .lstm, than: [.rnn, .gru])
                    default: all([slower(work, .gru, than: [.rnn]), faster(work, .gru, than: [.lstm])])
                    }
                    let others = Architecture.recurrent.filter { $0 != a }
                    cost[a] = Cell(claim: [Architecture.rnn: "low", .gru: "medium", .lstm: "high"][a]!,
                                   measured: "O(T H (In + H)): \(flopsPerToken(last)) kFLOP/token forward (counted); \(formatted(1e6 * mine)) us/token measured (wall); \(workName) per round: \(ratios(work, a, others))",
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
                // The claim is about standard attention: judged on the plain path, which
                // stores the T x T weights; the fused kernel the Transformer runs on does not.
                if let attentionMemory, let plain = attentionMemory.plainExponent {
                    let fused = attentionMemory.fusedExponent.map { "T^\(formatted($0, 2))" } ?? "not measured"
                    memory[a] = Cell(claim: "O(T^2) (attention weights)",
                                     measured: "standard attention (plain path): peak ~ T^\(formatted(plain, 2)); the fused kernel this Transformer runs on keeps no T x T weights: ~ \(fused); this model's whole training step: \(measured)",
                                     verdict: .from(plain >= AttentionMemoryExperiment.quadraticExponent))
                } else {
                    memory[a] = Cell(claim: "O(T^2) (attention weights)",
                                     measured: "\(measured), on the fused attention kernel, which keeps no T x T weights (the plain path was not measured)",
                                     verdict: .inconclusive)
                }
            } else {
                memory[a] = Cell(claim: "O(T) (a state per step)", measured: measured, verdict: .from(linearMemoryExponents.contains(k)))
            }
        }
        add("Memory vs sequence length", memory)

        section.paragraph("""
            Each cell: the textbook's claim, this run's measurement, and the verdict computed from it. Comparisons follow \
            one rule: \(SeedComparison.rule). The spread is over the seeds for the results of experiments 1 and 2. Timings \
            (speed, complexity, parallel processing) are measured at the two longest T in \(settings.speedRounds) interleaved \
            rounds (each round one training step of every model in turn, after warm-up steps, on all threads and, at the \
            longest T, then on one), so that the machine's load drifts hit all models alike, and \(SeedComparison.pairedRule) \
            (tie margin \(formatted(100 * timingTie))%). The recurrent models' speed and complexity claims are about the work a \
            token costs, so they are judged on the CPU seconds of each step on one thread (tokens per CPU second), which \
            other processes sharing the cores do not inflate as they do wall time; the Transformer's "fast because parallel" \
            and the parallel-processing row on wall-clock time, where parallelism shows; the tokens/s shown are wall-clock on \
            all threads. The shorter lengths' step times (the curves) are the best of \(settings.speedRepeats) timed steps. Rules: long-term dependencies \
            from experiment 2 ("poor": the RNN's longest solved lag below the better gated model's; "good": above the RNN's; \
            "excellent": on no task a recurrent model solves longer lags); parallel processing in the sense the claim is made: \
            the critical path (dependent steps per sequence: T for a recurrent layer, one per layer for the Transformer), the \
            speed-up from 1 to \(speed.threads) threads and the FLOP/s achieved at the longest T (equal counted FLOPs per \
            second, training = 3 x forward); "sequential" holds if step time grows at least like T^0.7; the Transformer's "all \
            steps at once" if both its speed-up and its FLOP/s exceed every recurrent model's beyond the spread, on this \
            machine and at these sizes; vanishing gradient from experiment 1 after training ("severe": g(1)/g(d) > 100; \
            "mitigated": at least 10 times below the RNN's; "not an issue": below \(formatted(VanishingGradientsExperiment.nonVanishingRatio))); \
            speed and complexity from the training throughput at T = \(longest) (the Transformer's quadratic term: step time \
            growing faster than T^\(formatted(superlinearExponent, 2)) between the two longest lengths in CPU seconds, both timed in every round, \
            the per-round exponents' mean ± sd wholly above it); memory from the \
            measured peak resident memory of one training step ("O(T)": exponent in [\(formatted(linearMemoryExponents.lowerBound, 2)), \
            \(formatted(linearMemoryExponents.upperBound, 2))]); the Transformer's "O(T^2)" from standard attention's plain path \
            (measured below, beside the fused kernel). All models are one layer of width \(speed.width) (H, or D for the \
            Transformer: one causal pre-norm encoder layer, \(speed.width / ModelFamily.headWidth) heads, F = \(ModelFamily.feedForwardRatio) D, after an input \
            projection), In = \(speed.inputSize), batch \(speed.batch), \(speed.threads) thread(s), steps on the Trainer \
            (gradient norm clipped to 1). FLOPs are counted from the equations, not measured.
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
        if let attentionMemory {
            claims += AttentionMemoryExperiment.report(attentionMemory, into: &section)
        }
        section.claims(claims)
        section.results = .object([
            ("width", .number(Double(speed.width))), ("batch", .number(Double(speed.batch))), ("threads", .number(Double(speed.threads))),
            ("timing_rounds", .number(Double(settings.speedRounds))), ("timing_tie", .number(timingTie)),
            ("timings", .array(speed.measurements.map { m in
                .object([("architecture", .string(m.architecture.rawValue)), ("length", .number(Double(m.length))),
                         ("step_seconds", .of(m.stepSeconds)), ("single_thread_step_seconds", .of(m.singleThreadStepSeconds)),
                         ("tokens_per_second", .of(m.tokensPerSecond)), ("forward_flops", .of(m.forwardFLOPs)),
                         ("repeat_seconds", .of(m.repeats)), ("single_thread_repeat_seconds", .of(m.singleThreadRepeats)),
                         ("repeat_cpu_seconds", .of(m.cpuRepeats)), ("single_thread_repeat_cpu_seconds", .of(m.singleThreadCPURepeats)),
                         ("peak_memory_bytes", .of(m.peakMemoryBytes))])
            })),
            ("length_exponent", .object(Architecture.allCases.map { ($0.rawValue, .of(speed.lengthExponent($0))) })),
            ("long_length_exponents", .object(Architecture.allCases.map { ($0.rawValue, speed.longLengthExponents($0).json) })),
            ("memory_exponent", .object(Architecture.allCases.map { ($0.rawValue, .of(speed.memoryExponent($0))) })),
            ("attention_memory", attentionMemory.map { memory in .object([
                ("plain_exponent", .of(memory.plainExponent)), ("fused_exponent", .of(memory.fusedExponent)),
                ("measurements", .array(memory.measurements.map { m in
                    .object([("length", .number(Double(m.length))), ("plain_bytes", .of(m.plainBytes)), ("fused_bytes", .of(m.fusedBytes)),
                             ("weight_bytes_computed", .of(m.weightBytes))])
                })),
            ]) } ?? .null),
        ])
        return section
    }
}
