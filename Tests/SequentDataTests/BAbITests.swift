import Foundation
import SequentData
import SequentTensor
import TestSupport
import XCTest

/// Tests of `Memory/BAbI.swift`.
final class BAbITests: XCTestCase {
    let sample = """
        1 Mary moved to the bathroom.
        2 John went to the hallway.
        3 Where is Mary?\tbathroom\t1
        4 Daniel went back to the hallway.
        5 Where is Daniel?\thallway\t4
        1 Sandra journeyed to the garden.
        2 Where is Sandra?\tgarden\t1

        """

    func testReadsStoriesQuestionsAndSupportingFacts() throws {
        let stories = try BAbIFormat.parse(sample, path: "qa1.txt")
        XCTAssertEqual(stories.count, 2)
        XCTAssertEqual(stories[0].lines[2], .question("Where is Mary?", answer: "bathroom", supporting: [1]))
        let examples = BAbIFormat.examples(stories)
        XCTAssertEqual(examples.count, 3)
        XCTAssertEqual(examples[1].story, [["mary", "moved", "to", "the", "bathroom"], ["john", "went", "to", "the", "hallway"],
                                           ["daniel", "went", "back", "to", "the", "hallway"]])
        XCTAssertEqual(examples[1].question, ["where", "is", "daniel"])
        XCTAssertEqual(examples[1].supporting, [2])
        XCTAssertEqual(examples[2].story.count, 1)
        XCTAssertEqual(BAbIFormat.format(stories), sample)
    }

    func testBadLinesNameTheFileAndLine() {
        let cases: [(String, String)] = [
            ("1 Mary moved.\nMary went home.\n", "qa.txt:2"),
            ("1 Mary moved.\n3 John went.\n", "does not follow"),
            ("1 Mary moved.\n2 Where is Mary?\tkitchen\t5\n", "points past the story"),
            ("1 Mary moved.\n2 Where is Mary?\tkitchen\tone\n", "is not a number"),
            ("1 Mary moved.\n2 Where is Mary?\t\t1\n", "qa.txt:2"),
            ("1 Where is Mary?\tkitchen\t\n2 Where?\tx\t1\n", "is a question"),
        ]
        for (text, phrase) in cases {
            XCTAssertThrowsError(try BAbIFormat.parse(text, path: "qa.txt")) { error in
                XCTAssertTrue("\(error)".contains(phrase), "\(error) should contain \(phrase)")
            }
        }
        XCTAssertThrowsError(try BAbIFormat.read(URL(fileURLWithPath: "/nonexistent/qa.txt")))
    }

    func testBatchesPutTheMostRecentStatementFirst() {
        let examples = BAbIFormat.examples(try! BAbIFormat.parse(sample, path: "qa1.txt"))
        let vocabulary = BAbIVocabulary(examples)
        let batch = BAbIBatch([examples[1]], vocabulary: vocabulary, memories: 4, sentenceLength: 6)
        XCTAssertEqual(batch.memoryMask, [1, 1, 1, 0])
        XCTAssertEqual(batch.stories[0], vocabulary.id("daniel"))
        XCTAssertEqual(batch.supporting, [[0]])
        XCTAssertEqual(batch.answers, [vocabulary.id("hallway")!])
        // Random noise: empty memories between statements, the supporting index following its statement.
        var generator = RandomGenerator(seed: 5)
        let noisy = BAbIBatch([examples[1]], vocabulary: vocabulary, memories: 8, sentenceLength: 6, emptyMemoryProbability: 0.6, generator: &generator)
        XCTAssertEqual(noisy.memoryMask.reduce(0, +), 3)
        XCTAssertNotEqual(Array(noisy.memoryMask.prefix(3)), [1, 1, 1])
        let slot = noisy.supporting[0][0]
        XCTAssertEqual(noisy.memoryMask[slot], 1)
        XCTAssertEqual(noisy.stories[slot * 6], vocabulary.id("daniel"))
        let data = try! JSONEncoder().encode(vocabulary)
        XCTAssertEqual(try JSONDecoder().decode(BAbIVocabulary.self, from: data), vocabulary)
    }
}
