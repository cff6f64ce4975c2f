import SequentTensor
@testable import SequentData
import XCTest

/// `TokenWindows` and `TokenStreams`: every token once per epoch, streams that continue from
/// batch to batch, targets one ahead of inputs, and positions that resume bitwise.
final class TokenBatchesTests: XCTestCase {
    private let tokens = Array(0..<1000)  // token i is its own position

    /// The target positions of one epoch of `data`.
    private func epoch(_ data: inout TokenWindows) -> [[Int]] {
        (0..<data.batchesPerEpoch).map { _ in data.nextBatch().targets }
    }

    func testRandomWindowsCoverTheSpanOnceAnEpochInANewOrder() throws {
        var data = try TokenWindows(tokens: tokens, batchSize: 4, time: 7, order: .random, generator: RandomGenerator(seed: 1))
        XCTAssertEqual(data.batchesPerEpoch, 36)  // 142 windows of 7, in batches of 4
        for _ in 0..<3 {
            var targets: [Int] = []
            for _ in 0..<data.batchesPerEpoch {
                let batch = data.nextBatch()
                XCTAssertTrue(batch.startsStreams)
                XCTAssertEqual(zip(batch.inputs, batch.targets).filter { $0 + 1 != $1 }.count, 0)
                targets += batch.targets
            }
            let sorted = targets.sorted()
            XCTAssertEqual(sorted.count, data.tokensPerEpoch)
            XCTAssertEqual(Set(sorted).count, sorted.count, "a token was scored twice in an epoch")
            XCTAssertEqual(sorted.last! - sorted.first! + 1, sorted.count, "the span has a hole")
        }
    }

    /// `.random` windows: every token scored once an epoch, every phase 0..<T of the windows
    /// against the text drawn over epochs (the offset used to come only from the tokens left
    /// over after whole windows: none on this text of 100 T + 1 tokens, so one phase for the
    /// whole run), no token kept at one place in its window, and the rows of a batch not
    /// neighbouring windows more often than chance.
    func testRandomWindowsMeetTheTextAtEveryPhaseAcrossEpochs() throws {
        let T = 8, B = 5
        let sequence = Array(0..<(100 * T + 1))  // N - 1 a multiple of T: nothing left over
        var data = try TokenWindows(tokens: sequence, batchSize: B, time: T, order: .random, generator: RandomGenerator(seed: 7))
        var phases = Set<Int>()
        var placesOfToken500 = Set<Int>()
        var adjacentRows = 0, rowPairs = 0
        for _ in 0..<60 {
            var targets: [Int] = []
            for _ in 0..<data.batchesPerEpoch {
                let batch = data.nextBatch()
                let starts = (0..<batch.batchSize).map { batch.inputs[$0 * T] }
                phases.formUnion(starts.map { $0 % T })
                for (first, second) in zip(starts, starts.dropFirst()) {
                    rowPairs += 1
                    if abs(second - first) == T { adjacentRows += 1 }
                }
                if let place = batch.inputs.firstIndex(of: 500) { placesOfToken500.insert(place % T) }
                targets += batch.targets
            }
            // Each epoch still scores a contiguous span once.
            let sorted = targets.sorted()
            XCTAssertEqual(sorted.count, data.tokensPerEpoch)
            XCTAssertEqual(Set(sorted).count, sorted.count, "a token was scored twice in an epoch")
            XCTAssertEqual(sorted.last! - sorted.first! + 1, sorted.count, "the span has a hole")
        }
        XCTAssertEqual(phases, Set(0..<T), "the windows met the text at only some phases")
        XCTAssertGreaterThanOrEqual(placesOfToken500.count, T - 1, "a token kept its place in the window")
        // Rows of a batch are not neighbouring windows: about 2 in 99 pairs by chance.
        XCTAssertLessThan(Double(adjacentRows) / Double(rowPairs), 0.06)
    }

