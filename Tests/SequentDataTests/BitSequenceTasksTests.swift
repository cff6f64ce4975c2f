import Foundation
import SequentData
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Memory/BitSequenceTasks.swift`.
final class BitSequenceTasksTests: XCTestCase {
    func testCopyTargetsAreTheInputsAfterTheDelimiter() throws {
        var generator = RandomGenerator(seed: 1)
        let settings = BitSequenceTaskSettings.paper(.copy)
        let batch = try settings.batch(length: 5, batchSize: 3, using: &generator)
        XCTAssertEqual(batch.inputs.shape, [11, 3, 9])
        XCTAssertEqual(batch.targets.shape, [11, 3, 8])
        XCTAssertEqual(batch.outputStart, 6)
        for b in 0..<3 {
            for t in 0..<5 {
                for j in 0..<8 { XCTAssertEqual(batch.inputs.scalars[(t * 3 + b) * 9 + j], batch.targets.scalars[((6 + t) * 3 + b) * 8 + j]) }
            }
            XCTAssertEqual(batch.inputs.scalars[(5 * 3 + b) * 9 + 8], 1)
        }
        // Perfect logits make no errors; inverted ones make every bit wrong.
        let perfect = batch.targets * 20 - 10
        XCTAssertEqual(batch.bitErrorsPerSequence(logits: perfect), 0)
        XCTAssertEqual(batch.bitErrorsPerSequence(logits: perfect * -1), 40)
    }

    func testRepeatCopyAndRecallLayouts() throws {
        var generator = RandomGenerator(seed: 2)
        let repeatCopy = try BitSequenceTaskSettings.paper(.repeatCopy).batch(length: 3, batchSize: 2, repeats: 2, using: &generator)
        XCTAssertEqual(repeatCopy.time, 3 + 1 + 6 + 1)
        XCTAssertEqual(repeatCopy.targets.scalars[(10 * 2 + 0) * 9 + 8], 1)   // the end marker
        for j in 0..<8 { XCTAssertEqual(repeatCopy.targets.scalars[(4 * 2) * 9 + j], repeatCopy.targets.scalars[(7 * 2) * 9 + j]) }
        let recall = try BitSequenceTaskSettings.paper(.recall).batch(length: 3, batchSize: 2, using: &generator)
        XCTAssertEqual(recall.time, 3 * 4 + 3 + 2 + 3)
        XCTAssertEqual(recall.outputStart, 17)
        XCTAssertThrowsError(try BitSequenceTaskSettings.paper(.recall).batch(length: 1, batchSize: 2, using: &generator))
    }

    func testBatchesResumeFromTheirPosition() throws {
        var data = try BitSequenceBatches(settings: .paper(.copy), batchSize: 2, generator: RandomGenerator(seed: 3))
        _ = try data.nextBatch()
        let position = data.position
        let expected = try data.nextBatch()
        var resumed = try BitSequenceBatches(settings: .paper(.copy), batchSize: 2, generator: RandomGenerator(seed: 99))
        try resumed.seek(to: position)
        XCTAssertEqual(try resumed.nextBatch().inputs.scalars, expected.inputs.scalars)
    }
}
