import SequentTensor

// The registry of benchmark workloads. A workload is one file under Workloads/ that
// declares `extension Workload { static let myWorkload = Workload(...) }` and builds the
// code to time; the harness (Timing.swift) times it and prints the JSON line. To add one,
// write that file and append it to `Workload.registry` below.

/// How a sequence model is exercised, as in shared/bench/torch_rnn_bench.py.
enum Mode: String, CaseIterable, Sendable {
    /// A full training step: forward, loss, backward, optimizer update.
    case train
    /// A forward pass over a whole (B, T) batch without gradients.
    case infer
    /// Batch-1 token-by-token generation carrying the recurrent state.
    case stream
}

/// A (B, T) batch step to time: `run` is called 2 times to warm up, then `reps` times.
struct SequenceStep {
    /// B, the batch size.
    let batch: Int
    /// T, the sequence length.
    let time: Int
    /// One step on the prepared model and batch.
    let run: () -> Void
}

/// A batch-1 generation step: each call feeds the previous token and keeps the state.
struct TokenStep {
    /// How the weights are stored (a workload may not offer bfloat16; it then says float32).
    var weights: WeightPrecision = .float32
    let run: () -> Void
}

/// What a kernel workload may use while it measures.
struct BenchContext {
    /// Timed repetitions per measurement (7, or 3 with `--quick`).
    let reps: Int
    /// Prints one JSON line and flushes it.
    let emit: (JSONLine) -> Void
}

/// One named benchmark and, for each mode it supports, how to build what is timed.
///
/// Builders run once per mode, before timing, and seed their own `RandomGenerator(seed: 0)`
/// so every run measures the same model (torch_rnn_bench.py calls `manual_seed(0)` likewise).
struct Workload: Sendable {
    /// The name printed in the `workload` key, the same as in torch_rnn_bench.py.
    let name: String
    /// One line for `--list`.
    let summary: String
    /// Builds a training step (train mode).
    var train: (@Sendable () -> SequenceStep)? = nil
    /// Builds an inference step over a whole batch (infer mode).
    var infer: (@Sendable () -> SequenceStep)? = nil
    /// Builds a generation step (stream mode) whose weights are stored in the given precision.
    var stream: (@Sendable (WeightPrecision) -> TokenStep)? = nil
    /// A kernel benchmark without a mode (sgemm): measures and emits its own lines, timing
    /// with `timeit` like every other workload.
    var kernel: (@Sendable (BenchContext) -> Void)? = nil

    /// The modes this workload supports, in the order the torch script runs them.
    var modes: [Mode] {
        Mode.allCases.filter { mode in
            switch mode {
            case .train: train != nil
            case .infer: infer != nil
            case .stream: stream != nil
            }
        }
    }

    /// Every workload, in the order they run by default (the order of torch_rnn_bench.py,
    /// then the checks that exist only here).
    static let registry: [Workload] = [
        .lstm1x256, .lstm2x512, .gru2x512, .rnn2x512,
        .gpt4x256, .gpt6x256v6249, .gpt6x256ff512,
        .translator3x256, .translator3x256v4000,
        .sgemm2048,
        .matmulOverhead,
        .attentionScaling,
    ]

    /// The workload registered under `name`, if any.
    static func named(_ name: String) -> Workload? {
        registry.first { $0.name == name }
    }
}
