import Foundation
import SequentData
import SequentTensor
import XCTest

/// The output units of the CTC model.
final class SpeechAlphabetTests: XCTestCase {
    func testCharacterUnitsIncludeTheSpaceAndRoundTrip() throws {
        let alphabet = SpeechAlphabet(units: .chars, texts: ["ab  c", "ca"])
        XCTAssertEqual(alphabet.symbols, [" ", "a", "b", "c"])
        XCTAssertEqual(alphabet.classCount, 5)
        let ids = try alphabet.encode(" ab c ", context: "x")
        XCTAssertEqual(ids, [2, 3, 1, 4])
        XCTAssertEqual(alphabet.decode(ids), "ab c")
    }

    func testWordUnits() throws {
        let alphabet = SpeechAlphabet(units: .words, texts: ["one two", "two three"])
        XCTAssertEqual(alphabet.symbols, ["one", "three", "two"])
        XCTAssertEqual(alphabet.decode(try alphabet.encode("two one", context: "x")), "two one")
    }

    func testAnUnseenUnitIsNamedWithItsSource() {
        let alphabet = SpeechAlphabet(units: .chars, texts: ["abc"])
        XCTAssertThrowsError(try alphabet.encode("abz", context: "9_x_1.wav")) { error in
            XCTAssertTrue("\(error)".contains("9_x_1.wav") && "\(error)".contains("'z'"), "\(error)")
        }
    }
}
