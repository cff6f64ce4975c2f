@testable import SequentTrain
import XCTest

/// The strict JSON parser behind the safetensors header, and the serde_json-style writer.
final class HeaderJSONTests: XCTestCase {
    func parse(_ text: String) throws -> HeaderJSON { try HeaderJSONParser.parse(Array(text.utf8)) }

    func testParsesEveryKindOfValueInFileOrder() throws {
        let value = try parse(#" {"z": [1, -2.5e3, true, false, null], "a": {"": "x"}} "#)
        XCTAssertEqual(value, .object([
            ("z", .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null])),
            ("a", .object([("", .string("x"))])),
        ]))
    }

    func testResolvesEscapesAndSurrogatePairs() throws {
        XCTAssertEqual(try parse(#""\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#), .string("\"\\/\u{8}\u{c}\n\r\té😀"))
    }

    func testIntegersAreReadExactlyAndOnlyWhenWhole() throws {
        XCTAssertEqual(try parse("9223372036854775807").nonNegativeInteger, Int.max)
        for text in ["9223372036854775808", "-1", "1.0", "1e2", "\"1\""] {
            XCTAssertNil(try parse(text).nonNegativeInteger, text)
        }
    }

    func testRejectsWhatRFC8259Rejects() {
        for text in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"\\x\"", "\"\\u12\"", "{\"a\":1,\"a\":2}", "[] []", "\"\\udc00\""] {
            XCTAssertThrowsError(try parse(text), text)
        }
    }

    func testWriterEscapesAsSerdeJSON() {
        var output: [UInt8] = []
        HeaderJSONWriter.appendString("a\"b\\c/\u{1}\u{1f}\u{7f}é\n", to: &output)
        XCTAssertEqual(String(decoding: output, as: UTF8.self), #""a\"b\\c/\u0001\u001f"# + "\u{7f}é" + #"\n""#)
    }
}
