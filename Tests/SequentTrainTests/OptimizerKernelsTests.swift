@testable import SequentTensor
import TestSupport
import XCTest

/// The fused SIMD updates against their scalar references, on lengths that exercise the
/// 16-lane tail and the multi-threaded split. (They live here because SequentTrain is
/// their only user.)
final class OptimizerKernelsTests: XCTestCase {
    private let counts = [1, 15, 16, 37, 100_003]

    private func random(_ count: Int, seed: UInt64, lower: Float = -1, upper: Float = 1) -> [Float] {
        randomTensor([count], lower: lower, upper: upper, seed: seed).scalars
    }

    func testAdamStepEqualsReference() {
        for decoupled in [false, true] {
            let configuration = OptimizerKernels.AdamConfiguration(
                firstMomentWeight: 0.1, beta2: 0.999, stepSize: 0.03, biasCorrection2SquareRoot: 0.0447,
                epsilon: 1e-8, coupledWeightDecay: decoupled ? 0 : 0.1, decoupledDecayFactor: decoupled ? 0.999 : 1)
            for count in counts {
                var referenceValues = random(count, seed: 1)
                let gradient = random(count, seed: 2)
                var referenceFirst = random(count, seed: 3), referenceSecond = random(count, seed: 4, lower: 0)
                var first = Tensor(referenceFirst), second = Tensor(referenceSecond)
                var values = Tensor(referenceValues)
                values.withUnsafeMutableBufferPointer { buffer in
                    OptimizerKernels.adamStep(values: &buffer, gradient: Tensor(gradient), firstMoment: &first,
                                              secondMoment: &second, configuration: configuration)
                }
                OptimizerKernels.adamStepReference(values: &referenceValues, gradient: gradient, firstMoment: &referenceFirst,
                                                   secondMoment: &referenceSecond, configuration: configuration)
                XCTAssertEqual(values.scalars, referenceValues, "count \(count), decoupled \(decoupled)")
                XCTAssertEqual(first.scalars, referenceFirst, "count \(count)")
                XCTAssertEqual(second.scalars, referenceSecond, "count \(count)")
            }
        }
    }

    func testSGDStepEqualsReference() {
        let configurations = [
            OptimizerKernels.SGDConfiguration(learningRate: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0.01),
            OptimizerKernels.SGDConfiguration(learningRate: 0.1, momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 0),
            OptimizerKernels.SGDConfiguration(learningRate: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.01),
        ]
        for configuration in configurations {
            for count in counts {
                var values = Tensor(random(count, seed: 5))
                var referenceValues = values.scalars
                var buffer: Tensor? = nil
                var referenceBuffer = [Float](repeating: 0, count: count)
                for (step, seed) in [UInt64(6), 7].enumerated() {
                    let gradient = random(count, seed: seed)
                    values.withUnsafeMutableBufferPointer { pointer in
                        OptimizerKernels.sgdStep(values: &pointer, gradient: Tensor(gradient), momentumBuffer: &buffer,
                                                 configuration: configuration)
                    }
                    OptimizerKernels.sgdStepReference(values: &referenceValues, gradient: gradient, momentumBuffer: &referenceBuffer,
                                                      isFirstStep: step == 0, configuration: configuration)
                    XCTAssertEqual(values.scalars, referenceValues, "count \(count), step \(step), \(configuration)")
                }
                if configuration.momentum == 0 {
                    XCTAssertNil(buffer)
                } else {
                    XCTAssertEqual(buffer?.scalars, referenceBuffer)
                }
            }
        }
    }

    func testSumOfSquaresScaleAndClamp() {
        for count in counts {
            let values = random(count, seed: 8, lower: -3, upper: 3)
            let reference = OptimizerKernels.sumOfSquaresReference(values)
            XCTAssertEqual(OptimizerKernels.sumOfSquares(Tensor(values)), reference, accuracy: 1e-12 * reference)
            var scaled = Tensor(values)
            OptimizerKernels.scale(&scaled, by: 0.5)
            XCTAssertEqual(scaled.scalars, values.map { $0 * 0.5 })
            var clamped = Tensor(values)
            OptimizerKernels.clamp(&clamped, limit: 1)
            XCTAssertEqual(clamped.scalars, values.map { min(max($0, -1), 1) })
        }
        var withNaN = Tensor([.nan, 5, -5])
        OptimizerKernels.clamp(&withNaN, limit: 1)
        XCTAssertTrue(withNaN.scalars[0].isNaN)
        XCTAssertEqual(Array(withNaN.scalars[1...]), [1, -1])
    }
}
