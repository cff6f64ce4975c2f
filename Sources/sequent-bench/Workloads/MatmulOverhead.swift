import SequentTensor

// matmul: what Sequent's matrix products cost on top of oneDNN. For each shape, the
// GFLOP/s of a bare `dnnl_sgemm` on preallocated, 64-byte-aligned, already-touched buffers,
// against `Tensor.matmul` and `Tensor.linear` called as users call them (the result is a
// fresh tensor every call). The target is a ratio of at least 0.8.
// Shapes: x is (M,K); matmul's b is (K,N); linear's weight is (N,K), bias (N); y is (M,N).

extension Workload {
    static let matmulOverhead = Workload(
        name: "matmul",
        summary: "Tensor.matmul / Tensor.linear against a bare dnnl_sgemm (ratio, target >= 0.8)",
        kernel: { context in
            for (m, n, k) in [(64, 2048, 512), (6400, 2048, 64), (2048, 2048, 2048)] {
                context.emit(measureMatmulOverhead(m: m, n: n, k: k, reps: context.reps))
            }
        })
}

/// Times the bare call and the two Tensor operations on one shape, interleaved.
private func measureMatmulOverhead(m: Int, n: Int, k: Int, reps: Int) -> JSONLine {
    var generator = RandomGenerator(seed: 0)
    let x = Tensor.randomNormal([m, k], using: &generator)
    let b = Tensor.randomNormal([k, n], using: &generator)
    let weight = Tensor.randomNormal([n, k], using: &generator)
    let bias = Tensor.randomNormal([n], using: &generator)

    let bareX = AlignedMatrixBuffer(copying: x), bareB = AlignedMatrixBuffer(copying: b)
    let bareW = AlignedMatrixBuffer(copying: weight), bareY = AlignedMatrixBuffer(count: m * n)

    func bare(transposeB: Bool) {
        GEMM.bareSGEMM(m: m, n: n, k: k, a: bareX, b: transposeB ? bareW : bareB, transposeB: transposeB, c: bareY)
    }

    // Small products take well under a millisecond: repeat each inside one timed call
    // (at least ~20 ms) so the median is not timer noise.
    bare(transposeB: false)
    let probeStart = now()
    bare(transposeB: false)
    let inner = max(1, Int((0.02 / max(now() - probeStart, 1e-7)).rounded(.up)))
    func repeated(_ body: @escaping () -> Void) -> () -> Void {
        { for _ in 0..<inner { body() } }
    }

    let seconds = timeit(reps: reps, [
        repeated { bare(transposeB: false) },
        repeated { _ = Tensor.matmul(x, b) },
        repeated { bare(transposeB: true) },
        repeated { _ = Tensor.linear(x, weight: weight, bias: bias) },
    ]).map { $0 / Double(inner) }
    let gflops = seconds.map { 2 * Double(m) * Double(n) * Double(k) / $0 / 1e9 }
    return [
        "workload": .string("matmul"), "M": .int(m), "N": .int(n), "K": .int(k),
        "dnnl_sgemm_gflops": .double(gflops[0], digits: 1),
        "matmul_gflops": .double(gflops[1], digits: 1),
        "matmul_ratio": .double(gflops[1] / gflops[0], digits: 3),
        "dnnl_sgemm_nt_gflops": .double(gflops[2], digits: 1),
        "linear_gflops": .double(gflops[3], digits: 1),
        "linear_ratio": .double(gflops[3] / gflops[2], digits: 3),
    ]
}
