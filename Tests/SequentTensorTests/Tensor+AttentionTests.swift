import Foundation
@testable import SequentTensor
import TestSupport
import XCTest

/// The masks of one test case, passed to both paths.
private struct Masks {
    var mask: Tensor? = nil
    var keyPaddingMask: Tensor? = nil
    var keyLengths: [Int]? = nil
    var causal = false
}

private func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, _ m: Masks, _ path: AttentionImplementation, scale: Float? = nil) -> Tensor {
    Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: m.mask, keyPaddingMask: m.keyPaddingMask,
                                     keyLengths: m.keyLengths, causal: m.causal, scale: scale, implementation: path)
}

/// A 0/1 mask of `shape` with about `fraction` ones.
private func randomMask(_ shape: [Int], fraction: Float, seed: UInt64) -> Tensor {
    let u = randomTensor(shape, lower: 0, upper: 1, seed: seed)
    return Tensor(shape: shape, scalars: u.scalars.map { $0 < fraction ? 1 : 0 })
}

/// The reference forward pass (`AttentionKernels.forwardNaive`, in Double) for 4-D inputs.
private func reference(_ q: Tensor, _ k: Tensor, _ v: Tensor, _ m: Masks) -> Tensor {
    // The plain path's additive bias is the same rule; read it back as a mask for the reference.
    let (b, h, tq, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
    let (tk, dv) = (k.shape[2], v.shape[3])
    let probe = Tensor.scaledDotProductAttentionWithWeights(
        query: Tensor.zeros([b, h, tq, 1]), key: Tensor.zeros([b, h, tk, 1]), value: Tensor.zeros([b, h, tk, 1]),
        mask: m.mask, keyPaddingMask: m.keyPaddingMask, keyLengths: m.keyLengths, causal: m.causal).weights
    let masked = Tensor(shape: probe.shape, scalars: probe.scalars.map { $0 == 0 ? 1 : 0 })
    return Tensor(shape: [b, h, tq, dv]) { out in
        q.withUnsafeBufferPointer { qp in
            k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in
                    masked.withUnsafeBufferPointer { mp in
                        let view = AttentionMaskView(causal: false, heads: h, keyCount: tk, keyPadding: nil, keyLimits: nil,
                                                     mask: mp.baseAddress, maskStrides: (h * tq * tk, tq * tk, tk, 1))
                        AttentionKernels.forwardNaive(q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!, out: out.baseAddress!,
                                                      batchHeads: b * h, tq: tq, tk: tk, d: d, dv: dv,
                                                      scale: 1 / Float(d).squareRoot(), mask: view)
                    }
                }
            }
        }
    }
}

/// Gradients of sum(f(q, k, v) * dy) with respect to q, k, v.
private func gradients(_ q: Tensor, _ k: Tensor, _ v: Tensor, dy: Tensor, _ f: (Tensor, Tensor, Tensor) -> Tensor) -> (Tensor, [Tensor]) {
    let leaves = [q, k, v].map { $0.requiringGrad() }
    let y = f(leaves[0], leaves[1], leaves[2])
    (y * dy).sum().backward()
    return (y.detached(), leaves.map { $0.grad ?? Tensor.zeros($0.shape) })
}

