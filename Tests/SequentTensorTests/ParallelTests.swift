import Foundation
@testable import SequentTensor
import TestSupport
import XCTest

/// Tests of `Kernels/Parallel.swift`: chunking, scoped thread counts, identical bits.
final class ParallelTests: XCTestCase {
    func testThreadCountIsScoped() {
        XCTAssertGreaterThanOrEqual(Parallelism.coreCount, 1)
        XCTAssertEqual(Parallelism.threadCount, Parallelism.coreCount)
        Parallelism.withThreads(1) {
            XCTAssertEqual(Parallelism.threadCount, 1)
            Parallelism.withThreads(3) { XCTAssertEqual(Parallelism.threadCount, 3) }
            XCTAssertEqual(Parallelism.threadCount, 1)
        }
        XCTAssertEqual(Parallelism.threadCount, Parallelism.coreCount)
        XCTAssertEqual(Parallelism.withThreads(2) { 7 }, 7)
    }

    /// The ranges `forEachChunk` hands out, sorted by start.
    private func chunks(count: Int, costPerItem: Int = 1, threads: Int) -> [Range<Int>] {
        let lock = NSLock()
        var ranges: [Range<Int>] = []
        Parallelism.withThreads(threads) {
            Parallelism.forEachChunk(count: count, costPerItem: costPerItem) { range in
                lock.lock()
                ranges.append(range)
                lock.unlock()
            }
        }
        return ranges.sorted { $0.lowerBound < $1.lowerBound }
    }

    func testChunksCoverEveryIndexOnce() {
        for (count, cost, threads) in [(0, 1, 4), (1, 1, 4), (100, 1, 4), (32_768, 1, 4), (65_536, 1, 4),
                                       (100_003, 1, 3), (1_000, 1_000, 4), (5, 1 << 20, 8), (100_000, 1, 1)] {
            let ranges = chunks(count: count, costPerItem: cost, threads: threads)
            var next = 0
            for range in ranges {
                XCTAssertEqual(range.lowerBound, next, "count \(count) cost \(cost) threads \(threads)")
                next = range.upperBound
            }
            XCTAssertEqual(next, count, "count \(count) cost \(cost) threads \(threads)")
        }
    }

    func testSplitsOnlyAboveTheWorkThreshold() {
        XCTAssertEqual(chunks(count: 32_767, threads: 4).count, 1)
        XCTAssertEqual(chunks(count: 65_536, threads: 4).count, 2)
        XCTAssertEqual(chunks(count: 1 << 20, threads: 4).count, 4)
        XCTAssertEqual(chunks(count: 1 << 20, threads: 1).count, 1)
        XCTAssertEqual(chunks(count: 5, costPerItem: 1 << 20, threads: 8).count, 5)
    }

    func testOneThreadGivesTheSameBitsAsTheDefault() {
        let x = randomTensor([300, 333], lower: -4, upper: 4, seed: 1)
        let y = randomTensor([333], lower: 0.5, upper: 2, seed: 2)
        let w = randomTensor([333, 64], seed: 3)
        func compute() -> [Tensor] {
            [x.exp(), x.tanh() * y, x / y + x, x.sum(alongAxis: 1), x.sum(alongAxis: 0), x.max(alongAxis: 1),
             x.softmax(), x.logSoftmax(alongAxis: 0), Tensor.matmul(x, w)]
        }
        let parallel = Parallelism.withThreads(4) { compute() }
        let serial = Parallelism.withThreads(1) { compute() }
        let byDefault = compute()
        for (index, (p, s)) in zip(parallel, serial).enumerated() {
            XCTAssertEqual(p.scalars, s.scalars, "result \(index)")
            XCTAssertEqual(byDefault[index].scalars, s.scalars, "result \(index)")
        }
    }

    /// Inside the scope, subnormal results are flushed on the caller and on every team
    /// thread; afterwards they come back.
    func testSubnormalsFlushedOnEveryThreadOnlyInsideTheScope() {
        let inputs = [Float](repeating: Float.leastNormalMagnitude, count: 1 << 18)
        func halvedSubnormals() -> Int {
            let x = Tensor(inputs)
            return (x * 0.5).scalars.filter { $0 != 0 }.count  // 0.5 * least normal is subnormal
        }
        let before = halvedSubnormals()
        XCTAssertEqual(before, inputs.count)
        Parallelism.withThreads(2) {
            Parallelism.withSubnormalsFlushedToZero {
                XCTAssertEqual(halvedSubnormals(), 0)
            }
        }
        XCTAssertEqual(halvedSubnormals(), inputs.count)
    }
}

extension ParallelTests {
    /// Every (phase, part) runs once, and a phase sees everything the phase before wrote.
    func testPhasesRunInOrderWithEveryPartOnce() {
        for threads in [1, 2, 4] {
            let (phases, parts) = (5, 3)
            var cells = [Int](repeating: 0, count: phases * parts)
            cells.withUnsafeMutableBufferPointer { cells in
                let shared = UncheckedSendable(cells.baseAddress!)
                Parallelism.withThreads(threads) {
                    Parallelism.forEachPhase(phases, parts: parts) { phase, part in
                        let cells = shared.value
                        // One more than the sum of the previous phase's cells, all of them.
                        let previous = phase == 0 ? 0 : (0..<parts).reduce(0) { $0 + cells[(phase - 1) * parts + $1] }
                        cells[phase * parts + part] += previous + 1
                    }
                }
            }
            var expected: [Int] = []
            var previous = 0
            for _ in 0..<phases {
                expected += [Int](repeating: previous + 1, count: parts)
                previous = parts * (previous + 1)
            }
            XCTAssertEqual(cells, expected, "threads \(threads)")
        }
    }
}

extension ParallelTests {
    /// Inside the scope the signals are blocked on the caller and on every thread of the
    /// team, including threads the team had before; afterwards each has its old mask back.
    func testSignalsBlockedOnEveryThreadOnlyInsideTheScope() {
        func blockedOnEachThread(_ threads: Int) -> [Bool] {
            var blocked = [Bool](repeating: false, count: threads + 1)
            blocked.withUnsafeMutableBufferPointer { cells in
                let shared = UncheckedSendable(cells.baseAddress!)
                Parallelism.forEachPhase(1, parts: threads) { _, part in
                    var mask = sigset_t()
                    pthread_sigmask(SIG_BLOCK, nil, &mask)
                    shared.value[part] = sigismember(&mask, SIGUSR2) == 1
                }
                var mask = sigset_t()
                pthread_sigmask(SIG_BLOCK, nil, &mask)
                shared.value[threads] = sigismember(&mask, SIGUSR2) == 1
            }
            return blocked
        }
        Parallelism.withThreads(4) {
            XCTAssertEqual(blockedOnEachThread(4), [false, false, false, false, false])  // the team exists
            Parallelism.withSignalsBlocked([SIGUSR2]) {
                XCTAssertEqual(blockedOnEachThread(4), [true, true, true, true, true])
            }
            XCTAssertEqual(blockedOnEachThread(4), [false, false, false, false, false])
        }
    }
}
