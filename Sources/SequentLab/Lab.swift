import Foundation
import SequentData
import SequentTensor

/// The lab's experiments, in the order they run and appear in the report.
public enum LabExperiment: String, CaseIterable, Sendable {
    case gradients
    case lags
    case table
    case attention
    case data
    case memory

    public var title: String {
        switch self {
        case .gradients: return "vanishing gradients"
        case .lags: return "long lags (adding problem, copy memory)"
        case .table: return "comparison table (speed, cost, and the results of 1 and 2)"
        case .attention: return "attention at work (seq2seq reversal)"
        case .data: return "real data (Tiny Shakespeare in the full run, or --text; --csv)"
        case .memory: return "external memory (NTM copy, memory networks on bAbI)"
        }
    }

    /// The experiment named `name`, or a `SequentError` listing the names.
    public static func named(_ name: String) throws -> LabExperiment {
        guard let experiment = LabExperiment(rawValue: name.lowercased()) else {
            throw SequentError.invalidArgument("sequent lab", "unknown experiment '\(name)'; choose one of \(allCases.map(\.rawValue).joined(separator: ", ")) or all")
        }
        return experiment
    }
}

/// Files given for experiment 5.
public struct LabInputs: Sendable {
    public var textFile: URL?
    public var csvFile: URL?
    public var csvColumn: String?
    /// The season of the seasonal-naive baseline, in rows (12 for monthly data).
    public var season: Int

    public init(textFile: URL? = nil, csvFile: URL? = nil, csvColumn: String? = nil, season: Int = 12) {
        self.textFile = textFile
        self.csvFile = csvFile
        self.csvColumn = csvColumn
        self.season = season
    }
}

/// Runs the chosen experiments and assembles their report.
public struct Lab {
    public var settings: LabSettings
    public var inputs: LabInputs
    public var progress: LabProgress

    public init(settings: LabSettings, inputs: LabInputs = LabInputs(), progress: LabProgress = .silent) {
        self.settings = settings
        self.inputs = inputs
        self.progress = progress
    }

    /// Checks the inputs before anything runs: files that exist and a column the CSV has.
    public func validateInputs() throws {
        if let text = inputs.textFile { _ = try RealDataExperiment.readText(text) }
        if let csv = inputs.csvFile {
            guard let column = inputs.csvColumn else {
                throw SequentError.invalidArgument("sequent lab", "--csv needs --column NAME (the column to forecast)")
            }
            _ = try TimeSeries.load(csv, column: column)
        } else if inputs.csvColumn != nil {
            throw SequentError.invalidArgument("sequent lab", "--column needs --csv FILE")
        }
        guard inputs.season >= 1 else { throw SequentError.invalidArgument("sequent lab", "--season must be at least 1, got \(inputs.season)") }
    }

    /// Runs `experiments` (the table also runs 1 and 2, whose results it is built from).
    ///
    /// - Parameter finished: called after each experiment with the report of those finished
    ///   so far (marked incomplete), so that an interrupted run can still write them.
    public func run(_ experiments: [LabExperiment], finished: (LabReport) -> Void = { _ in }) throws -> LabReport {
        try validateInputs()
        let chosen = Set(experiments)
        let start = DispatchTime.now().uptimeNanoseconds
        let (sections, seconds) = try Parallelism.withSubnormalsFlushedToZero { try timed { () throws -> [ReportSection] in
            var sections: [ReportSection] = [] {
                didSet {
                    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    finished(report(experiments, sections: sections, seconds: elapsed, complete: false))
                }
            }
            var gradients: VanishingGradientsExperiment.Result?
            var lags: LongLagExperiment.Result?
            let total = LabExperiment.allCases.filter { chosen.contains($0) || ($0 != .table && chosen.contains(.table) && [.gradients, .lags].contains($0)) }
            func stage(_ experiment: LabExperiment) -> LabProgress {
                let index = (total.firstIndex(of: experiment) ?? 0) + 1
                let progress = self.progress
                return LabProgress { progress("[\(index)/\(total.count)] \($0)") }
            }
            if chosen.contains(.gradients) || chosen.contains(.table) {
                let result = try VanishingGradientsExperiment(settings: settings, progress: stage(.gradients)).run()
                gradients = result
                sections.append(VanishingGradientsExperiment.section(result, settings: settings))
            }
            if chosen.contains(.lags) || chosen.contains(.table) {
                let result = try LongLagExperiment(settings: settings, progress: stage(.lags)).run()
                lags = result
                sections.append(LongLagExperiment.section(result, settings: settings))
            }
            if chosen.contains(.table) {
                let speed = try SpeedExperiment(settings: settings, progress: stage(.table)).run()
                let memory = try AttentionMemoryExperiment(settings: settings, progress: stage(.table)).run()
                sections.append(ComparisonTable.section(gradients: gradients, lags: lags, speed: speed, attentionMemory: memory, settings: settings))
            }
            if chosen.contains(.attention) {
                let result = try AttentionExperiment(settings: settings, progress: stage(.attention)).run()
                sections.append(AttentionExperiment.section(result, settings: settings))
            }
            if chosen.contains(.data) {
                sections.append(try RealDataExperiment(settings: settings, inputs: inputs, progress: stage(.data)).section())
            }
            if chosen.contains(.memory) {
                sections.append(MemoryExperiment.section(try MemoryExperiment(settings: settings, progress: stage(.memory)).run(), settings: settings))
            }
            return sections
        } }
        return report(experiments, sections: sections, seconds: seconds, complete: true)
    }

    /// The report of `sections`; an incomplete one says which experiments it lacks.
    func report(_ experiments: [LabExperiment], sections: [ReportSection], seconds: Double, complete: Bool) -> LabReport {
        let claims = sections.flatMap(\.allClaims)
        let count = { (v: Verdict) in claims.filter { $0.verdict == v }.count }
        var preamble = complete ? [] : [
            "**Incomplete**: the run was interrupted after \(sections.count) section(s) (\(sections.map(\.title).joined(separator: "; "))); the experiments after them did not run.",
        ]
        preamble += [
            settings.isQuick
                ? "Mode: **--quick** (the verdicts are those of short training runs; run without --quick for the full budgets). It cuts: \(settings.cutsAgainstFull.joined(separator: "; "))."
                : "Mode: full budgets.",
            "Set-up: every model trains on the Trainer with Adam and its gradient norm clipped; each model's learning rate comes from its own sweep on validation data with the same budget for all (experiments 1, 2, 4 and 5; experiment 6 keeps the rates and settings of `sequent memory`, the same for both sides, with the lab's seeds); the LSTM starts with forget-gate bias 1\(settings.longLagChrono ? " (chrono initialisation on the long-lag tasks)" : "") and is shown once with PyTorch's default initialisation (experiment 1). Verdicts: \(SeedComparison.rule).",
            "Experiments: \(experiments.map(\.rawValue).joined(separator: ", ")); seeds \(settings.seeds.map(String.init).joined(separator: ", ")).",
            "Machine: \(Parallelism.coreCount) cores, \(Parallelism.threadCount) thread(s) used, Float32 on oneDNN, subnormals flushed to zero; run time \(String(format: "%.1f", seconds)) s; load average at the end \(LabReport.loadAverage) (timings are disturbed when other processes share the cores).",
            "Claims: \(claims.count), of which \(count(.held)) held, \(count(.notHeld)) did not hold, \(count(.inconclusive)) inconclusive, \(count(.notMeasured)) not measured. Every verdict is computed from the measurements of this run.",
        ]
        return LabReport(title: "Sequent lab: the field's claims about sequence models, measured", preamble: preamble, sections: sections)
    }
}
