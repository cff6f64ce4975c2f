import ArgumentParser
import Foundation
import SequentTensor

/// `sequent-bench`: Sequent's throughput on the workloads of shared/bench/torch_rnn_bench.py,
/// printed as the same JSON lines.
@main
struct SequentBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sequent-bench",
        abstract: "Time Sequent on the reference workloads; print one JSON line per result.",
        discussion: """
            Timing as in torch_rnn_bench.py: 2 warm-up calls, then the median of 7 calls \
            (3 with --quick); stream mode averages 200 tokens after 20 warm-up tokens.
            Without --workload every registered workload runs; without --mode every mode \
            (and the mode-less kernel workloads, such as sgemm-2048).
            """)


    @Option(name: .customLong("workload"), help: "A workload to run (repeatable, or comma-separated); see --list.")
    var workloads: [String] = []

    @Option(help: "Only this mode: train, infer or stream.")
    var mode: String?

    @Option(help: "Threads for oneDNN and Sequent's kernels (default: all \(Parallelism.coreCount) cores).")
    var threads: Int?

    @Option(help: "Weights of the stream mode: float32 (default) or bfloat16 (half the bytes per token; adds \"weights\" to the line).")
    var streamWeights: String = "float32"

    @Option(help: "Matrix products of the infer mode: float32 (default) or bfloat16 (inputs rounded to bfloat16, sums in Float; adds \"matmul_precision\" to the line).")
    var matmulPrecision: String = "float32"

    @Flag(help: "Fewer repetitions (3 instead of 7).")
    var quick = false

    @Flag(help: "List the workloads and their modes, then exit.")
    var list = false

    func validate() throws {
        if let mode, Mode(rawValue: mode) == nil {
            throw ValidationError("--mode must be one of \(Mode.allCases.map(\.rawValue).joined(separator: ", ")); got '\(mode)'")
        }
        if WeightPrecision(rawValue: streamWeights) == nil {
            throw ValidationError("--stream-weights must be float32 or bfloat16; got '\(streamWeights)'")
        }
        if MatmulPrecision(rawValue: matmulPrecision) == nil {
            throw ValidationError("--matmul-precision must be float32 or bfloat16; got '\(matmulPrecision)'")
        }
        do { _ = try Parallelism.checkedThreadCount(threads) } catch { throw ValidationError("\(error)") }
        if workloads.contains(where: { $0.split(separator: ",").isEmpty }) || requestedNames.contains(where: \.isEmpty) {
            throw ValidationError("--workload needs a name; known: \(Workload.registry.map(\.name).joined(separator: ", "))")
        }
        for name in requestedNames where Workload.named(name) == nil {
            throw ValidationError("unknown workload '\(name)'; known: \(Workload.registry.map(\.name).joined(separator: ", "))")
        }
        if let mode = mode.flatMap(Mode.init(rawValue:)) {
            for name in requestedNames {
                let workload = Workload.named(name)!
                if !workload.modes.contains(mode) {
                    let has = workload.modes.isEmpty ? "no modes (a kernel benchmark)" : "modes \(workload.modes.map(\.rawValue).joined(separator: ", "))"
                    throw ValidationError("workload '\(name)' has no \(mode.rawValue) mode; it has \(has)")
                }
            }
        }
    }

    /// The names given with --workload, split at commas.
    private var requestedNames: [String] {
        workloads.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    func run() throws {
        Memory.keepFreedMemoryForReuse()
        if list {
            for workload in Workload.registry {
                let modes = workload.modes.isEmpty ? "kernel" : workload.modes.map(\.rawValue).joined(separator: ",")
                print("\(workload.name.padding(toLength: 14))  \(modes.padding(toLength: 18))  \(workload.summary)")
            }
            return
        }
        let selected = requestedNames.isEmpty ? Workload.registry : requestedNames.map { Workload.named($0)! }
        let onlyMode = mode.flatMap(Mode.init(rawValue:))
        let reps = quick ? 3 : 7
        let context = BenchContext(reps: reps, emit: { $0.emit() })
        var ranAny = false
        Parallelism.withThreads(threads ?? Parallelism.coreCount) {
            for workload in selected {
                for mode in workload.modes where onlyMode == nil || onlyMode == mode {
                    measure(workload, mode: mode, reps: reps, streamWeights: WeightPrecision(rawValue: streamWeights)!,
                            matmulPrecision: MatmulPrecision(rawValue: matmulPrecision)!).emit()
                    ranAny = true
                }
                if onlyMode == nil, let kernel = workload.kernel {
                    kernel(context)
                    ranAny = true
                }
            }
        }
        if !ranAny {
            throw ValidationError("no registered workload has \(onlyMode.map { "a \($0.rawValue) mode" } ?? "anything to run") yet (see --list)")
        }
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
