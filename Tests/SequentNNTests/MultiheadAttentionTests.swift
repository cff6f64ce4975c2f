import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Attention/MultiheadAttention.swift`.
final class MultiheadAttentionTests: XCTestCase {
    private func layer(_ e: Int, _ h: Int, dropout: Float = 0, bias: Bool = true, batchFirst: Bool = true, seed: UInt64 = 1) -> MultiheadAttention {
        var generator = RandomGenerator(seed: seed)
        return try! MultiheadAttention(embedDim: e, headCount: h, dropout: dropout, bias: bias, batchFirst: batchFirst, generator: &generator)
    }

    func testKeysShapesAndInitialisation() throws {
        let mha = layer(16, 4)
        XCTAssertEqual(mha.namedParameters().map(\.key), ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"])
        XCTAssertEqual(mha.namedParameters().map(\.parameter.shape), [[48, 16], [48], [16, 16], [16]])
        let xavier = (6 / Float(64)).squareRoot()
        XCTAssertTrue(mha.inProjectionWeight.value.scalars.allSatisfy { abs($0) <= xavier })
        XCTAssertGreaterThan(mha.inProjectionWeight.value.scalars.max()!, 0.9 * xavier)
        XCTAssertTrue(mha.outProjection.weight.value.scalars.allSatisfy { abs($0) <= 0.25 })
        XCTAssertEqual(mha.inProjectionBias!.value.scalars, [Float](repeating: 0, count: 48))
        XCTAssertEqual(mha.outProjection.bias!.value.scalars, [Float](repeating: 0, count: 16))
        XCTAssertEqual(layer(8, 2, bias: false).namedParameters().map(\.key), ["in_proj_weight", "out_proj.weight"])

        let x = randomTensor([2, 5, 16], seed: 2)
        let (out, weights) = try mha(query: x, key: x, value: x, needWeights: true)
        XCTAssertEqual(out.shape, [2, 5, 16])
        XCTAssertEqual(weights?.shape, [2, 5, 5])
        let perHead = try mha(query: x, key: x, value: x, needWeights: true, averageAttentionWeights: false).weights
        XCTAssertEqual(perHead?.shape, [2, 4, 5, 5])
        XCTAssertNil(try mha(query: x, key: x, value: x).weights)

        let sequenceFirst = layer(16, 4, batchFirst: false)
        let memory = randomTensor([7, 2, 16], seed: 3)
        XCTAssertEqual(try sequenceFirst(query: x.transposed(0, 1), key: memory, value: memory).output.shape, [5, 2, 16])
    }

    /// The fused path (no weights) and the plain path (weights) give the same outputs and gradients.
    func testFusedAndPlainPathsAgree() throws {
        let mha = layer(12, 3, seed: 4)
        let query = randomTensor([2, 6, 12], seed: 5), memory = randomTensor([2, 9, 12], seed: 6), dy = randomTensor([2, 6, 12], seed: 7)
        var results: [(Tensor, [Tensor])] = []
        for needWeights in [false, true] {
            mha.zeroGradients()
            let (y, _) = try mha(query: query, key: memory, value: memory, keyLengths: [9, 4], causal: true, needWeights: needWeights)
            (y * dy).sum().backward()
            results.append((y, mha.parameters().map { $0.grad! }))
        }
        assertClose(results[0].0, results[1].0, relative: 1e-4, absolute: 1e-6)
        for (a, b) in zip(results[0].1, results[1].1) { assertClose(a, b, relative: 1e-3, absolute: 1e-5) }
    }

    /// selfAttention(x) is self(query: x, key: x, value: x).output: with gradients (the same
    /// values and parameter gradients) and without (the packed kernel), sequence-first, with a
    /// per-head mask and key lengths.
    func testSelfAttentionIsAttentionOfXOnItself() throws {
        let mha = layer(12, 3, batchFirst: false, seed: 8)
        let x = randomTensor([7, 2, 12], seed: 9), dy = randomTensor([7, 2, 12], seed: 10)
        let mask = Tensor(shape: [6, 7, 7], scalars: (0..<(6 * 49)).map { $0 % 5 == 1 ? 1 : 0 })
        func run(_ packed: Bool) throws -> (Tensor, [Tensor]) {
            mha.zeroGradients()
            let y = packed
                ? try mha.selfAttention(x, keyLengths: [7, 5], attentionMask: mask, causal: true)
                : try mha(query: x, key: x, value: x, keyLengths: [7, 5], attentionMask: mask, causal: true).output
            (y * dy).sum().backward()
            return (y, mha.parameters().map { $0.grad! })
        }
        let (expected, expectedGradients) = try run(false)
        let (packed, packedGradients) = try run(true)
        assertClose(packed, expected, relative: 1e-5, absolute: 1e-6)
        for (a, b) in zip(packedGradients, expectedGradients) { assertClose(a, b, relative: 1e-4, absolute: 1e-6) }
        let inference = try withoutGradients { try mha.selfAttention(x, keyLengths: [7, 5], attentionMask: mask, causal: true) }
        assertClose(inference, expected, relative: 1e-5, absolute: 1e-6)
    }

    func testMatchesPyTorch() throws {
        for name in ["self_bf", "cross_kpm", "causal_kpm", "mask3d"] {
            let f = try Fixtures.load("attention/mha_\(name)")
            let e = f["in_proj_weight"]!.shape[1]
            let heads = ["self_bf": 2, "cross_kpm": 4, "causal_kpm": 3, "mask3d": 2][name]!
            let batchFirst = name != "cross_kpm"
            let mha = layer(e, heads, batchFirst: batchFirst)
            try mha.loadStateDictionary(["in_proj_weight": f["in_proj_weight"]!, "in_proj_bias": f["in_proj_bias"]!,
                                         "out_proj.weight": f["out_proj.weight"]!, "out_proj.bias": f["out_proj.bias"]!])
            let inputs = f["x"].map { [$0.requiringGrad()] } ?? [f["query"]!, f["key"]!, f["value"]!].map { $0.requiringGrad() }
            let (query, key, value) = inputs.count == 1 ? (inputs[0], inputs[0], inputs[0]) : (inputs[0], inputs[1], inputs[2])
            let weightsMode = f["weights"].map { $0.rank == 3 ? "averaged" : "per head" } ?? "none"
            let (y, weights) = try mha(query: query, key: key, value: value, keyPaddingMask: f["key_padding_mask"],
                                       attentionMask: f["attn_mask"], needWeights: weightsMode != "none",
                                       averageAttentionWeights: weightsMode == "averaged")
            var loss = (y * f["dy"]!).sum()
            if let weights { loss = loss + (weights * f["dweights"]!).sum() }
            loss.backward()

            var report: [String] = []
            func check(_ actual: Tensor, _ key: String) {
                assertClose(actual, f[key]!, relative: 1e-4, absolute: 1e-5, "\(name) \(key)")
                report.append("\(key) \(maxRelativeDifference(actual, f[key]!))")
            }
            check(y, "out")
            if let weights { check(weights, "weights") }
            if inputs.count == 1 { check(inputs[0].grad!, "dx") } else {
                check(inputs[0].grad!, "dquery"); check(inputs[1].grad!, "dkey"); check(inputs[2].grad!, "dvalue")
            }
            for (key, parameter) in mha.namedParameters() { check(parameter.grad!, "d" + key) }
            print("mha_\(name) (\(weightsMode) weights): max relative difference " + report.joined(separator: ", "))
        }
    }

    func testGradientCheck() throws {
        let mha = layer(4, 2, seed: 8)
        let query = randomTensor([1, 3, 4], seed: 9), memory = randomTensor([1, 4, 4], seed: 10)
        let padding = Tensor([[0, 0, 1, 0]])
        checkGradient([query, memory, mha.inProjectionWeight.value, mha.outProjection.weight.value]) { t in
            // The module's parameters stand in for t[2], t[3] through the functional pieces.
            let q = Tensor.linear(t[0], weight: t[2].slice(alongAxis: 0, 0..<4), bias: nil).reshaped(to: [1, 3, 2, 2]).permuted([0, 2, 1, 3])
            let k = Tensor.linear(t[1], weight: t[2].slice(alongAxis: 0, 4..<8), bias: nil).reshaped(to: [1, 4, 2, 2]).permuted([0, 2, 1, 3])
            let v = Tensor.linear(t[1], weight: t[2].slice(alongAxis: 0, 8..<12), bias: nil).reshaped(to: [1, 4, 2, 2]).permuted([0, 2, 1, 3])
            let heads = Tensor.scaledDotProductAttention(query: q, key: k, value: v, keyPaddingMask: padding, causal: true)
            return Tensor.linear(heads.permuted([0, 2, 1, 3]).reshaped(to: [1, 3, 4]), weight: t[3], bias: nil)
        }
        // And the module itself, inputs only.
        checkGradient([query, memory]) { t in try! mha(query: t[0], key: t[1], value: t[1], keyPaddingMask: padding).output }
    }

    func testDropoutOnlyInTrainingAndSeeded() throws {
        let x = randomTensor([2, 5, 8], seed: 11)
        let a = layer(8, 2, dropout: 0.5, seed: 12), b = layer(8, 2, dropout: 0.5, seed: 12)
        let first = try a(query: x, key: x, value: x, needWeights: true, averageAttentionWeights: false)
        let second = try b(query: x, key: x, value: x, needWeights: true, averageAttentionWeights: false)
        XCTAssertEqual(first.output.scalars, second.output.scalars, "same seed, same masks")
        XCTAssertTrue(first.weights!.scalars.contains(0), "weights are dropped")
        let again = try a(query: x, key: x, value: x).output
        XCTAssertNotEqual(again.scalars, first.output.scalars, "the generator advances")
        a.setTraining(false)
        let evaluation1 = try a(query: x, key: x, value: x).output, evaluation2 = try a(query: x, key: x, value: x).output
        XCTAssertEqual(evaluation1.scalars, evaluation2.scalars)
        let noDropout = layer(8, 2, seed: 12)
        assertClose(evaluation1, try noDropout(query: x, key: x, value: x).output, relative: 1e-5, absolute: 1e-6)
    }

    func testFullyPaddedEntryGivesFiniteOutput() throws {
        let mha = layer(8, 2, seed: 13)
        let x = randomTensor([2, 3, 8], seed: 14).requiringGrad()
        let (y, weights) = try mha(query: x, key: x, value: x, keyLengths: [3, 0], needWeights: true)
        XCTAssertFalse(y.hasNonFinite)
        XCTAssertEqual(Array(weights!.scalars[9..<18]), [Float](repeating: 0, count: 9))
        y.sum().backward()
        XCTAssertFalse(x.grad!.hasNonFinite)
        XCTAssertFalse(mha.inProjectionWeight.grad!.hasNonFinite)
    }

    func testErrorsNameTheShapes() {
        var generator = RandomGenerator(seed: 15)
        XCTAssertThrowsError(try MultiheadAttention(embedDim: 10, headCount: 3, generator: &generator)) { error in
            XCTAssertEqual((error as? SequentError)?.message, "MultiheadAttention: embedDim 10 is not divisible by headCount 3")
        }
        let mha = layer(8, 2)
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return (error as? SequentError)?.message ?? "\(error)" }
        }
        let x = Tensor.zeros([2, 5, 8])
        XCTAssertEqual(message { _ = try mha(query: Tensor.zeros([2, 5, 6]), key: x, value: x) },
                       "MultiheadAttention: expected query of shape (B, L, 8), got [2, 5, 6]")
        XCTAssertEqual(message { _ = try mha(query: x, key: Tensor.zeros([2, 7, 4]), value: Tensor.zeros([2, 7, 4])) },
                       "MultiheadAttention: key [2, 7, 4] does not fit query [2, 5, 8] (expected (B, S, E) with E = 8)")
        XCTAssertEqual(message { _ = try mha(query: x, key: Tensor.zeros([2, 7, 8]), value: Tensor.zeros([2, 6, 8])) },
                       "MultiheadAttention: value [2, 6, 8] does not fit key [2, 7, 8] (they must have the same shape)")
        XCTAssertEqual(message { _ = try mha(query: x, key: x, value: x, attentionMask: Tensor.zeros([5, 4])) },
                       "MultiheadAttention: attention mask [5, 4] must be (L, S) = [5, 5] or (B*h, L, S) = [4, 5, 5] for query [2, 5, 8] and key [2, 5, 8]")
        XCTAssertEqual(message { _ = try mha(query: x, key: x, value: x, keyPaddingMask: Tensor.zeros([5, 2])) },
                       "MultiheadAttention: key padding mask [5, 2] must be (B, S) = [2, 5] for key [2, 5, 8]")
        XCTAssertEqual(message { _ = try mha(query: x, key: Tensor.zeros([3, 5, 8]), value: Tensor.zeros([3, 5, 8])) },
                       "MultiheadAttention: key [3, 5, 8] and query [2, 5, 8] differ in batch size")
    }
}
