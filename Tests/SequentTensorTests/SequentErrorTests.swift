import SequentTensor
import XCTest

/// Tests of `SequentError.swift`: messages name the operation.
final class SequentErrorTests: XCTestCase {
    func testShapeMismatchNamesOperation() {
        let error = SequentError.shapeMismatch("matmul", "inner dimensions differ")
        XCTAssertEqual(error.kind, .shapeMismatch)
        XCTAssertEqual(error.message, "matmul: inner dimensions differ")
        XCTAssertEqual(error.description, error.message)
        XCTAssertEqual("\(error)", "matmul: inner dimensions differ")
    }

    func testInvalidArgumentNamesOperation() {
        let error = SequentError.invalidArgument("slice", "range 0..<5 out of bounds")
        XCTAssertEqual(error.kind, .invalidArgument)
        XCTAssertEqual(error.message, "slice: range 0..<5 out of bounds")
    }

    func testEquatableAndKindNames() {
        XCTAssertEqual(SequentError(.io, "x"), SequentError(.io, "x"))
        XCTAssertNotEqual(SequentError(.io, "x"), SequentError(.malformedFile, "x"))
        XCTAssertEqual(SequentError.Kind.shapeMismatch.rawValue, "shape mismatch")
        XCTAssertEqual(SequentError.Kind.malformedFile.rawValue, "malformed file")
    }
}
