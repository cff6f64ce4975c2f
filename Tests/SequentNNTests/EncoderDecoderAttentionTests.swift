import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// The one scoring/softmax/context path of `EncoderDecoderAttention`: gradients of every
/// score with masks, exact zeros at masked positions, rows that sum to 1, errors.
final class EncoderDecoderAttentionTests: XCTestCase {
    // B = 2, S = 4, Hq = 3, Hv = 5, A = 3. Batch entry 1 has two padded positions.
    private let mask = Tensor(shape: [2, 4], scalars: [0, 0, 0, 0, 0, 0, 1, 1])

    /// [context; alignment], (B, Hv + S), through the static path with explicit weights.
    private func attend(query: Tensor, values: Tensor, keyWeight: Tensor?, queryWeight: Tensor?,
                        energyWeight: Tensor?, mask: Tensor?) -> Tensor {
        let keys = EncoderDecoderAttention.keys(values: values, weight: keyWeight)
        let energy = EncoderDecoderAttention.energy(query: query, keys: keys, queryWeight: queryWeight, energyWeight: energyWeight)
        let (context, alignment) = EncoderDecoderAttention.alignedContext(energy: energy, values: values, mask: mask)
        return Tensor.concatenate([context, alignment], alongAxis: 1)
    }

    func testAdditiveGradientWithMask() {
        let inputs = [randomTensor([2, 3], seed: 1), randomTensor([2, 4, 5], seed: 2),
                      randomTensor([3, 5], seed: 3), randomTensor([3, 3], seed: 4), randomTensor([3], seed: 5)]
        for mask in [nil, mask] {
            checkGradient(inputs) { x in
                attend(query: x[0], values: x[1], keyWeight: x[2], queryWeight: x[3], energyWeight: x[4], mask: mask)
            }
        }
    }

    func testGeneralGradientWithMask() {
        let inputs = [randomTensor([2, 3], seed: 1), randomTensor([2, 4, 5], seed: 2), randomTensor([3, 5], seed: 3)]
        for mask in [nil, mask] {
            checkGradient(inputs) { x in
                attend(query: x[0], values: x[1], keyWeight: x[2], queryWeight: nil, energyWeight: nil, mask: mask)
            }
        }
    }

    func testDotGradientWithMask() {
        let inputs = [randomTensor([2, 5], seed: 1), randomTensor([2, 4, 5], seed: 2)]
        for mask in [nil, mask] {
            checkGradient(inputs) { x in
                attend(query: x[0], values: x[1], keyWeight: nil, queryWeight: nil, energyWeight: nil, mask: mask)
            }
        }
    }

    /// The module computes exactly the static path with its own parameters.
    func testModuleIsTheStaticPath() throws {
        var generator = RandomGenerator(seed: 3)
        let attention = try EncoderDecoderAttention(score: .additive, querySize: 3, valueSize: 5, attentionSize: 4, generator: &generator)
        XCTAssertEqual(attention.namedParameters().map(\.key), ["v", "query.weight", "key.weight"])
        let (query, values) = (randomTensor([2, 3], seed: 1), randomTensor([2, 4, 5], seed: 2))
        let (context, alignment) = attention(query: query, memory: try attention.memory(values: values, mask: mask))
        let expected = attend(query: query, values: values, keyWeight: attention.keyProjection!.weight.value,
                              queryWeight: attention.queryProjection!.weight.value,
                              energyWeight: attention.energyWeight!.value, mask: mask)
        assertClose(Tensor.concatenate([context, alignment], alongAxis: 1), expected, relative: 0, absolute: 0)
    }

    /// Masked weights are exactly 0 even for large energies, rows sum to 1, and the values
    /// behind the mask never reach the context.
    func testMaskedPositionsGetExactlyZeroWeight() throws {
        var generator = RandomGenerator(seed: 5)
        for score in [AlignmentScore.additive, .multiplicative(.dot), .multiplicative(.general)] {
            let attention = try EncoderDecoderAttention(score: score, querySize: 5, valueSize: 5, generator: &generator)
            let query = randomTensor([2, 5], lower: -30, upper: 30, seed: 1)
            let values = randomTensor([2, 4, 5], lower: -30, upper: 30, seed: 2)
            let (context, alignment) = attention(query: query, memory: try attention.memory(values: values, mask: mask))
            XCTAssertEqual(alignment.scalars[6], 0, "\(score)")
            XCTAssertEqual(alignment.scalars[7], 0, "\(score)")
            assertClose(alignment.sum(alongAxis: 1), Tensor([1, 1]), relative: 0, absolute: 1e-6, "\(score)")
            XCTAssertTrue(alignment.scalars.allSatisfy { $0 >= 0 })
            // Other values behind the mask change nothing.
            var changed = values.scalars
            for j in 2..<4 { for h in 0..<5 { changed[(4 + j) * 5 + h] = 1000 } }
            let changedValues = Tensor(shape: values.shape, scalars: changed)
            let (context2, alignment2) = attention(query: query, memory: try attention.memory(values: changedValues, mask: mask))
            assertClose(alignment2, alignment, relative: 0, absolute: 0, "\(score)")
            assertClose(context2, context, relative: 0, absolute: 0, "\(score)")
        }
    }

    func testErrors() throws {
        var generator = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try EncoderDecoderAttention(score: .multiplicative(.dot), querySize: 3, valueSize: 5, generator: &generator)) {
            XCTAssertTrue("\($0)".contains("dot score"), "\($0)")
        }
        XCTAssertThrowsError(try EncoderDecoderAttention(score: .additive, querySize: 0, valueSize: 5, generator: &generator))
        let attention = try EncoderDecoderAttention(score: .multiplicative(.general), querySize: 3, valueSize: 5, generator: &generator)
        XCTAssertThrowsError(try attention.memory(values: Tensor.zeros([2, 4, 4]), mask: nil))
        XCTAssertThrowsError(try attention.memory(values: Tensor.zeros([2, 4, 5]), mask: Tensor.zeros([2, 3])))
        XCTAssertThrowsError(try attention.memory(values: Tensor.zeros([2, 4, 5]), mask: Tensor.ones([2, 4]))) {
            XCTAssertTrue("\($0)".contains("every source position"), "\($0)")
        }
    }
}
