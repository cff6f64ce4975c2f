import SequentData
import XCTest

final class WordVectorsTests: XCTestCase {
    func testGloVeAndWord2VecText() throws {
        let glove = try WordVectors.parse("good 0.5 -1\nbad -0.25 2e-1\n", path: "g.txt")
        XCTAssertEqual(glove.dimension, 2)
        XCTAssertEqual(glove.vectors["good"], [0.5, -1])
        XCTAssertEqual(glove.vectors["bad"], [-0.25, 0.2])
        let word2vec = try WordVectors.parse("2 3\na 1 2 3\nb 4 5 6\n", path: "w.txt")
        XCTAssertEqual(word2vec.dimension, 3)
        XCTAssertEqual(word2vec.vectors.count, 2)
    }

    func testVectorsOfDifferentLengthsNameTheLine() {
        XCTAssertThrowsError(try WordVectors.parse("a 1 2\nb 1 2 3\n", path: "v.txt")) { error in
            XCTAssertTrue("\(error)".contains("v.txt: line 2: the vector of 'b' has 3 numbers, the vectors before it 2"), "\(error)")
        }
        XCTAssertThrowsError(try WordVectors.parse("a 1 x\n", path: "v.txt")) { error in
            XCTAssertTrue("\(error)".contains("line 1: 'x' is not a finite number"), "\(error)")
        }
        XCTAssertThrowsError(try WordVectors.parse("\n\n", path: "v.txt"))
    }
}
