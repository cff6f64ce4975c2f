import SequentTensor
import TestSupport
import XCTest

/// Tests of `Tensor+Dropout.swift`: inverted dropout with an explicit generator.
final class TensorDropoutTests: XCTestCase {
    func testKeptScalarsAreScaledAndTheRateIsRight() {
        var generator = RandomGenerator(seed: 1)
        let x = Tensor.ones([100_000])
        let y = x.dropout(probability: 0.3, using: &generator)
        let kept = y.scalars.filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.7) < 1e-6 })
        XCTAssertEqual(Double(kept.count) / 100_000, 0.7, accuracy: 0.01)
        XCTAssertEqual(Double(y.mean().item), 1, accuracy: 0.02)
        // Neighbouring scalars are dropped independently: both kept with probability 0.49.
        let pairs = stride(from: 0, to: 100_000, by: 2).filter { y.scalars[$0] != 0 && y.scalars[$0 + 1] != 0 }.count
        XCTAssertEqual(Double(pairs) / 50_000, 0.49, accuracy: 0.015)
        // Consecutive calls (consecutive keys) give unrelated masks: they agree ~58% of the time.
        let z = x.dropout(probability: 0.3, using: &generator)
        let agree = zip(y.scalars, z.scalars).filter { ($0 == 0) == ($1 == 0) }.count
        XCTAssertEqual(Double(agree) / 100_000, 0.7 * 0.7 + 0.3 * 0.3, accuracy: 0.01)
    }

    func testSameGeneratorStateGivesTheSameMask() {
        let x = randomTensor([40_000], seed: 2)
        var a = RandomGenerator(seed: 3), b = RandomGenerator(seed: 3)
        let first = x.dropout(probability: 0.5, using: &a)
        XCTAssertEqual(first.scalars, x.dropout(probability: 0.5, using: &b).scalars)
        XCTAssertNotEqual(first.scalars, x.dropout(probability: 0.5, using: &a).scalars, "the generator advances")
    }

    func testMaskDoesNotDependOnThreadCount() {
        let x = Tensor.ones([100_000])
        let one = Parallelism.withThreads(1) { () -> [Float] in
            var generator = RandomGenerator(seed: 4)
            return x.dropout(probability: 0.2, using: &generator).scalars
        }
        let two = Parallelism.withThreads(2) { () -> [Float] in
            var generator = RandomGenerator(seed: 4)
            return x.dropout(probability: 0.2, using: &generator).scalars
        }
        XCTAssertEqual(one, two)
    }

    func testGradientCheckWithAFixedMask() {
        let x = randomTensor([3, 7], seed: 5)
        checkGradient([x], tolerance: 1e-2) { t in
            var generator = RandomGenerator(seed: 6)  // the same mask at every evaluation
            return t[0].dropout(probability: 0.4, using: &generator)
        }
    }

    func testGradientIsTheMask() {
        let x = randomTensor([50], seed: 7).requiringGrad()
        var generator = RandomGenerator(seed: 8)
        let y = x.dropout(probability: 0.5, using: &generator)
        y.sum().backward()
        for (dx, (yi, xi)) in zip(x.grad!.scalars, zip(y.scalars, x.scalars)) {
            XCTAssertEqual(dx, yi == 0 ? 0 : 2, "x \(xi)")
        }
    }

    func testZeroProbabilityIsIdentityAndDrawsNothing() {
        var generator = RandomGenerator(seed: 9)
        let before = generator
        let x = randomTensor([10], seed: 10)
        XCTAssertEqual(x.dropout(probability: 0, using: &generator).scalars, x.scalars)
        var copy = before
        XCTAssertEqual(generator.next(), copy.next())
    }

    /// Each share of a batch split along its first axis gets its rows of the whole batch's
    /// mask, forward and backward (data-parallel dropout equal to one process's).
    func testSharesOfABatchGetTheirRowsOfTheWholeMask() {
        let batch = randomTensor([6, 5], seed: 9)  // 6 rows: 3 shares of 2, 2 of 3
        var generator = RandomGenerator(seed: 10)
        let whole = batch.dropout(probability: 0.5, using: &generator)
        for shares in [2, 3] {
            let rows = 6 / shares
            for share in 0..<shares {
                let part = batch.slice(alongAxis: 0, (share * rows)..<((share + 1) * rows)).requiringGrad()
                var same = RandomGenerator(seed: 10)
                let dropped = BatchShard.with(index: share, count: shares) { part.dropout(probability: 0.5, using: &same) }
                let expected = whole.slice(alongAxis: 0, (share * rows)..<((share + 1) * rows))
                XCTAssertEqual(dropped.scalars, expected.scalars, "share \(share) of \(shares)")
                dropped.sum().backward()
                XCTAssertEqual(part.grad?.scalars, expected.scalars.map { $0 == 0 ? 0 : 2 }, "gradient of share \(share) of \(shares)")
            }
        }
    }

    /// Shares of unequal rows (`with(firstRow:rows:)`): each gets its rows of the whole
    /// batch's mask, for a batch-first (B, T, D) tensor, forward and backward.
    func testUnequalSharesGetTheirRowsOfTheWholeMask() {
        let batch = randomTensor([5, 3, 4], seed: 12)
        var generator = RandomGenerator(seed: 13)
        let whole = batch.dropout(probability: 0.5, using: &generator)
        for rows in [0..<2, 2..<5, 4..<5] {
            let part = batch.slice(alongAxis: 0, rows).requiringGrad()
            var same = RandomGenerator(seed: 13)
            let dropped = BatchShard.with(index: 1, count: 2) {  // the inner share holds
                BatchShard.with(firstRow: rows.lowerBound, rows: rows.count) { part.dropout(probability: 0.5, using: &same) }
            }
            let expected = whole.slice(alongAxis: 0, rows)
            XCTAssertEqual(dropped.scalars, expected.scalars, "rows \(rows)")
            dropped.sum().backward()
            XCTAssertEqual(part.grad?.scalars, expected.scalars.map { $0 == 0 ? 0 : 2 }, "gradient of rows \(rows)")
        }
    }

    /// Time-major (T, B, F) tensors: a share of rows is one block of every time step's
    /// slice of the whole batch's tensor, and takes exactly those scalars of its mask
    /// (forward and backward), including blocks shorter than the kernel's 16 lanes and a
    /// (T, B) tensor without a feature axis. A tensor whose axis 1 is not the share's rows
    /// is placed as batch-first.
    func testTimeMajorSharesGetTheirRowsOfTheWholeMask() {
        for shape in [[7, 5, 3], [4, 5, 40], [6, 5]] {
            let batch = randomTensor(shape, seed: 21)
            var generator = RandomGenerator(seed: 22)
            let whole = batch.dropout(probability: 0.5, using: &generator)
            for rows in [0..<2, 2..<5, 4..<5, 0..<5] {
                let part = batch.slice(alongAxis: 1, rows).requiringGrad()
                var same = RandomGenerator(seed: 22)
                let dropped = BatchShard.with(firstRow: rows.lowerBound, rows: rows.count, of: 5, batchAxis: 1) {
                    part.dropout(probability: 0.5, using: &same)
                }
                let expected = whole.slice(alongAxis: 1, rows)
                XCTAssertEqual(dropped.scalars, expected.scalars, "shape \(shape), rows \(rows)")
                dropped.sum().backward()
                XCTAssertEqual(part.grad?.scalars, expected.scalars.map { $0 == 0 ? 0 : 2 }, "gradient of shape \(shape), rows \(rows)")
            }
        }
        // Axis 1 holds 3, not the share's 2 rows: the batch-first placement of 2 rows from row 1.
        let other = randomTensor([2, 3, 4], seed: 23)
        var generator = RandomGenerator(seed: 24), same = RandomGenerator(seed: 24)
        let firstRows = BatchShard.with(firstRow: 1, rows: 2) { other.dropout(probability: 0.5, using: &generator) }
        let layout = BatchShard.with(firstRow: 1, rows: 2, of: 4, batchAxis: 1) { other.dropout(probability: 0.5, using: &same) }
        XCTAssertEqual(layout.scalars, firstRows.scalars)
    }
}
