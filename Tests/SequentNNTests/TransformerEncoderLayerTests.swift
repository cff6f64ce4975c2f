import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Loads a fixture's parameters into `module` under their PyTorch keys.
func loadPyTorchParameters(_ module: any Module, from fixture: [String: Tensor]) throws {
    let keys = module.namedParameters().map(\.key)
    try module.loadStateDictionary(Dictionary(uniqueKeysWithValues: keys.map { ($0, fixture[$0]!) }))
}

/// Checks a module's output and the gradients of its inputs and of every parameter against
/// a fixture (`out`, `d<input>`, `d<key>`) within 1e-4 relative; prints the largest differences.
func checkAgainstPyTorch(
    _ name: String, output: Tensor, inputs: [(String, Tensor)], module: any Module, fixture f: [String: Tensor],
    file: StaticString = #filePath, line: UInt = #line
) {
    var report: [String] = []
    var worst: (key: String, difference: Float) = ("", 0)
    func check(_ actual: Tensor, _ key: String) {
        assertClose(actual, f[key]!, relative: 1e-4, absolute: 1e-5, "\(name) \(key)", file: file, line: line)
        let difference = maxRelativeDifference(actual, f[key]!)
        if difference > worst.difference { worst = (key, difference) }
        report.append("\(key) \(difference)")
    }
    check(output, "out")
    for (key, input) in inputs { check(input.grad!, "d" + key) }
    for (key, parameter) in module.namedParameters() { check(parameter.grad!, "d" + key) }
    print("\(name): \(report.count) tensors (out, input and parameter gradients), largest relative difference \(worst.difference) (\(worst.key))")
}

/// Tests of `Transformer/TransformerEncoderLayer.swift`.
final class TransformerEncoderLayerTests: XCTestCase {
    private func layer(
        _ d: Int = 8, _ h: Int = 2, ff: Int = 16, dropout: Float = 0, activation: TransformerActivation = .relu,
        batchFirst: Bool = true, normFirst: Bool = false, bias: Bool = true, seed: UInt64 = 1
    ) -> TransformerEncoderLayer {
        var generator = RandomGenerator(seed: seed)
        return try! TransformerEncoderLayer(dModel: d, headCount: h, dimFeedforward: ff, dropout: dropout, activation: activation,
                                            batchFirst: batchFirst, normFirst: normFirst, bias: bias, generator: &generator)
    }

    func testKeysAreThoseOfPyTorch() {
        XCTAssertEqual(layer().namedParameters().map(\.key), [
            "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
            "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
            "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
        ])
        XCTAssertEqual(layer().namedParameters().map(\.parameter.shape), [[24, 8], [24], [8, 8], [8], [16, 8], [16], [8, 16], [8], [8], [8], [8], [8]])
        XCTAssertEqual(layer(bias: false).namedParameters().map(\.key),
                       ["self_attn.in_proj_weight", "self_attn.out_proj.weight", "linear1.weight", "linear2.weight", "norm1.weight", "norm2.weight"])
    }

    /// nn.TransformerEncoderLayer: post-norm relu sequence-first with a src_mask; pre-norm
    /// gelu batch-first with key padding and the causal mask.
    func testMatchesPyTorch() throws {
        for (name, activation, batchFirst, normFirst) in [("enc_post_relu", TransformerActivation.relu, false, false),
                                                          ("enc_pre_gelu_kpm_causal", .gelu, true, true)] {
            let f = try Fixtures.load("transformer/\(name)")
            let encoderLayer = layer(activation: activation, batchFirst: batchFirst, normFirst: normFirst)
            try loadPyTorchParameters(encoderLayer, from: f)
            let src = f["src"]!.requiringGrad()
            let out = try encoderLayer(src, mask: f["src_mask"], keyPaddingMask: f["src_key_padding_mask"],
                                       causal: name.hasSuffix("causal"))
            (out * f["dy"]!).sum().backward()
            checkAgainstPyTorch(name, output: out, inputs: [("src", src)], module: encoderLayer, fixture: f)
        }
    }