    func testStreamsContinueFromBatchToBatchAndCoverTheSpan() throws {
        var data = try TokenWindows(tokens: tokens, batchSize: 3, time: 10, order: .streams, generator: RandomGenerator(seed: 2))
        XCTAssertEqual(data.batchesPerEpoch, 33)
        var previous: TokenBatch?
        var targets: [Int] = []
        for k in 0..<data.batchesPerEpoch {
            let batch = data.nextBatch()
            XCTAssertEqual(batch.startsStreams, k == 0)
            if let previous {
                for b in 0..<3 { XCTAssertEqual(batch.inputs[b * 10], previous.inputs[b * 10 + 9] + 1) }
            }
            previous = batch
            targets += batch.targets
        }
        let sorted = targets.sorted()
        XCTAssertEqual(sorted.count, 990)
        XCTAssertEqual(Set(sorted).count, 990)
        XCTAssertEqual(sorted.last! - sorted.first! + 1, 990)
        XCTAssertTrue(data.nextBatch().startsStreams, "a new epoch starts the streams again")
    }

    func testSeekContinuesBitwiseInAnotherInstance() throws {
        for order in [WindowOrder.random, .streams, .sampled] {
            var data = try TokenWindows(tokens: tokens, batchSize: 5, time: 8, order: order, generator: RandomGenerator(seed: 3))
            for _ in 0..<(data.batchesPerEpoch + 3) { _ = data.nextBatch() }
            let position = data.position
            let expected = (0..<(2 * data.batchesPerEpoch)).map { _ in data.nextBatch() }
            var fresh = try TokenWindows(tokens: tokens, batchSize: 5, time: 8, order: order, generator: RandomGenerator(seed: 99))
            try fresh.seek(to: position)
            let resumed = (0..<(2 * fresh.batchesPerEpoch)).map { _ in fresh.nextBatch() }
            XCTAssertEqual(resumed, expected, "\(order)")
        }
    }

    func testSampledWindowsAreUniformStartsWithTargetsOneAhead() throws {
        var data = try TokenWindows(tokens: tokens, batchSize: 16, time: 9, order: .sampled, generator: RandomGenerator(seed: 4))
        var starts: [Int] = []
        for _ in 0..<500 {
            let batch = data.nextBatch()
            XCTAssertTrue(batch.startsStreams)
            XCTAssertEqual(batch.inputs.count, 16 * 9)
            XCTAssertEqual(zip(batch.inputs, batch.targets).filter { $0 + 1 != $1 }.count, 0)
            starts += (0..<16).map { batch.inputs[$0 * 9] }
        }
        XCTAssertEqual(starts.min(), 0)
        XCTAssertEqual(starts.max(), 1000 - 9 - 1)
        XCTAssertEqual(Double(starts.reduce(0, +)) / Double(starts.count), 495, accuracy: 10)
    }

    func testTooLittleTextIsAClearError() {
        XCTAssertThrowsError(try TokenWindows(tokens: Array(0..<50), batchSize: 8, time: 10, order: .streams, generator: RandomGenerator(seed: 1))) { error in
            XCTAssertTrue((error as? SequentError)?.message.contains("too few") ?? false)
        }
        XCTAssertThrowsError(try TokenWindows(tokens: Array(0..<10), batchSize: 1, time: 10, order: .random, generator: RandomGenerator(seed: 1)))
        XCTAssertNoThrow(try TokenWindows(tokens: Array(0..<11), batchSize: 1, time: 10, order: .random, generator: RandomGenerator(seed: 1)))
    }

    func testEvaluationStreamsScoreEveryTokenAfterTheFirstOnce() throws {
        for (count, B, T) in [(1000, 4, 16), (101, 3, 7), (2, 8, 5), (50, 64, 10)] {
            let sequence = Array(0..<count)
            let streams = try TokenStreams(tokens: sequence, batchSize: B, time: T)
            var scored: [Int] = []
            var first = true
            var previousRows: [Int]?
            for element in streams {
                XCTAssertEqual(element.batch.startsStreams, first)
                first = false
                XCTAssertEqual(element.mask.count, element.batch.batchSize * T)
                for i in element.mask.indices where element.mask[i] == 1 {
                    XCTAssertEqual(element.batch.targets[i], element.batch.inputs[i] + 1)
                    scored.append(element.batch.targets[i])
                }
                // Row b continues where it stopped.
                if let previousRows {
                    for b in 0..<element.batch.batchSize where element.mask[b * T] == 1 {
                        XCTAssertEqual(element.batch.inputs[b * T], previousRows[b] + 1)
                    }
                }
                previousRows = (0..<element.batch.batchSize).map { element.batch.inputs[$0 * T + T - 1] }
            }
            XCTAssertEqual(scored.sorted(), Array(1..<count), "N \(count) B \(B) T \(T)")
        }
    }
}
