import Foundation
import SequentData
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Memory/BAbIGenerator.swift`.
final class BAbIGeneratorTests: XCTestCase {
    func testEveryTaskRoundTripsThroughTheReader() throws {
        for task in BAbIGenerator.tasks {
            var generator = try BAbIGenerator(task: task, seed: 7)
            let stories = generator.stories(20)
            let text = BAbIFormat.format(stories)
            XCTAssertEqual(try BAbIFormat.parse(text, path: "task\(task).txt"), stories, "task \(task)")
            let examples = BAbIFormat.examples(stories)
            XCTAssertGreaterThanOrEqual(examples.count, 80, "task \(task)")
            XCTAssertTrue(examples.allSatisfy { !$0.supporting.isEmpty }, "task \(task)")
        }
    }

    func testAnswersFollowFromTheSupportingFacts() throws {
        // Task 1: the answer is the place in the one supporting statement.
        var one = try BAbIGenerator(task: 1, seed: 3)
        for example in BAbIFormat.examples(one.stories(10)) {
            XCTAssertEqual(example.supporting.count, 1)
            XCTAssertEqual(example.story[example.supporting[0]].last, example.answer)
            XCTAssertEqual(example.story[example.supporting[0]].first, example.question.last)
        }
        // Task 6 answers yes or no; task 7 counts in words; task 3 has up to three facts.
        var six = try BAbIGenerator(task: 6, seed: 3)
        XCTAssertEqual(Set(BAbIFormat.examples(six.stories(10)).map(\.answer)), ["yes", "no"])
        var seven = try BAbIGenerator(task: 7, seed: 3)
        XCTAssertTrue(BAbIFormat.examples(seven.stories(10)).allSatisfy { ["none", "one", "two", "three"].contains($0.answer) })
        var three = try BAbIGenerator(task: 3, seed: 3)
        XCTAssertTrue(BAbIFormat.examples(three.stories(10)).allSatisfy { (2...4).contains($0.supporting.count) })
        XCTAssertThrowsError(try BAbIGenerator(task: 4, seed: 1))
    }
}
