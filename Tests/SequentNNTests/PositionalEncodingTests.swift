import Foundation
import SequentNN
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Transformer/PositionalEncoding.swift`.
final class PositionalEncodingTests: XCTestCase {
    func testSinusoidalValues() {
        let pe = PositionalEncoding.sinusoidal(positions: 0..<50, width: 6)
        XCTAssertEqual(pe.shape, [50, 6])
        XCTAssertEqual(Array(pe.scalars[0..<6]), [0, 1, 0, 1, 0, 1], "position 0: sin 0, cos 0")
        for (pos, column) in [(1, 0), (7, 1), (13, 2), (49, 3), (20, 4), (33, 5)] {
            let i = Double(column / 2)
            let angle = Double(pos) / pow(10000, 2 * i / 6)
            let expected = column % 2 == 0 ? sin(angle) : cos(angle)
            XCTAssertEqual(pe.scalars[pos * 6 + column], Float(expected), accuracy: 1e-6, "PE(\(pos), \(column))")
        }
        // Rows of an offset range are the rows of the full table (incremental decoding).
        assertClose(PositionalEncoding.sinusoidal(positions: 10..<12, width: 6), pe.slice(alongAxis: 0, 10..<12),
                    relative: 0, absolute: 0)
        // Odd width: the last column is a sine of the last pair's frequency.
        let odd = PositionalEncoding.sinusoidal(positions: 3..<4, width: 5)
        XCTAssertEqual(odd.scalars[4], Float(sin(3 / pow(10000, 4.0 / 5))), accuracy: 1e-6)
    }

    func testLearnedPositionalEmbedding() throws {
        var generator = RandomGenerator(seed: 1)
        let pos = LearnedPositionalEmbedding(maxLength: 8, width: 4, generator: &generator)
        XCTAssertEqual(pos.namedParameters().map(\.key), ["weight"])
        XCTAssertEqual(pos.weight.shape, [8, 4])
        let rows = try pos(positions: 2..<5).requiringGrad()
        XCTAssertEqual(rows.scalars, Array(pos.weight.value.scalars[8..<20]))
        try pos(positions: 2..<5).sum().backward()
        XCTAssertEqual(pos.weight.grad!.scalars, [Float](repeating: 0, count: 8) + [Float](repeating: 1, count: 12) + [Float](repeating: 0, count: 12))
        XCTAssertThrowsError(try pos(positions: 6..<9)) { error in
            XCTAssertEqual((error as? SequentError)?.message,
                           "LearnedPositionalEmbedding: positions 6..<9 exceed the 8 learned positions (0..<8)")
        }
    }
}
