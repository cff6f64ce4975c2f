import Foundation
import SequentData
import SequentTensor
import XCTest

/// `sequent speech make-sequences`'s builder: counts, words, pauses, and the same set from
/// the same recipe.
final class ConnectedUtterancesTests: XCTestCase {
    private let clips: [(samples: [Float], text: String)] = (0..<10).map { d in
        ([Float](repeating: Float(d + 1) / 10, count: 100 + d), String(d))
    }

    private func recipe(seed: UInt64 = 1) -> ConnectedUtteranceRecipe {
        ConnectedUtteranceRecipe(seed: seed, count: 50, minimumPause: 0.01, maximumPause: 0.02, pauseNoise: 0,
                                 sampleRate: 1000, source: "x", pattern: "{label}_*", takes: "0-4", sourceFiles: 10)
    }

    func testUtterancesJoinTwoToSevenClipsWithPauses() throws {
        let built = try recipe().build(from: clips)
        XCTAssertEqual(built.count, 50)
        var lengths = Set<Int>()
        for utterance in built {
            let words = utterance.text.split(separator: " ")
            lengths.insert(words.count)
            XCTAssertTrue((2...7).contains(words.count))
            let speech = words.reduce(0) { $0 + 100 + Int($1)! }
            // A pause of 10 to 20 samples before, between and after the words.
            let pauses = utterance.samples.count - speech
            XCTAssertGreaterThanOrEqual(pauses, 10 * (words.count + 1))
            XCTAssertLessThanOrEqual(pauses, 20 * (words.count + 1))
            XCTAssertEqual(utterance.samples.filter { $0 != 0 }.count, speech)
        }
        XCTAssertEqual(lengths, Set(2...7))
    }

    func testTheSameRecipeBuildsTheSameSetAndItsJSONKeepsIt() throws {
        let a = try recipe().build(from: clips), b = try recipe().build(from: clips)
        XCTAssertEqual(a.map(\.text), b.map(\.text))
        XCTAssertEqual(a.map(\.samples), b.map(\.samples))
        XCTAssertNotEqual(a.map(\.text), try recipe(seed: 2).build(from: clips).map(\.text))
        let decoded = try JSONDecoder().decode(ConnectedUtteranceRecipe.self, from: JSONEncoder().encode(recipe()))
        XCTAssertEqual(decoded, recipe())
    }

    func testBadCountsAreRefused() {
        var r = recipe()
        r.minimumWords = 5
        r.maximumWords = 3
        XCTAssertThrowsError(try r.build(from: clips))
        XCTAssertThrowsError(try recipe().build(from: []))
    }
}
