import SequentTensor

// sgemm-2048: the hardware's matrix-multiply ceiling through Sequent, the last line of
// torch_rnn_bench.py (`A @ B` on two 2048 x 2048 matrices, the result allocated each call).

extension Workload {
    static let sgemm2048 = Workload(
        name: "sgemm-2048",
        summary: "Tensor.matmul of two 2048x2048 matrices (GFLOP/s), as torch's A @ B",
        kernel: { context in
            let n = 2048
            var generator = RandomGenerator(seed: 0)
            let a = Tensor.randomNormal([n, n], using: &generator)
            let b = Tensor.randomNormal([n, n], using: &generator)
            let seconds = timeit(reps: context.reps) { _ = Tensor.matmul(a, b) }
            context.emit(["workload": .string("sgemm-\(n)"), "gflops": .double(2 * Double(n * n * n) / seconds / 1e9, digits: 1)])
        })
}
