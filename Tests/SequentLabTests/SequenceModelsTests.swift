@testable import SequentLab
import SequentTensor
import XCTest

/// The lab's sequence models: the Transformer's last-step path against its every-step path.
final class SequenceModelsTests: XCTestCase {
    override func invokeTest() {
        Parallelism.withThreads(1) { super.invokeTest() }
    }

    /// `lastStep` runs the last layer on the last query only: its output and every
    /// parameter's gradient must be those of the last row of `everyStep`.
    func testTransformerLastStepEqualsTheLastRowOfEveryStep() throws {
        for layerCount in [1, 3] {
            var generator = RandomGenerator(seed: 7)
            let model = try TransformerSequenceModel(inputSize: 3, dModel: 32, layerCount: layerCount, headCount: 2,
                                                     dimFeedforward: 64, outputSize: 2, generator: &generator)
            let x = Tensor.randomUniform([4, 9, 3], lower: -1, upper: 1, using: &generator)  // (B, T, In)
            let weights = Tensor.randomUniform([4, 2], lower: -1, upper: 1, using: &generator)

            func gradients(_ output: () throws -> Tensor) rethrows -> (output: Tensor, grads: [String: Tensor]) {
                model.zeroGradients()
                let y = try output()  // (B, Out)
                (y * weights).sum().backward()
                return (y.detached(), Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.key, $0.parameter.grad!) }))
            }
            let fast = try gradients { try model.lastStep(x) }
            let full = try gradients { let y = try model.everyStep(x); return y.select(alongAxis: 1, index: y.shape[1] - 1) }
            XCTAssertLessThan(largestDifference(fast.output, full.output), 1e-5, "\(layerCount) layers: output")
            XCTAssertEqual(Set(fast.grads.keys), Set(full.grads.keys))
            for (key, grad) in full.grads {
                XCTAssertLessThan(largestDifference(fast.grads[key]!, grad), 1e-4, "\(layerCount) layers: d\(key)")
            }
        }
    }

    /// max |a - b| / max(|b|, 1) over the elements (shapes must agree).
    private func largestDifference(_ a: Tensor, _ b: Tensor) -> Float {
        guard a.shape == b.shape else { return .infinity }
        return zip(a.scalars, b.scalars).map { abs($0 - $1) / max(abs($1), 1) }.max() ?? 0
    }
}
