import SequentTensor
@testable import SequentData
import XCTest

/// `ShuffledBatches`: every example once per epoch, a new order each epoch, and a position
/// that a fresh instance can seek to and continue bitwise.
final class TrainingDataTests: XCTestCase {
    func testEachEpochCoversEveryExampleOnceInANewOrder() throws {
        var data = try ShuffledBatches(Array(0..<10), batchSize: 3, generator: RandomGenerator(seed: 4))
        XCTAssertEqual(data.batchesPerEpoch, 4)
        let first = (0..<4).map { _ in data.nextBatch() }
        XCTAssertEqual(first.map(\.count), [3, 3, 3, 1])
        XCTAssertEqual(first.flatMap { $0 }.sorted(), Array(0..<10))
        XCTAssertEqual(data.position.epoch, 0)
        XCTAssertEqual(data.position.index, 4)
        let second = (0..<4).map { _ in data.nextBatch() }
        XCTAssertEqual(second.flatMap { $0 }.sorted(), Array(0..<10))
        XCTAssertNotEqual(second.flatMap { $0 }, first.flatMap { $0 })
        XCTAssertEqual(data.position.epoch, 1)

        var dropping = try ShuffledBatches(Array(0..<10), batchSize: 3, dropsLast: true, shuffles: false, generator: RandomGenerator(seed: 4))
        XCTAssertEqual((0..<4).map { _ in dropping.nextBatch() }, [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 1, 2]])
    }

    func testSeekingContinuesTheSameOrder() throws {
        var data = try ShuffledBatches(Array(0..<7), batchSize: 2, generator: RandomGenerator(seed: 9))
        for _ in 0..<5 { _ = data.nextBatch() }
        let position = data.position
        let expected = (0..<9).map { _ in data.nextBatch() }
        var fresh = try ShuffledBatches(Array(0..<7), batchSize: 2, generator: RandomGenerator(seed: 1234))
        try fresh.seek(to: position)
        XCTAssertEqual(fresh.position, position)
        XCTAssertEqual((0..<9).map { _ in fresh.nextBatch() }, expected)
    }

    func testInvalidArgumentsAndPositionsAreNamed() throws {
        XCTAssertThrowsError(try ShuffledBatches([1], batchSize: 0, generator: RandomGenerator(seed: 1))) {
            XCTAssertTrue("\($0)".contains("batchSize"), "\($0)")
        }
        XCTAssertThrowsError(try ShuffledBatches([Int](), batchSize: 1, generator: RandomGenerator(seed: 1)))
        XCTAssertThrowsError(try ShuffledBatches([1, 2], batchSize: 3, dropsLast: true, generator: RandomGenerator(seed: 1)))
        var data = try ShuffledBatches([1, 2, 3], batchSize: 2, generator: RandomGenerator(seed: 1))
        XCTAssertThrowsError(try data.seek(to: DataPosition(epoch: 0, index: 3, generator: data.position.generator))) {
            XCTAssertTrue("\($0)".contains("index 3"), "\($0)")
        }
        XCTAssertThrowsError(try data.seek(to: DataPosition(epoch: 0, index: 0))) {
            XCTAssertTrue("\($0)".contains("no generator state"), "\($0)")
        }
    }
}
