import Foundation
@testable import SequentTensor
import TestSupport
import XCTest

/// Tests of `Kernels/MemoryAddressingKernels.swift`: each addressing stage against an example
/// computed by hand, and the read and write against their definitions.
final class MemoryAddressingKernelsTests: XCTestCase {
    typealias K = MemoryAddressingKernels

    func testContentAddressingIsTheSoftmaxOfScaledCosines() {
        // M = [[1, 0], [0, 1]], k = [2, 0] (the cosine ignores |k|), beta = 1:
        // cos = [1, 0], wc = [e, 1] / (e + 1).
        let memory: [Float] = [1, 0, 0, 1], key: [Float] = [2, 0]
        var norms = [Float](repeating: 0, count: 2), dots = norms, cosines = norms, content = norms
        let keyNorm = K.contentForward(memory: memory, key: key, strength: 1, slots: 2, width: 2,
                                       memoryNorm: &norms, dot: &dots, cosine: &cosines, content: &content)
        XCTAssertEqual(keyNorm, 2, accuracy: 1e-6)
        assertClose(cosines, [1, 0], absolute: 1e-6)
        assertClose(content, [0.7310586, 0.2689414], absolute: 1e-6)
    }

    func testContentAddressingOfAZeroSlotOrZeroKeyIsFinite() {
        // A slot of zeros has cosine 0 with any key, and a zero key gives a uniform weighting.
        let memory: [Float] = [0, 0, 3, 4]
        var norms = [Float](repeating: 0, count: 2), dots = norms, cosines = norms, content = norms
        _ = K.contentForward(memory: memory, key: [0.6, 0.8], strength: 5, slots: 2, width: 2,
                             memoryNorm: &norms, dot: &dots, cosine: &cosines, content: &content)
        assertClose(cosines, [0, 1], absolute: 1e-5)
        _ = K.contentForward(memory: memory, key: [0, 0], strength: 5, slots: 2, width: 2,
                             memoryNorm: &norms, dot: &dots, cosine: &cosines, content: &content)
        assertClose(content, [0.5, 0.5], absolute: 1e-6)
        XCTAssertTrue(cosines.allSatisfy(\.isFinite))
    }

    func testInterpolationMixesContentAndPreviousByTheGate() {
        // g = 0.25: 0.25 [0.7, 0.3] + 0.75 [0, 1] = [0.175, 0.825].
        var gated = [Float](repeating: 0, count: 2)
        K.interpolateForward(content: [0.7, 0.3], previous: [0, 1], gate: 0.25, gated: &gated, slots: 2)
        assertClose(gated, [0.175, 0.825], absolute: 1e-6)
    }

    func testShiftRotatesTheFocusCircularly() {
        // s over offsets (-1, 0, +1) = (0.1, 0.2, 0.7) applied to a focus on slot 0 of 4:
        // +1 moves 0.7 to slot 1, 0 keeps 0.2 on slot 0, -1 wraps 0.1 round to slot 3.
        var shifted = [Float](repeating: 0, count: 4)
        K.shiftForward(gated: [1, 0, 0, 0], shift: [0.1, 0.2, 0.7], shifted: &shifted, slots: 4, shifts: 3)
        assertClose(shifted, [0.2, 0.7, 0, 0.1], absolute: 1e-6)
    }

    func testSharpeningRaisesToGammaAndRenormalises() {
        // [0.2, 0.8]^2 = [0.04, 0.64], / 0.68.
        var weighting = [Float](repeating: 0, count: 2)
        K.sharpenForward(shifted: [0.2, 0.8], sharpening: 2, weighting: &weighting, slots: 2)
        assertClose(weighting, [0.04 / 0.68, 0.64 / 0.68], absolute: 1e-6)
        // Exact zeros (and gamma far from 1) stay finite.
        K.sharpenForward(shifted: [0, 1], sharpening: 30, weighting: &weighting, slots: 2)
        assertClose(weighting, [0, 1], absolute: 1e-6)
        var dShifted = [Float](repeating: 0, count: 2)
        let dGamma = K.sharpenBackward(shifted: [0, 1], sharpening: 30, weighting: weighting, dWeighting: [1, -1],
                                       dShifted: &dShifted, slots: 2)
        XCTAssertTrue(dGamma.isFinite && dShifted.allSatisfy(\.isFinite))
    }

    func testFusedForwardIsTheStagesInOrder() {
        // One batch entry, N = 3, W = 2, R = 1, raw values chosen so each activation is exact
        // enough to follow: strength 0 -> beta = log 2, gate 0 -> g = 1/2, shift logits 0 ->
        // s uniform, sharpening 0 -> gamma = 1 + log 2.
        let memory: [Float] = [1, 0, 0, 1, 1, 1]
        let raw: [Float] = [1, 0, 0, 0, 0, 0, 0, 0]
        let previous: [Float] = [0, 0, 1]
        let cache = K.Cache(batch: 1, slots: 3, width: 2, shifts: 3)
        var weighting = [Float](repeating: 0, count: 3)
        K.forward(memory: memory, raw: raw, previous: previous, weighting: &weighting, cache: cache)

        let beta = Float(Foundation.log(2.0)), gamma = 1 + beta
        let cosines: [Float] = [1, 0, 1 / Float(2).squareRoot()]
        let e = cosines.map { Foundation.exp(beta * $0) }
        let content = e.map { $0 / e.reduce(0, +) }
        let gated: [Float] = (0..<3).map { i -> Float in 0.5 * content[i] + 0.5 * previous[i] }
        let shifted: [Float] = (0..<3).map { i -> Float in
            let total: Float = gated[(i + 1) % 3] + gated[i] + gated[(i + 2) % 3]
            return total / 3
        }
        let powered = shifted.map { Foundation.pow($0, gamma) }
        let expected = powered.map { $0 / powered.reduce(0, +) }
        assertClose(weighting, expected, absolute: 1e-5)
        XCTAssertEqual(cache.gate[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(cache.strength[0], beta, accuracy: 1e-6)
    }

    func testReadAndWriteFollowTheirDefinitions() {
        // M = [[1, 2], [3, 4]], w = [0.25, 0.75]: r = [2.5, 3.5];
        // e = [1, 0], a = [10, 20]: M'_0 = [1 (1 - 0.25) + 2.5, 2 + 5], M'_1 = [3 (0.25) + 7.5, 4 + 15].
        let memory: [Float] = [1, 2, 3, 4], weighting: [Float] = [0.25, 0.75]
        var read = [Float](repeating: 0, count: 2)
        MemoryAccessKernels.readForward(memory: memory, weighting: weighting, read: &read, batch: 1, slots: 2, width: 2)
        assertClose(read, [2.5, 3.5])
        var written = [Float](repeating: 0, count: 4)
        MemoryAccessKernels.writeForward(memory: memory, weighting: weighting, erase: [1, 0], add: [10, 20], written: &written,
                                         batch: 1, slots: 2, width: 2)
        assertClose(written, [3.25, 7, 8.25, 19])
    }
}
