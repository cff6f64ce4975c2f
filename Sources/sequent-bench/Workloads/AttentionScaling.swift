import SequentNN
import SequentTensor

// attention-scaling: how one attention layer and one LSTM layer grow with the sequence
// length T = 64, 128, ..., 4096, at batch 1 and width 256:
//   attention: MultiheadAttention(embedDim 256, heads 4), self-attention over (1, T, 256),
//              no mask (the fused kernel: O(T^2) time, O(T) memory);
//   lstm:      one LSTM layer, input and hidden 256, over (1, T, 256) (O(T) time, memory);
// each timed as forward + backward of sum(y * dy) from inputs that require gradients.
// One line per layer and T: {"workload": "scaling", "layer": ..., "T": ..., "sec": ..., "peak_mb": ...}.
//
// sec: the median of `reps` calls after 2 warm-up calls (`timeit`).
// peak_mb: the peak extra resident memory of one more call, in MiB
// (`Memory.peakResidentGrowth`: the baseline is taken after the layer's parameters and
// inputs exist, so it counts activations, saved tensors, gradients (parameter gradients
// included) and workspaces, at page granularity). Where /proc/self/clear_refs cannot be
// written the line carries null.

extension Workload {
    static let attentionScaling = Workload(
        name: "attention-scaling",
        summary: "one attention layer vs one LSTM layer (d 256, B1), forward+backward time and peak memory for T = 64...4096",
        kernel: { context in
            var generator = RandomGenerator(seed: 0)
            let attention = try! MultiheadAttention(embedDim: 256, headCount: 4, batchFirst: true, generator: &generator)
            let lstm = try! LSTM(inputSize: 256, hiddenSize: 256, batchFirst: true, generator: &generator)
            var t = 64
            while t <= 4096 {
                let x = Tensor.randomNormal([1, t, 256], using: &generator)
                let dy = Tensor.randomNormal([1, t, 256], using: &generator)
                let layers: [(String, () -> Void)] = [
                    ("attention", {
                        attention.zeroGradients()
                        let input = x.requiringGrad()
                        let (y, _) = try! attention(query: input, key: input, value: input)
                        (y * dy).sum().backward()
                    }),
                    ("lstm", {
                        lstm.zeroGradients()
                        let input = x.requiringGrad()
                        let (y, _) = try! lstm(input)
                        (y * dy).sum().backward()
                    }),
                ]
                for (name, body) in layers {
                    let seconds = timeit(reps: context.reps, body)
                    let peak = Memory.peakResidentGrowth(during: body)
                    context.emit([
                        "workload": .string("scaling"), "layer": .string(name), "T": .int(t),
                        "sec": .double(seconds, digits: 5),
                        "peak_mb": .double(peak.map { Double($0) / 1_048_576 } ?? .nan, digits: 2),
                    ])
                }
                t *= 2
            }
        })
}
