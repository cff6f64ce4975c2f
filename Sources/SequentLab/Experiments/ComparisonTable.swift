import Foundation

/// Experiment 3: the textbook table of RNN, LSTM, GRU and Transformer, each cell the
/// textbook's claim beside this run's measurement and a verdict computed from it.
///
/// The rules (stated in the report too):
/// - long-term dependencies: "poor" holds if the model's longest solved lag (experiment 2,
///   both tasks) is below the best gated model's; "good" holds if it is above the RNN's.
/// - parallel processing: "no (sequential)" holds if step time grows at least like T^0.7.
/// - vanishing gradient: "severe" holds if g(1)/g(d) > 100 after training; "mitigated"
///   holds if it is at least 10 times smaller than the RNN's.
/// - training speed and complexity: the order of the measured tokens per second at the
///   longest length, at one hidden size.
public enum ComparisonTable {
    /// One cell: the claim, the measurement, the verdict.
    struct Cell {
        var claim: String
        var measured: String
        var verdict: Verdict
        var text: String { "claim: \(claim)\nmeasured: \(measured)\nverdict: **\(verdict.rawValue)**" }
    }

    public static func section(
        gradients: VanishingGradientsExperiment.Result?, lags: LongLagExperiment.Result?,
        speed: SpeedExperiment.Result, settings: LabSettings
    ) -> ReportSection {
        var section = ReportSection(title: "3. The comparison table")
        let missing = Cell(claim: "", measured: "not yet measured (no Transformer in this build)", verdict: .notMeasured)
        let transformerClaims = ["excellent (attention reaches every step)", "yes (all steps at once)",
                                 "not an issue (no recurrence)", "fast (parallel over time)", "O(T^2 d) time, O(T^2) attention memory"]
        var rows: [[String]] = []
        var claims: [Claim] = []
        func add(_ row: String, _ cells: [Architecture: Cell], transformerClaim: String) {
            var out = [row]
            for a in Architecture.allCases {
                var cell = cells[a] ?? missing
                if a == .transformer { cell.claim = transformerClaim }
                out.append(cell.text)
                claims.append(Claim("\(row): \(a.rawValue) is \(cell.claim)", measured: cell.measured, verdict: cell.verdict))
            }
            rows.append(out)
        }

        // Long-term dependencies, from experiment 2.
        var longTerm: [Architecture: Cell] = [:]
        if let lags {
            func best(_ a: Architecture) -> Int { LongLagExperiment.Task.allCases.compactMap { lags.maxSolved($0, a) }.max() ?? 0 }
            func detail(_ a: Architecture) -> String {
                LongLagExperiment.Task.allCases.compactMap { t in lags.maxSolved(t, a).map { "\(t.rawValue) \($0 == 0 ? "none" : "T = \($0)")" } }.joined(separator: ", ")
            }
            let gatedBest = max(best(.lstm), best(.gru))
            let anySolved = max(gatedBest, best(.rnn)) > 0
            longTerm[.rnn] = Cell(claim: "poor", measured: "longest lag solved: \(detail(.rnn))",
                                  verdict: anySolved ? .from(best(.rnn) < gatedBest) : .inconclusive)
            for a in [Architecture.lstm, .gru] {
                longTerm[a] = Cell(claim: "good", measured: "longest lag solved: \(detail(a))",
                                   verdict: anySolved ? .from(best(a) > best(.rnn)) : .inconclusive)
            }
        }
        add("Handles long-term dependencies", longTerm, transformerClaim: transformerClaims[0])

        // Parallel processing: does step time grow with T as a sequential loop does?
        var parallel: [Architecture: Cell] = [:]
        for a in Architecture.recurrent {
            guard let k = speed.lengthExponent(a) else { continue }
            let series = speed.series(a)
            parallel[a] = Cell(claim: "no (sequential over time)",
                               measured: "step time ~ T^\(formatted(k, 2)) (T = \(series.first!.length): \(formatted(1000 * series.first!.stepSeconds)) ms, T = \(series.last!.length): \(formatted(1000 * series.last!.stepSeconds)) ms); \(series.last!.length) dependent steps",
                               verdict: .from(k >= 0.7))
        }
        add("Parallel processing", parallel, transformerClaim: transformerClaims[1])

        // Vanishing gradient, from experiment 1 (after training).
        var vanishing: [Architecture: Cell] = [:]
        if let gradients, let d = VanishingGradientsExperiment.judgedDistance(gradients) {
            let rnnRatio = gradients.curve(.rnn, trained: true)?.ratio(distance: d)
            for a in Architecture.recurrent {
                guard let trained = gradients.curve(a, trained: true)?.ratio(distance: d),
                      let initial = gradients.curve(a, trained: false)?.ratio(distance: d), let rnnRatio else { continue }
                let measured = "g(1)/g(\(d)) = \(formatted(trained)) after training (\(formatted(initial)) at initialisation)"
                vanishing[a] = a == .rnn
                    ? Cell(claim: "severe", measured: measured, verdict: .from(trained > 100))
                    : Cell(claim: "mitigated", measured: measured,
                           verdict: trained.isInfinite && rnnRatio.isInfinite ? .inconclusive : .from(trained * 10 <= rnnRatio))
            }
        }
        add("Vanishing gradient", vanishing, transformerClaim: transformerClaims[2])

        // Training speed: tokens per second at the longest length.
        var speedCells: [Architecture: Cell] = [:]
        let longest = speed.measurements.map(\.length).max() ?? 0
        let rate = Dictionary(uniqueKeysWithValues: speed.measurements.filter { $0.length == longest }.map { ($0.architecture, $0.tokensPerSecond) })
        if let rnn = rate[.rnn], let lstm = rate[.lstm], let gru = rate[.gru] {
            func text(_ a: Architecture) -> String { "\(formatted(rate[a]! / 1000)) k tokens/s (training, T = \(longest), H = \(speed.hidden))" }
            speedCells[.rnn] = Cell(claim: "fast (fastest of the three)", measured: text(.rnn), verdict: .from(rnn > lstm && rnn > gru))
            speedCells[.lstm] = Cell(claim: "slow (slowest of the three)", measured: text(.lstm), verdict: .from(lstm < rnn && lstm < gru))
            speedCells[.gru] = Cell(claim: "faster than LSTM", measured: text(.gru), verdict: .from(gru > lstm))
        }
        add("Training speed", speedCells, transformerClaim: transformerClaims[3])

        // Computational complexity: counted FLOPs and activations per token, measured time per token.
        var cost: [Architecture: Cell] = [:]
        let claimsByCell: [Architecture: String] = [.rnn: "low", .gru: "medium", .lstm: "high"]
        if let rnn = rate[.rnn], let lstm = rate[.lstm], let gru = rate[.gru] {
            let timePerToken: [Architecture: Double] = [.rnn: 1 / rnn, .lstm: 1 / lstm, .gru: 1 / gru]
            for a in Architecture.recurrent {
                guard let m = speed.series(a).last else { continue }
                let flopsPerToken = m.forwardFLOPs / Double(speed.batch * m.length)
                let bytesPerToken = m.activationBytes / Double(m.length)
                let mine = timePerToken[a]!
                let others = timePerToken.filter { $0.key != a }.map(\.value)
                let verdict: Verdict = switch a {
                case .rnn: .from(others.allSatisfy { mine < $0 })
                case .lstm: .from(others.allSatisfy { mine > $0 })
                default: .from(mine > timePerToken[.rnn]! && mine < timePerToken[.lstm]!)
                }
                cost[a] = Cell(claim: claimsByCell[a]!,
                               measured: "O(T H (In + H)): \(formatted(flopsPerToken / 1000)) kFLOP/token forward, \(formatted(bytesPerToken / 1024)) KiB stored/token; \(formatted(1e6 * mine)) us/token measured",
                               verdict: verdict)
            }
        }
        add("Computational complexity", cost, transformerClaim: transformerClaims[4])

        section.paragraph("""
            Each cell: the textbook's claim, this run's measurement, and the verdict computed from it. Rules: \
            long-term dependencies from experiment 2 ("poor" holds if the longest lag solved is below the best gated \
            model's, "good" if it is above the RNN's); parallel processing from the growth of the training-step time \
            with T ("sequential" holds for an exponent of at least 0.7); vanishing gradient from experiment 1 after \
            training ("severe": g(1)/g(d) > 100; "mitigated": at least 10 times below the RNN's); speed and complexity \
            from the order of the measured training throughput at T = \(longest), all models with H = \(speed.hidden), \
            In = \(speed.inputSize), batch \(speed.batch). FLOPs and stored floats are counted from the cell equations, \
            not measured. The Transformer column is not yet measured: SequentNN has no Transformer in this build.
            """)
        section.table(ReportTable(header: ["Property"] + Architecture.allCases.map(\.rawValue), rows: rows))

        // Plots: step time vs T (log-log), throughput bars, FLOPs vs T.
        let timeChart = LineChart(
            title: "Training-step time vs sequence length (H = \(speed.hidden), batch \(speed.batch))",
            x: Axis("sequence length T (steps)", scale: .log), y: Axis("time per training step (ms)", scale: .log),
            series: Architecture.recurrent.map { a in LineSeries(name: a.rawValue, points: speed.series(a).map { (x: Double($0.length), y: 1000 * $0.stepSeconds) }) })
        section.figure("step_time", "Training-step time (forward, backward, Adam) against T, log-log: a slope of 1 is a sequential loop over time.", timeChart.svg)
        let lengths = speed.measurements.map(\.length).reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }.sorted()
        let bars = GroupedBarChart(
            title: "Training throughput by sequence length (H = \(speed.hidden))", groups: lengths.map { "T=\($0)" },
            groupAxisTitle: "sequence length", y: Axis("throughput (thousand tokens/s)"),
            series: Architecture.allCases.map { a in
                (a.rawValue, lengths.map { T in speed.measurements.first { $0.architecture == a && $0.length == T }.map { $0.tokensPerSecond / 1000 } })
            })
        section.figure("throughput", "Training tokens per second; n/m = not yet measured (Transformer).", bars.svg)
        let flopChart = LineChart(
            title: "Forward cost per sequence vs length (counted)",
            x: Axis("sequence length T (steps)", scale: .log), y: Axis("MFLOP per sequence / KiB stored per sequence", scale: .log),
            series: Architecture.recurrent.enumerated().flatMap { i, a in [
                LineSeries(name: "\(a.rawValue) MFLOP", points: speed.series(a).map { (x: Double($0.length), y: $0.forwardFLOPs / Double(speed.batch) / 1e6) }, colorIndex: i),
                LineSeries(name: "\(a.rawValue) KiB", points: speed.series(a).map { (x: Double($0.length), y: $0.activationBytes / 1024) }, dashed: true, colorIndex: i),
            ] })
        section.figure("cost", "Counted forward FLOPs (solid) and activation memory kept for backward (dashed) per sequence: both linear in T.", flopChart.svg)
        section.claims(claims)
        section.results = .object([
            ("hidden", .number(Double(speed.hidden))), ("batch", .number(Double(speed.batch))),
            ("timings", .array(speed.measurements.map { m in
                .object([("architecture", .string(m.architecture.rawValue)), ("length", .number(Double(m.length))),
                         ("step_seconds", .of(m.stepSeconds)), ("tokens_per_second", .of(m.tokensPerSecond)),
                         ("forward_flops", .of(m.forwardFLOPs)), ("activation_bytes", .of(m.activationBytes))])
            })),
            ("length_exponent", .object(Architecture.recurrent.map { ($0.rawValue, .of(speed.lengthExponent($0))) })),
        ])
        return section
    }
}
