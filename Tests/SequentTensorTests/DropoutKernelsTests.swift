@testable import SequentTensor
import TestSupport
import XCTest

/// The C dropout kernel at every instruction-set level the CPU has: bit for bit the masks
/// of the Swift reference (which is what every earlier build computed).
final class DropoutKernelsTests: XCTestCase {
    /// The levels this CPU can run, baseline first.
    private var levels: [CPUSupport.Level] {
        [.baseline, .avx2, .avx512].filter { $0 <= CPUSupport.detectedLevel }
    }

    func testEveryLevelGivesTheReferenceBits() {
        // Odd lengths (tails), keys with both halves set, offsets past 2^32 (the index wraps).
        let x = randomTensor([1_003], seed: 1)
        for (p, key, offset) in [(Float(0.1), UInt64(0x1234_5678_9ABC_DEF0), 0), (0.5, 42, 17), (0.9, .max, (1 << 32) - 5)] {
            let reference = DropoutKernels.applyForTests(x, probability: p, key: key, indexOffset: offset, level: nil)
            XCTAssertGreaterThan(reference.scalars.filter { $0 == 0 }.count, 0)
            for level in levels {
                let out = DropoutKernels.applyForTests(x, probability: p, key: key, indexOffset: offset, level: level)
                XCTAssertEqual(out.scalars.map(\.bitPattern), reference.scalars.map(\.bitPattern), "p \(p), level \(level)")
            }
        }
    }

    func testSegmentsAndSpecialValuesMatchTheReference() {
        // A time-major shard (blocks of 7 scalars 20 apart), and infinities, NaN and -0.
        var values = randomTensor([301], seed: 2).scalars
        values[3] = .infinity; values[4] = -.infinity; values[5] = .nan; values[6] = -0.0
        let x = Tensor(shape: [301], scalars: values)
        let reference = DropoutKernels.applyForTests(x, probability: 0.3, key: 9, indexOffset: 5, segment: (7, 20), level: nil)
        for level in levels {
            let out = DropoutKernels.applyForTests(x, probability: 0.3, key: 9, indexOffset: 5, segment: (7, 20), level: level)
            XCTAssertEqual(out.scalars.map(\.bitPattern), reference.scalars.map(\.bitPattern), "level \(level)")
        }
    }

    func testTheCPUsLevelIsTheDefault() {
        // What Tensor.dropout runs (the level sequent_cpu_level picked) is the reference too.
        let x = randomTensor([4_099], seed: 3)
        let reference = DropoutKernels.applyForTests(x, probability: 0.25, key: 77, level: nil)
        XCTAssertEqual(DropoutKernels.apply(x, probability: 0.25, key: 77).scalars.map(\.bitPattern), reference.scalars.map(\.bitPattern))
    }
}
