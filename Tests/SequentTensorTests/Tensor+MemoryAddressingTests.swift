import Foundation
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Tensor+MemoryAddressing.swift`: every gradient by central differences.
final class TensorMemoryAddressingTests: XCTestCase {
    func testAddressingWeightingsSumToOne() {
        let memory = randomTensor([2, 5, 3], seed: 1)
        let raw = randomTensor([2, Tensor.memoryAddressingParameterCount(width: 3, shiftRange: 1)], seed: 2)
        let previous = Tensor.full([2, 5], value: 0.2)
        let w = Tensor.memoryAddressing(memory: memory, parameters: raw, previous: previous, shiftRange: 1)
        XCTAssertEqual(w.shape, [2, 5])
        for b in 0..<2 { XCTAssertEqual(w.scalars[(b * 5)..<(b * 5 + 5)].reduce(0, +), 1, accuracy: 1e-5) }
    }

    func testAddressingGradientsMatchFiniteDifferences() {
        // Every input: the memory, each raw parameter (key, strength, gate, shifts, sharpening)
        // and the previous weighting.
        let memory = randomTensor([2, 5, 3], seed: 3)
        let raw = randomTensor([2, Tensor.memoryAddressingParameterCount(width: 3, shiftRange: 1)], seed: 4)
        let previous = randomTensor([2, 5], lower: 0, upper: 1, seed: 5).softmax()
        checkGradient([memory, raw, previous], epsilon: 1e-3, tolerance: 2e-2) { inputs in
            Tensor.memoryAddressing(memory: inputs[0], parameters: inputs[1], previous: inputs[2], shiftRange: 1)
        }
    }

    func testAddressingGradientsWithAWiderShift() {
        let memory = randomTensor([1, 6, 2], seed: 6)
        let raw = randomTensor([1, Tensor.memoryAddressingParameterCount(width: 2, shiftRange: 2)], seed: 7)
        let previous = Tensor(shape: [1, 6], scalars: [1, 0, 0, 0, 0, 0])
        checkGradient([memory, raw, previous], epsilon: 1e-3, tolerance: 2e-2) { inputs in
            Tensor.memoryAddressing(memory: inputs[0], parameters: inputs[1], previous: inputs[2], shiftRange: 2)
        }
    }

    func testAddressingAZeroSlotHasFiniteGradients() {
        // The cosine of a zero slot is 0; its gradient is steep (|M| is floored at 1e-4, far
        // below a finite-difference step) but finite, and the other gradients still check.
        let random = randomTensor([1, 6, 2], seed: 6)
        let memory = Tensor(shape: random.shape, scalars: [0, 0] + random.scalars.dropFirst(2))
        let raw = randomTensor([1, Tensor.memoryAddressingParameterCount(width: 2, shiftRange: 2)], seed: 7)
        let previous = Tensor(shape: [1, 6], scalars: [1, 0, 0, 0, 0, 0])
        checkGradient([raw, previous], epsilon: 1e-3, tolerance: 2e-2) { inputs in
            Tensor.memoryAddressing(memory: memory, parameters: inputs[0], previous: inputs[1], shiftRange: 2)
        }
        let leaf = memory.requiringGrad()
        Tensor.memoryAddressing(memory: leaf, parameters: raw, previous: previous, shiftRange: 2).select(alongAxis: 1, index: 0).sum().backward()
        XCTAssertFalse(leaf.grad?.hasNonFinite ?? true)
        let zeroKey = Tensor(shape: raw.shape, scalars: [0, 0] + raw.scalars.dropFirst(2))
        XCTAssertFalse(Tensor.memoryAddressing(memory: memory, parameters: zeroKey, previous: previous, shiftRange: 2).hasNonFinite)
    }

    func testReadGradientsMatchFiniteDifferences() {
        checkGradient([randomTensor([2, 4, 3], seed: 8), randomTensor([2, 4], seed: 9)]) { inputs in
            Tensor.memoryRead(memory: inputs[0], weighting: inputs[1])
        }
    }

    func testWriteGradientsMatchFiniteDifferences() {
        checkGradient([randomTensor([2, 4, 3], seed: 10), randomTensor([2, 4], seed: 11),
                       randomTensor([2, 3], lower: 0, upper: 1, seed: 12), randomTensor([2, 3], seed: 13)]) { inputs in
            Tensor.memoryWrite(memory: inputs[0], weighting: inputs[1], erase: inputs[2], add: inputs[3])
        }
    }
}