/// Tests of `Tensor+Attention.swift` and `Kernels/AttentionKernels.swift`: both paths against
/// a Double reference and each other, gradient checks, masks, and PyTorch's
/// F.scaled_dot_product_attention.
final class TensorAttentionTests: XCTestCase {
    /// Shapes that are not multiples of the tiles (32 queries x 64 keys), several tiles each.
    func testFusedAndPlainMatchTheReferenceUnderEveryMask() {
        let (b, h, tq, tk, d, dv) = (2, 2, 37, 70, 5, 7)
        let q = randomTensor([b, h, tq, d], seed: 1), k = randomTensor([b, h, tk, d], seed: 2)
        let v = randomTensor([b, h, tk, dv], seed: 3)
        let cases: [(String, Masks)] = [
            ("none", Masks()),
            ("causal", Masks(causal: true)),
            ("lengths", Masks(keyLengths: [70, 41])),
            ("padding mask", Masks(keyPaddingMask: randomMask([b, tk], fraction: 0.3, seed: 4))),
            ("2-D mask", Masks(mask: randomMask([tq, tk], fraction: 0.5, seed: 5))),
            ("per-head mask + causal + lengths", Masks(mask: randomMask([1, h, tq, tk], fraction: 0.3, seed: 6), keyLengths: [0, 20], causal: true)),
        ]
        for (name, masks) in cases {
            let expected = reference(q, k, v, masks)
            assertClose(attention(q, k, v, masks, .fused), expected, relative: 1e-4, absolute: 1e-5, "fused, \(name)")
            assertClose(attention(q, k, v, masks, .plain), expected, relative: 1e-4, absolute: 1e-5, "plain, \(name)")
        }
    }

    /// Packed projections (B, T, 3E) read in place, without gradients, against splitting
    /// them into heads and attending per head; T spans several query and key tiles.
    func testPackedSelfAttentionMatchesAttentionPerHead() {
        let (b, t, h, d) = (2, 70, 3, 8)
        let packed = randomTensor([b, t, 3 * h * d], seed: 30)
        let cases: [(String, Masks)] = [
            ("none", Masks()),
            ("causal", Masks(causal: true)),
            ("lengths", Masks(keyLengths: [70, 33])),
            ("padding mask + causal", Masks(keyPaddingMask: randomMask([b, t], fraction: 0.3, seed: 31), causal: true)),
            ("2-D mask", Masks(mask: randomMask([t, t], fraction: 0.5, seed: 32))),
            ("per-head mask", Masks(mask: randomMask([b, h, t, t], fraction: 0.3, seed: 33))),
        ]
        let heads = packed.reshaped(to: [b, t, 3, h, d]).permuted([2, 0, 3, 1, 4])
        let (q, k, v) = (heads.select(alongAxis: 0, index: 0), heads.select(alongAxis: 0, index: 1), heads.select(alongAxis: 0, index: 2))
        for (name, masks) in cases {
            let expected = attention(q, k, v, masks, .fused).permuted([0, 2, 1, 3]).reshaped(to: [b, t, h * d])
            let inPlace = Parallelism.withThreads(2) {
                withoutGradients {
                    Tensor.scaledDotProductSelfAttention(packedQueryKeyValue: packed, headCount: h, mask: masks.mask,
                                                         keyPaddingMask: masks.keyPaddingMask, keyLengths: masks.keyLengths,
                                                         causal: masks.causal)
                }
            }
            assertClose(inPlace, expected, relative: 1e-5, absolute: 1e-6, "packed, \(name)")
        }
        // Recording gradients, it is that composition, and differentiable.
        checkGradient([randomTensor([2, 5, 12], seed: 34)]) {
            Tensor.scaledDotProductSelfAttention(packedQueryKeyValue: $0[0], headCount: 2, causal: true)
        }
    }

    func testFusedAndPlainGradientsAgree() {
        let (b, h, tq, tk, d, dv) = (2, 3, 45, 100, 8, 6)
        let q = randomTensor([b, h, tq, d], seed: 11), k = randomTensor([b, h, tk, d], seed: 12)
        let v = randomTensor([b, h, tk, dv], seed: 13), dy = randomTensor([b, h, tq, dv], seed: 14)
        let cases: [(String, Masks)] = [
            ("none", Masks()),
            ("causal", Masks(causal: true)),
            ("mask + lengths with an empty entry", Masks(mask: randomMask([b, 1, tq, tk], fraction: 0.4, seed: 15), keyLengths: [0, 77])),
            ("padding mask + causal", Masks(keyPaddingMask: randomMask([b, tk], fraction: 0.3, seed: 16), causal: true)),
        ]
        for (name, masks) in cases {
            let (fusedOut, fused) = gradients(q, k, v, dy: dy) { attention($0, $1, $2, masks, .fused) }
            let (plainOut, plain) = gradients(q, k, v, dy: dy) { attention($0, $1, $2, masks, .plain) }
            assertClose(fusedOut, plainOut, relative: 1e-4, absolute: 1e-5, "output, \(name)")
            for (input, (f, p)) in zip(["dq", "dk", "dv"], zip(fused, plain)) {
                XCTAssertFalse(f.hasNonFinite, "\(input), \(name)")
                assertClose(f, p, relative: 1e-3, absolute: 1e-5, "\(input), \(name)")
            }
        }
    }