    /// The causal flag alone equals the explicit causal mask.
    func testCausalFlagEqualsMask() throws {
        let encoderLayer = layer(normFirst: true, seed: 2)
        let x = randomTensor([2, 5, 8], seed: 3)
        assertClose(try encoderLayer(x, causal: true), try encoderLayer(x, mask: Transformer.generateSquareSubsequentMask(5)),
                    relative: 1e-5, absolute: 1e-6)
    }

    func testGradientCheck() throws {
        for normFirst in [false, true] {
            let encoderLayer = layer(4, 2, ff: 6, activation: .gelu, normFirst: normFirst, seed: 4)
            checkGradient([randomTensor([1, 3, 4], seed: 5)], epsilon: 1e-2, tolerance: 2e-2) { t in
                try! encoderLayer(t[0], keyPaddingMask: Tensor([[0, 0, 1]]), causal: true)
            }
        }
    }

    /// Feeding positions through the cache in pieces gives the full causal pass's rows.
    func testIncrementalEqualsFullCausal() throws {
        for (normFirst, batchFirst) in [(true, true), (false, false)] {
            let encoderLayer = layer(activation: .gelu, batchFirst: batchFirst, normFirst: normFirst, seed: 6)
            encoderLayer.setTraining(false)
            let x = randomTensor([2, 7, 8], seed: 7)
            let input = batchFirst ? x : x.transposed(0, 1)
            let full = try encoderLayer(input, causal: true)
            let cache = KeyValueCache()
            var pieces: [Tensor] = []
            for range in [0..<1, 1..<4, 4..<5, 5..<7] {
                let piece = batchFirst ? input.slice(alongAxis: 1, range) : input.slice(alongAxis: 0, range)
                pieces.append(try encoderLayer(piece, cache: cache))
            }
            XCTAssertEqual(cache.length, 7)
            assertClose(Tensor.concatenate(pieces, alongAxis: batchFirst ? 1 : 0), full, relative: 1e-5, absolute: 1e-5)
        }
    }

    func testDropoutOnlyInTrainingAndSeeded() throws {
        let x = randomTensor([2, 4, 8], seed: 8)
        let a = layer(dropout: 0.3, seed: 9), b = layer(dropout: 0.3, seed: 9)
        let first = try a(x)
        XCTAssertEqual(first.scalars, try b(x).scalars, "same seed, same masks")
        XCTAssertNotEqual(try a(x).scalars, first.scalars, "the generators advance")
        XCTAssertEqual(a.submodules.filter { $0.module is any StochasticModule }.map(\.key),
                       ["self_attn", "dropout", "dropout1", "dropout2"], "the trainer finds every generator")
        a.setTraining(false)
        let reference = layer(dropout: 0, seed: 9)
        assertClose(try a(x), try reference(x), relative: 1e-5, absolute: 1e-6)
    }

    func testErrorsNameTheShapes() {
        var generator = RandomGenerator(seed: 10)
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return (error as? SequentError)?.message ?? "\(error)" }
        }
        XCTAssertEqual(message { _ = try TransformerEncoderLayer(dModel: 10, headCount: 3, generator: &generator) },
                       "TransformerEncoderLayer: dModel 10 is not divisible by headCount 3")
        XCTAssertEqual(message { _ = try TransformerEncoderLayer(dModel: 8, headCount: 2, dropout: 1, generator: &generator) },
                       "TransformerEncoderLayer: dropout must be in [0, 1), got 1.0")
        XCTAssertEqual(message { _ = try self.layer()(Tensor.zeros([2, 5, 6])) },
                       "TransformerEncoderLayer: expected src of shape (B, T, 8), got [2, 5, 6]")
        XCTAssertEqual(message { _ = try self.layer(batchFirst: false)(Tensor.zeros([5, 8])) },
                       "TransformerEncoderLayer: expected src of shape (T, B, 8), got [5, 8]")
        XCTAssertEqual(message { _ = try self.layer()(Tensor.zeros([2, 5, 8]), keyPaddingMask: Tensor.zeros([2, 4])) },
                       "MultiheadAttention: key padding mask [2, 4] must be (B, S) = [2, 5] for key [2, 5, 8]")
    }
}
