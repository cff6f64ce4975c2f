import SequentTensor
#if canImport(Glibc)
import Glibc
#endif

// The one timing discipline of the benchmark, the same as torch_rnn_bench.py:
//   timeit: 2 warm-up calls, then the median of `reps` timed calls;
//   stream: 20 warm-up tokens, then the mean over 200 tokens.

/// Seconds on a monotonic clock (Python's `time.perf_counter`).
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// The median duration in seconds of `reps` calls of `body`, after 2 warm-up calls.
func timeit(reps: Int, _ body: () -> Void) -> Double {
    withoutActuallyEscaping(body) { timeit(reps: reps, [$0])[0] }
}

/// The median durations of several candidates, timed in turn within each repetition
/// (A B C, A B C, ...) so that a change in machine load hits all of them alike.
/// With one candidate this is exactly `timeit` of torch_rnn_bench.py.
func timeit(reps: Int, _ candidates: [() -> Void]) -> [Double] {
    precondition(reps >= 1, "timeit: reps must be at least 1")
    for body in candidates { body(); body() }
    var samples = [[Double]](repeating: [], count: candidates.count)
    for _ in 0..<reps {
        for (index, body) in candidates.enumerated() {
            let start = now()
            body()
            samples[index].append(now() - start)
        }
    }
    return samples.map { times in times.sorted()[times.count / 2] }
}

/// The mean seconds per token of `steps` generation steps, after 20 warm-up steps.
func timePerToken(steps: Int = 200, _ step: TokenStep) -> Double {
    for _ in 0..<20 { step.run() }
    let start = now()
    for _ in 0..<steps { step.run() }
    return (now() - start) / Double(steps)
}

/// Runs one mode of `workload` and returns its JSON line, with the keys of torch_rnn_bench.py.
func measure(
    _ workload: Workload, mode: Mode, reps: Int, streamWeights: WeightPrecision = .float32,
    matmulPrecision: MatmulPrecision = .float32
) -> JSONLine {
    switch mode {
    case .train:
        let step = workload.train!()
        let seconds = timeit(reps: reps, step.run)
        return [
            "workload": .string(workload.name), "mode": .string("train"), "B": .int(step.batch), "T": .int(step.time),
            "sec_per_step": .double(seconds, digits: 5),
            "tokens_per_s": .int(Int((Double(step.batch * step.time) / seconds).rounded())),
        ]
    case .infer:
        let step = workload.infer!()
        let seconds = GEMM.withPrecision(matmulPrecision) { timeit(reps: reps, step.run) }
        var line: JSONLine = [
            "workload": .string(workload.name), "mode": .string("infer"), "B": .int(step.batch), "T": .int(step.time),
            "sec": .double(seconds, digits: 5),
            "tokens_per_s": .int(Int((Double(step.batch * step.time) / seconds).rounded())),
        ]
        if matmulPrecision != .float32 {
            line.fields.append((key: "matmul_precision", value: .string(matmulPrecision.rawValue)))
            line.fields.append((key: "bf16", value: .string(CPUSupport.hasNativeBFloat16 ? "native" : "emulated")))
        }
        return line
    case .stream:
        let step = workload.stream!(streamWeights)
        let seconds = timePerToken(step)
        var line: JSONLine = [
            "workload": .string(workload.name), "mode": .string("stream"), "B": .int(1),
            "us_per_token": .double(seconds * 1e6, digits: 1),
        ]
        if step.weights != .float32 {
            line.fields.append((key: "weights", value: .string(step.weights.rawValue)))
            line.fields.append((key: "bf16", value: .string(CPUSupport.level >= .avx512BFloat16 ? "native" : "emulated")))
        }
        return line
    }
}
