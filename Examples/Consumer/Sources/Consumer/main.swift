// The README's library tour, compiled and run by scripts/check-package-by-version.sh:
// a two-layer LSTM on a batch of sequences, a loss, gradients, and one Adam step.
import SequentNN
import SequentTensor
import SequentTrain

var generator = RandomGenerator(seed: 42)
// (B, T, C) = (4, 10, 3) inputs; targets: the sum of each step's features.
let x = Tensor.randomUniform([4, 10, 3], lower: -1, upper: 1, using: &generator)
let target = x.sum(alongAxis: 2, keepingDimensions: true)  // (4, 10, 1)

let lstm = try LSTM(inputSize: 3, hiddenSize: 16, layerCount: 2, batchFirst: true, generator: &generator)
let head = Linear(inputSize: 16, outputSize: 1, generator: &generator)
let optimizer = try Adam(parameters: lstm.parameters() + head.parameters(), learningRate: 1e-2)

for step in 1...50 {
    let (hidden, _) = try lstm(x)                       // (4, 10, 16), final state
    let loss = try Loss.meanSquaredError(head(hidden), target)
    optimizer.zeroGradients()
    loss.backward()
    optimizer.step()
    if step == 1 || step == 50 { print("step \(step): loss \(loss.item)") }
}
print("bfloat16 products: \(CPUSupport.bfloat16Path.rawValue); kernels: \(CPUSupport.level)")