    func testGradientCheckBothPaths() {
        let q = randomTensor([1, 2, 3, 4], seed: 21), k = randomTensor([1, 2, 5, 4], seed: 22), v = randomTensor([1, 2, 5, 3], seed: 23)
        let cases: [(String, Masks)] = [
            ("none", Masks()),
            ("causal", Masks(causal: true)),
            // Row 1 of head 0 is fully masked: zeros, and no gradient through it.
            ("fully masked row", Masks(mask: Tensor(shape: [1, 2, 3, 5], scalars: [
                0, 1, 0, 1, 0,  1, 1, 1, 1, 1,  0, 0, 0, 0, 1,
                0, 0, 0, 0, 0,  0, 1, 1, 0, 0,  1, 0, 1, 0, 1]))),
            ("lengths", Masks(keyLengths: [3])),
        ]
        for (_, masks) in cases {
            for path in [AttentionImplementation.fused, .plain] {
                checkGradient([q, k, v]) { t in attention(t[0], t[1], t[2], masks, path) }
            }
        }
    }

    func testFullyMaskedRowsGiveZerosNeverNaN() {
        let q = randomTensor([2, 1, 4, 3], seed: 31), k = randomTensor([2, 1, 6, 3], seed: 32), v = randomTensor([2, 1, 6, 2], seed: 33)
        let masks = Masks(mask: Tensor(shape: [4, 6], scalars: [Float](repeating: 1, count: 6) + [Float](repeating: 0, count: 18)),
                          keyLengths: [6, 0])
        let dy = randomTensor([2, 1, 4, 2], seed: 34)
        for path in [AttentionImplementation.fused, .plain] {
            let (out, grads) = gradients(q, k, v, dy: dy) { attention($0, $1, $2, masks, path) }
            XCTAssertFalse(out.hasNonFinite)
            XCTAssertEqual(Array(out.scalars[0..<2]), [0, 0], "query 0 of batch 0 sees nothing")
            XCTAssertEqual(Array(out.scalars[8..<16]), [Float](repeating: 0, count: 8), "batch 1 has no keys")
            for g in grads { XCTAssertFalse(g.hasNonFinite) }
            XCTAssertEqual(Array(grads[0].scalars[0..<3]), [0, 0, 0], "no gradient into a fully masked query")
            XCTAssertEqual(Array(grads[2].scalars[12..<24]), [Float](repeating: 0, count: 12), "no gradient into keys nobody sees")
        }
    }

    func testWeightsAreTheSoftmaxAndSumToOne() {
        let q = randomTensor([2, 2, 4, 3], seed: 41), k = randomTensor([2, 2, 5, 3], seed: 42), v = randomTensor([2, 2, 5, 2], seed: 43)
        let (out, weights) = Tensor.scaledDotProductAttentionWithWeights(query: q, key: k, value: v, keyLengths: [5, 2], causal: true)
        XCTAssertEqual(weights.shape, [2, 2, 4, 5])
        assertClose(weights.sum(alongAxis: -1), Tensor.ones([2, 2, 4]), relative: 0, absolute: 1e-5)
        assertClose(out, Tensor.matmul(weights, v), relative: 1e-5, absolute: 1e-6)
        // Batch 1 attends to keys 0 and 1 only; query 0 to key 0 only (causal).
        for i in 0..<4 { XCTAssertEqual(Array(weights.scalars[((1 * 2 + 0) * 4 + i) * 5 + 2..<((1 * 2 + 0) * 4 + i) * 5 + 5]), [0, 0, 0]) }
        XCTAssertEqual(weights.scalars[0], 1)
        assertClose(attention(q, k, v, Masks(keyLengths: [5, 2], causal: true), .fused), out, relative: 1e-4, absolute: 1e-6)
    }

