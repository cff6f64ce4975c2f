import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Transformer/TransformerDecoderLayer.swift`.
final class TransformerDecoderLayerTests: XCTestCase {
    private func layer(
        _ d: Int = 8, _ h: Int = 2, ff: Int = 16, dropout: Float = 0, activation: TransformerActivation = .relu,
        batchFirst: Bool = true, normFirst: Bool = false, seed: UInt64 = 1
    ) -> TransformerDecoderLayer {
        var generator = RandomGenerator(seed: seed)
        return try! TransformerDecoderLayer(dModel: d, headCount: h, dimFeedforward: ff, dropout: dropout, activation: activation,
                                            batchFirst: batchFirst, normFirst: normFirst, generator: &generator)
    }

    func testKeysAreThoseOfPyTorch() {
        let attention = ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
        XCTAssertEqual(layer().namedParameters().map(\.key),
                       attention.map { "self_attn." + $0 } + attention.map { "multihead_attn." + $0 }
                       + ["linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
                          "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias", "norm3.weight", "norm3.bias"])
    }

    /// nn.TransformerDecoderLayer: post-norm relu batch-first with a causal target and memory
    /// key padding; pre-norm gelu sequence-first with target key padding and a memory mask.
    func testMatchesPyTorch() throws {
        for (name, activation, batchFirst, normFirst) in [("dec_post_relu_causal", TransformerActivation.relu, true, false),
                                                          ("dec_pre_gelu_masks", .gelu, false, true)] {
            let f = try Fixtures.load("transformer/\(name)")
            let decoderLayer = layer(activation: activation, batchFirst: batchFirst, normFirst: normFirst)
            try loadPyTorchParameters(decoderLayer, from: f)
            let tgt = f["tgt"]!.requiringGrad(), memory = f["memory"]!.requiringGrad()
            let out = try decoderLayer(tgt, memory: memory, memoryMask: f["memory_mask"],
                                       targetKeyPaddingMask: f["tgt_key_padding_mask"],
                                       memoryKeyPaddingMask: f["memory_key_padding_mask"], targetCausal: name.hasSuffix("causal"))
            (out * f["dy"]!).sum().backward()
            checkAgainstPyTorch(name, output: out, inputs: [("tgt", tgt), ("memory", memory)], module: decoderLayer, fixture: f)
        }
    }

    func testGradientCheck() throws {
        let decoderLayer = layer(4, 2, ff: 6, activation: .gelu, normFirst: true, seed: 2)
        checkGradient([randomTensor([1, 3, 4], seed: 3), randomTensor([1, 4, 4], seed: 4)]) { t in
            try! decoderLayer(t[0], memory: t[1], memoryKeyPaddingMask: Tensor([[0, 0, 0, 1]]), targetCausal: true)
        }
    }

    /// One target position at a time through the cache gives the full causal pass (1e-5).
    func testIncrementalEqualsFullCausal() throws {
        for (normFirst, batchFirst) in [(false, true), (true, false)] {
            let decoderLayer = layer(activation: .gelu, batchFirst: batchFirst, normFirst: normFirst, seed: 5)
            decoderLayer.setTraining(false)
            let (tgt, memory) = (randomTensor([2, 6, 8], seed: 6), randomTensor([2, 5, 8], seed: 7))
            let layout = { (t: Tensor) in batchFirst ? t : t.transposed(0, 1) }
            let padding = Tensor([[0, 0, 0, 0, 0], [0, 0, 0, 1, 1]])
            let full = try decoderLayer(layout(tgt), memory: layout(memory), memoryKeyPaddingMask: padding, targetCausal: true)
            let cache = TransformerDecoderLayer.Cache()
            var steps: [Tensor] = []
            for t in 0..<6 {
                let position = layout(tgt.slice(alongAxis: 1, t..<(t + 1)))
                steps.append(try decoderLayer(position, memory: layout(memory), cache: cache, memoryKeyPaddingMask: padding))
            }
            XCTAssertEqual(cache.length, 6)
            XCTAssertEqual(cache.memory.length, 5)
            assertClose(Tensor.concatenate(steps, alongAxis: batchFirst ? 1 : 0), full, relative: 1e-5, absolute: 1e-5)
        }
    }

    func testErrorsNameTheShapes() {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return (error as? SequentError)?.message ?? "\(error)" }
        }
        let decoderLayer = layer()
        XCTAssertEqual(message { _ = try decoderLayer(Tensor.zeros([2, 3, 8]), memory: Tensor.zeros([2, 4, 6])) },
                       "TransformerDecoderLayer: expected memory of shape (B, S, 8), got [2, 4, 6]")
        XCTAssertEqual(message { _ = try decoderLayer(Tensor.zeros([2, 3, 8]), memory: Tensor.zeros([3, 4, 8])) },
                       "MultiheadAttention: key [3, 4, 8] and query [2, 3, 8] differ in batch size")
        let cache = TransformerDecoderLayer.Cache()
        _ = try? decoderLayer(Tensor.zeros([2, 1, 8]), memory: Tensor.zeros([2, 4, 8]), cache: cache)
        XCTAssertEqual(message { _ = try decoderLayer(Tensor.zeros([2, 1, 8]), memory: Tensor.zeros([2, 5, 8]), cache: cache) },
                       "MultiheadAttention: the memory cache holds batch 2 and length 4, the memory [2, 5, 8] differs; reset the cache for a new memory")
    }
}
