import SequentTensor
import TestSupport
import XCTest

/// Tests of `Tensor+Shape.swift`: reshape, permute, slice, concatenate, stack, squeeze, expand.
final class TensorShapeTests: XCTestCase {
    let cube = Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))

    // MARK: Forward values

    func testReshape() {
        let r = cube.reshaped(to: [4, 6])
        XCTAssertEqual(r.shape, [4, 6])
        XCTAssertEqual(r.scalars, cube.scalars)
        XCTAssertEqual(cube.reshaped(to: [-1, 4]).shape, [6, 4])
        XCTAssertEqual(cube.reshaped(to: [2, -1, 2]).shape, [2, 6, 2])
        XCTAssertEqual(Tensor(3).reshaped(to: [1, 1]).shape, [1, 1])
        XCTAssertEqual(Tensor([3]).reshaped(to: []).shape, [])
        XCTAssertEqual(Tensor.zeros([0, 3]).reshaped(to: [-1, 3]).shape, [0, 3])
    }

    func testPermuteAndTranspose() {
        let p = cube.permuted([2, 0, 1])
        XCTAssertEqual(p.shape, [4, 2, 3])
        for i in 0..<4 { for j in 0..<2 { for k in 0..<3 {
            XCTAssertEqual(p.scalars[(i * 2 + j) * 3 + k], cube.scalars[(j * 3 + k) * 4 + i])
        } } }
        let t = Tensor([[1, 2, 3], [4, 5, 6]]).transposed()
        XCTAssertEqual(t.shape, [3, 2])
        XCTAssertEqual(t.scalars, [1, 4, 2, 5, 3, 6])
        let swapped = cube.transposed(0, 2)
        XCTAssertEqual(swapped.shape, [4, 3, 2])
        XCTAssertEqual(swapped.scalars[1], 12)  // [0,0,1] <- cube[1,0,0]
        XCTAssertEqual(cube.permuted([0, 1, 2]).scalars, cube.scalars)
        XCTAssertEqual(Tensor.zeros([0, 2]).transposed().shape, [2, 0])
        // Permuting a permutation back gives the original.
        XCTAssertEqual(p.permuted([1, 2, 0]).scalars, cube.scalars)
    }

    func testSliceAndSelect() {
        let s = cube.slice(alongAxis: 1, 1..<3)
        XCTAssertEqual(s.shape, [2, 2, 4])
        XCTAssertEqual(s.scalars, [4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23])
        XCTAssertEqual(cube.slice(alongAxis: -1, 3..<4).scalars, [3, 7, 11, 15, 19, 23])
        XCTAssertEqual(cube.slice(alongAxis: 0, 1..<1).shape, [0, 3, 4])
        let row = cube.select(alongAxis: 0, index: 1)
        XCTAssertEqual(row.shape, [3, 4])
        XCTAssertEqual(row.scalars, (12..<24).map(Float.init))
        XCTAssertEqual(cube.select(alongAxis: 2, index: 0).scalars, [0, 4, 8, 12, 16, 20])
    }

    func testConcatenateAndStack() {
        let a = Tensor([[1, 2], [3, 4]]), b = Tensor([[5, 6]])
        let rows = Tensor.concatenate([a, b], alongAxis: 0)
        XCTAssertEqual(rows.shape, [3, 2])
        XCTAssertEqual(rows.scalars, [1, 2, 3, 4, 5, 6])
        let columns = Tensor.concatenate([a, Tensor([[9], [8]])], alongAxis: -1)
        XCTAssertEqual(columns.shape, [2, 3])
        XCTAssertEqual(columns.scalars, [1, 2, 9, 3, 4, 8])
        let withEmpty = Tensor.concatenate([a, Tensor.zeros([0, 2]), b], alongAxis: 0)
        XCTAssertEqual(withEmpty.scalars, rows.scalars)

        let stacked = Tensor.stack([Tensor([1, 2]), Tensor([3, 4]), Tensor([5, 6])])
        XCTAssertEqual(stacked.shape, [3, 2])
        XCTAssertEqual(stacked.scalars, [1, 2, 3, 4, 5, 6])
        let stackedLast = Tensor.stack([Tensor([1, 2]), Tensor([3, 4])], alongAxis: -1)
        XCTAssertEqual(stackedLast.shape, [2, 2])
        XCTAssertEqual(stackedLast.scalars, [1, 3, 2, 4])
        XCTAssertEqual(Tensor.stack([Tensor(1), Tensor(2)]).shape, [2])
    }

    func testUnsqueezeSqueeze() {
        let x = Tensor([1, 2, 3])
        XCTAssertEqual(x.unsqueezed(at: 0).shape, [1, 3])
        XCTAssertEqual(x.unsqueezed(at: 1).shape, [3, 1])
        XCTAssertEqual(x.unsqueezed(at: -1).shape, [3, 1])
        let y = Tensor.zeros([1, 3, 1, 2])
        XCTAssertEqual(y.squeezed().shape, [3, 2])
        XCTAssertEqual(y.squeezed(at: 2).shape, [1, 3, 2])
        XCTAssertEqual(y.squeezed(at: -4).shape, [3, 1, 2])
        XCTAssertEqual(Tensor.zeros([1, 1]).squeezed().shape, [])
    }

    func testExpand() {
        let column = Tensor([[1], [2]])
        let e = column.expanded(to: [3, 2, 4])
        XCTAssertEqual(e.shape, [3, 2, 4])
        XCTAssertEqual(Array(e.scalars[0..<8]), [1, 1, 1, 1, 2, 2, 2, 2])
        XCTAssertEqual(Tensor([1, 2, 3]).expanded(to: [2, 3]).scalars, [1, 2, 3, 1, 2, 3])
        XCTAssertEqual(Tensor(7).expanded(to: [2, 2]).scalars, [7, 7, 7, 7])
        XCTAssertEqual(Tensor([[1, 2]]).expanded(to: [0, 2]).shape, [0, 2])
    }

    // MARK: Gradients

    func testReshapeGradient() {
        checkGradient([randomTensor([2, 3, 4], seed: 1)]) { $0[0].reshaped(to: [4, -1]) * $0[0].reshaped(to: [4, 6]) }
    }

    func testPermuteTransposeGradients() {
        let x = randomTensor([2, 3, 4], seed: 2)
        checkGradient([x]) { $0[0].permuted([2, 0, 1]) }
        checkGradient([x]) { $0[0].permuted([1, 2, 0]) * 2 }
        checkGradient([x]) { $0[0].transposed() }
        checkGradient([x]) { $0[0].transposed(0, 2) }
    }

    func testSliceSelectGradients() {
        let x = randomTensor([3, 4, 5], seed: 3)
        checkGradient([x]) { $0[0].slice(alongAxis: 1, 1..<3) }
        checkGradient([x]) { $0[0].slice(alongAxis: 0, 0..<1) }
        checkGradient([x]) { $0[0].slice(alongAxis: -1, 2..<5) }
        checkGradient([x]) { $0[0].select(alongAxis: 2, index: 4) }
        checkGradient([x]) { $0[0].select(alongAxis: 0, index: 1) }
    }

    func testConcatenateStackGradients() {
        let a = randomTensor([2, 3], seed: 4), b = randomTensor([2, 1], seed: 5), c = randomTensor([2, 2], seed: 6)
        checkGradient([a, b, c]) { Tensor.concatenate($0, alongAxis: 1) }
        checkGradient([a, randomTensor([4, 3], seed: 7)]) { Tensor.concatenate($0, alongAxis: 0) }
        checkGradient([a, randomTensor([2, 3], seed: 8)]) { Tensor.stack($0, alongAxis: 1) }
        checkGradient([a, randomTensor([2, 3], seed: 9)]) { Tensor.stack($0) }
        // Only one input needs a gradient: the other is a constant.
        let constant = randomTensor([2, 3], seed: 10)
        checkGradient([a]) { Tensor.concatenate([constant, $0[0]], alongAxis: 0) }
    }

    func testUnsqueezeSqueezeExpandGradients() {
        let x = randomTensor([3, 1, 2], seed: 11)
        checkGradient([x]) { $0[0].unsqueezed(at: 0) }
        checkGradient([x]) { $0[0].squeezed() }
        checkGradient([x]) { $0[0].squeezed(at: 1) }
        checkGradient([x]) { $0[0].expanded(to: [2, 3, 4, 2]) }
        checkGradient([randomTensor([], seed: 12)]) { $0[0].expanded(to: [2, 3]) }
    }
}