    func testThreeDimensionalInputsAreOneHead() {
        let q = randomTensor([2, 4, 3], seed: 51), k = randomTensor([2, 6, 3], seed: 52), v = randomTensor([2, 6, 5], seed: 53)
        let mask = randomMask([2, 4, 6], fraction: 0.3, seed: 54)
        let out = Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: mask)
        XCTAssertEqual(out.shape, [2, 4, 5])
        let fourD = Tensor.scaledDotProductAttention(query: q.unsqueezed(at: 1), key: k.unsqueezed(at: 1), value: v.unsqueezed(at: 1),
                                                     mask: mask.unsqueezed(at: 1), implementation: .plain)
        assertClose(out, fourD.squeezed(at: 1), relative: 1e-5, absolute: 1e-6)
        let (_, weights) = Tensor.scaledDotProductAttentionWithWeights(query: q, key: k, value: v, mask: mask)
        XCTAssertEqual(weights.shape, [2, 4, 6])
        checkGradient([q, k, v]) { t in Tensor.scaledDotProductAttention(query: t[0], key: t[1], value: t[2], mask: mask) }
    }

    func testDropoutOnWeightsIsSeededAndScaled() {
        let q = randomTensor([1, 2, 4, 3], seed: 61), k = randomTensor([1, 2, 5, 3], seed: 62), v = randomTensor([1, 2, 5, 2], seed: 63)
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
        let first = Tensor.scaledDotProductAttentionWithWeights(query: q, key: k, value: v, dropoutProbability: 0.5, using: &a)
        let second = Tensor.scaledDotProductAttentionWithWeights(query: q, key: k, value: v, dropoutProbability: 0.5, using: &b)
        XCTAssertEqual(first.output.scalars, second.output.scalars)
        XCTAssertEqual(a.next(), b.next())
        let plain = Tensor.scaledDotProductAttentionWithWeights(query: q, key: k, value: v).weights
        // Every weight is either dropped or doubled.
        for (dropped, kept) in zip(first.weights.scalars, plain.scalars) {
            XCTAssertTrue(dropped == 0 || abs(dropped - 2 * kept) < 1e-6)
        }
        assertClose(first.output, Tensor.matmul(first.weights, v), relative: 1e-5, absolute: 1e-6)
        checkGradient([q, k, v]) { t in
            var generator = RandomGenerator(seed: 9)
            return Tensor.scaledDotProductAttentionWithWeights(query: t[0], key: t[1], value: t[2], dropoutProbability: 0.5, using: &generator).output
        }
    }

    func testEmptySequences() {
        let q = Tensor.zeros([1, 1, 0, 4]), k = randomTensor([1, 1, 3, 4]), v = randomTensor([1, 1, 3, 2])
        XCTAssertEqual(Tensor.scaledDotProductAttention(query: q, key: k, value: v).shape, [1, 1, 0, 2])
        let noKeys = Tensor.scaledDotProductAttention(query: randomTensor([1, 1, 2, 4]), key: Tensor.zeros([1, 1, 0, 4]), value: Tensor.zeros([1, 1, 0, 2]))
        XCTAssertEqual(noKeys.scalars, [0, 0, 0, 0])
    }

    func testShapeErrorsNameBothShapes() {
        func message(_ q: [Int], _ k: [Int], _ v: [Int], mask: [Int]? = nil, padding: [Int]? = nil, lengths: [Int]? = nil) -> String {
            do {
                try Tensor.checkAttention(queryShape: q, keyShape: k, valueShape: v, maskShape: mask, keyPaddingShape: padding, keyLengths: lengths)
                return ""
            } catch { return error.message }
        }
        XCTAssertEqual(message([2, 3, 4, 8], [2, 3, 5, 6], [2, 3, 5, 6]),
                       "scaledDotProductAttention: key width 6 differs from query width 8: key [2, 3, 5, 6], query [2, 3, 4, 8]")
        XCTAssertTrue(message([2, 3, 4, 8], [2, 3, 5, 8], [2, 3, 6, 8]).contains("value [2, 3, 6, 8] does not fit key [2, 3, 5, 8]"))
        XCTAssertTrue(message([2, 3, 4, 8], [2, 2, 5, 8], [2, 2, 5, 8]).contains("key [2, 2, 5, 8] and query [2, 3, 4, 8]"))
        XCTAssertEqual(message([2, 3, 4, 8], [2, 3, 5, 8], [2, 3, 5, 8], mask: [4, 4]),
                       "scaledDotProductAttention: mask [4, 4] does not broadcast to the scores [2, 3, 4, 5] (B, h, Tq, Tk)")
        XCTAssertTrue(message([2, 4, 8], [2, 5, 8], [2, 5, 8], padding: [5, 2]).contains("key padding mask [5, 2] must be (B, Tk) = [2, 5]"))
        XCTAssertTrue(message([2, 4, 8], [2, 5, 8], [2, 5, 8], lengths: [5, 6]).contains("key length 6 must be in 0...5"))
        XCTAssertEqual(message([2, 4, 8], [2, 5, 8], [2, 5, 8], mask: [2, 4, 5], lengths: [5, 3]), "")
    }

    func testMatchesPyTorchScaledDotProductAttention() throws {
        for name in ["basic", "mask", "mask2d", "causal", "causal_rect", "scale", "3d", "long_causal", "long_mask"] {
            let f = try Fixtures.load("attention/sdpa_\(name)")
            let causal = name.contains("causal")
            let scale = f["scale"]?.item
            for path in [AttentionImplementation.fused, .plain] {
                let (out, grads) = gradients(f["q"]!, f["k"]!, f["v"]!, dy: f["dy"]!) { q, k, v in
                    Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: f["mask"], causal: causal, scale: scale, implementation: path)
                }
                let label = "\(name), \(path)"
                assertClose(out, f["out"]!, relative: 1e-4, absolute: 1e-5, label)
                assertClose(grads[0], f["dq"]!, relative: 1e-4, absolute: 1e-5, "dq \(label)")
                assertClose(grads[1], f["dk"]!, relative: 1e-4, absolute: 1e-5, "dk \(label)")
                assertClose(grads[2], f["dv"]!, relative: 1e-4, absolute: 1e-5, "dv \(label)")
                print("sdpa_\(name) \(path): max relative difference out \(maxRelativeDifference(out, f["out"]!)), dq \(maxRelativeDifference(grads[0], f["dq"]!)), dk \(maxRelativeDifference(grads[1], f["dk"]!)), dv \(maxRelativeDifference(grads[2], f["dv"]!))")
            }
        }
    }

    func testThreadCountDoesNotChangeResults() {
        let q = randomTensor([1, 2, 70, 16], seed: 71), k = randomTensor([1, 2, 90, 16], seed: 72), v = randomTensor([1, 2, 90, 16], seed: 73)
        let dy = randomTensor([1, 2, 70, 16], seed: 74)
        let one = Parallelism.withThreads(1) { gradients(q, k, v, dy: dy) { attention($0, $1, $2, Masks(causal: true), .fused) } }
        let all = gradients(q, k, v, dy: dy) { attention($0, $1, $2, Masks(causal: true), .fused) }
        XCTAssertEqual(one.0.scalars, all.0.scalars)
        for (a, b) in zip(one.1, all.1) { XCTAssertEqual(a.scalars, b.scalars) }
    }
}
