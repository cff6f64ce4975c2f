import Foundation
import SequentTensor
@testable import SequentTrain
import TestSupport
import XCTest

/// The safetensors writer against the reference's own byte-level tests, and the reader's
/// rejection of every kind of malformed file, with messages naming the file and the tensor.
final class SafeTensorsTests: XCTestCase {
    /// A well-formed file built by hand: header text `json` (padded to 8), then `data`.
    static func file(_ json: String, data: [UInt8] = [], headerLength: UInt64? = nil) -> [UInt8] {
        var header = Array(json.utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        let length = headerLength ?? UInt64(header.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + header + data
    }

    /// Asserts that decoding fails with .malformedFile and a message containing each of `parts`.
    func assertMalformed(_ bytes: [UInt8], _ parts: String..., file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors(decoding: bytes, fileName: "weights.safetensors"), file: file, line: line) { error in
            guard let error = error as? SequentError else { return XCTFail("not a SequentError: \(error)", file: file, line: line) }
            XCTAssertEqual(error.kind, .malformedFile, error.message, file: file, line: line)
            for part in ["weights.safetensors"] + parts {
                XCTAssertTrue(error.message.contains(part), "'\(error.message)' lacks '\(part)'", file: file, line: line)
            }
        }
    }

    // MARK: - Writer

    /// `test_serialization` of safetensors/src/tensor.rs: the exact bytes for one F32 tensor.
    func testWriterMatchesTheReferenceBytes() throws {
        let tensor = Tensor(shape: [1, 2, 3], scalars: [0, 1, 2, 3, 4, 5])
        let bytes = try SafeTensors(tensors: ["attn.0": tensor]).encoded()
        let expected: [UInt8] = [
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
            58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
            101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
            0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
        ]
        XCTAssertEqual(bytes, expected)
    }

    /// `test_empty` of the reference: `{}` padded, and metadata alone.
    func testWriterMatchesTheReferenceForEmptyFiles() throws {
        XCTAssertEqual(try SafeTensors(tensors: [:]).encoded(), [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32])
        let withMetadata = try SafeTensors(tensors: [:], metadata: ["framework": "pt"]).encoded()
        XCTAssertEqual(withMetadata, [40, 0, 0, 0, 0, 0, 0, 0] + Array(#"{"__metadata__":{"framework":"pt"}}     "#.utf8))
    }

    func testRoundTripKeepsNamesShapesValuesAndMetadata() throws {
        let tensors: [String: Tensor] = [
            "b": randomTensor([3, 4], seed: 2), "a.weight": randomTensor([5], seed: 3), "scalar": Tensor(7),
            "empty": Tensor(shape: [0, 4], scalars: []), "ünï \"q\"\n\u{1}": Tensor([-0.0, .infinity, .nan]),
        ]
        let metadata = ["format": "pt", "note": "tab\there \\ \"quoted\" / é"]
        let bytes = try SafeTensors(tensors: tensors, metadata: metadata).encoded()
        XCTAssertEqual(Int(bytes[0]) % 8, 0, "the data starts 8-byte aligned")
        XCTAssertEqual(bytes.count - 8 - Int(bytes[0]) - 256 * Int(bytes[1]), (12 + 5 + 1 + 0 + 3) * 4)
        let decoded = try SafeTensors(decoding: bytes, fileName: "x")
        XCTAssertEqual(decoded.metadata, metadata)
        XCTAssertEqual(Set(decoded.tensors.keys), Set(tensors.keys))
        for (name, tensor) in tensors {
            XCTAssertEqual(decoded.tensors[name]!.shape, tensor.shape, name)
            XCTAssertEqual(decoded.tensors[name]!.scalars.map(\.bitPattern), tensor.scalars.map(\.bitPattern), name)
        }
        XCTAssertEqual(try SafeTensors(tensors: decoded.tensors, metadata: decoded.metadata).encoded(), bytes, "stable")
    }

    func testWriterRejectsTheReservedName() {
        XCTAssertThrowsError(try SafeTensors(tensors: ["__metadata__": Tensor(1)]).encoded()) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .invalidArgument)
        }
    }

    func testWriteAndReadAFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sequent-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("w.safetensors")
        try SafeTensors(tensors: ["w": randomTensor([2, 3])]).write(to: url)
        try SafeTensors(tensors: ["w": randomTensor([2, 2])]).write(to: url)  // replaces
        XCTAssertEqual(try SafeTensors.read(from: url).tensors["w"]?.shape, [2, 2])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["w.safetensors"])
        XCTAssertThrowsError(try SafeTensors.read(from: directory.appendingPathComponent("missing.safetensors"))) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .io)
            XCTAssertTrue("\(error)".contains("missing.safetensors"))
        }
    }

    // MARK: - Reader: what the reference accepts

    func testReaderAcceptsAnyEntryOrderAndUnknownFieldsAndWhitespace() throws {
        let json = #"{ "b" : {"shape":[1], "data_offsets":[4,8], "dtype":"F32", "extra": [1, {"x": null}]},"#
            + #""a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}, "__metadata__": {"k": "v"} }"#
        let decoded = try SafeTensors(decoding: Self.file(json, data: [0, 0, 128, 63, 0, 0, 0, 64]), fileName: "f")
        XCTAssertEqual(decoded.tensors["a"]?.scalars, [1])
        XCTAssertEqual(decoded.tensors["b"]?.scalars, [2])
        XCTAssertEqual(decoded.metadata, ["k": "v"])
    }

    func testHalfPrecisionConversionIsExact() {
        XCTAssertEqual(SafeTensors.floatFromHalf(0x3C00), 1)
        XCTAssertEqual(SafeTensors.floatFromHalf(0xC000), -2)
        XCTAssertEqual(SafeTensors.floatFromHalf(0x7BFF), 65504)
        XCTAssertEqual(SafeTensors.floatFromHalf(0x0001), 0x1p-24)
        XCTAssertEqual(SafeTensors.floatFromHalf(0x03FF), 1023 * 0x1p-24)
        XCTAssertEqual(SafeTensors.floatFromHalf(0x8000).bitPattern, (-Float(0)).bitPattern)
        XCTAssertEqual(SafeTensors.floatFromHalf(0x7C00), .infinity)
        XCTAssertTrue(SafeTensors.floatFromHalf(0x7E00).isNaN)
        #if arch(x86_64) || arch(arm64)
        for bits in UInt16.min...UInt16.max where !Float(Float16(bitPattern: bits)).isNaN {
            XCTAssertEqual(SafeTensors.floatFromHalf(bits), Float(Float16(bitPattern: bits)), "\(bits)")
        }
        #endif
    }

    // MARK: - Reader: everything it must reject

    func testRejectsFilesTooShortOrWithBadHeaderLengths() {
        assertMalformed([1, 2, 3], "3 bytes", "too short")
        assertMalformed(Self.file("{}", headerLength: 100_000_001), "exceeds the limit")
        assertMalformed(Self.file("{}", headerLength: UInt64.max), "exceeds the limit")
        assertMalformed(Self.file("{}", headerLength: 9), "runs past the end")
    }

    func testRejectsHeadersThatAreNotJSONObjects() {
        assertMalformed([8, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0xFF, 0xFE, 0x7D, 32, 32, 32, 32], "not valid UTF-8")
        assertMalformed(Self.file("[]"), "does not start with '{'")
        assertMalformed(Self.file("{\"a\":"), "not valid JSON")
        assertMalformed(Self.file("{} x"), "not valid JSON", "unexpected data")
        assertMalformed(Self.file(#"{"a":{"dtype":"F32","shape":[1,],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "not valid JSON", "tensor 'a'")
        assertMalformed(Self.file("{\"a\":\"\u{1}\"}"), "control character")
        assertMalformed(Self.file(#"{"a":"\ud800"}"#), "surrogate")
        assertMalformed(Self.file("{\"a\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"), "nested deeper")
        assertMalformed(Self.file(#"{"a":"x"}"#), "tensor 'a'", "must be an object")
    }

    func testRejectsBadMetadata() {
        assertMalformed(Self.file(#"{"__metadata__":[]}"#), "__metadata__", "object")
        assertMalformed(Self.file(#"{"__metadata__":{"k":1}}"#), "__metadata__", "'k'", "must be a string")
    }

    func testRejectsMissingOrMistypedFieldsAndUnknownDtypes() {
        let data = [UInt8](repeating: 0, count: 4)
        assertMalformed(Self.file(#"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, data: data), "tensor 'w'", "missing field 'dtype'")
        assertMalformed(Self.file(#"{"w":{"dtype":"F32","data_offsets":[0,4]}}"#, data: data), "tensor 'w'", "missing field 'shape'")
        assertMalformed(Self.file(#"{"w":{"dtype":"F32","shape":[1]}}"#, data: data), "tensor 'w'", "missing field 'data_offsets'")
        assertMalformed(Self.file(#"{"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}"#, data: data), "tensor 'w'", "unknown dtype 'F33'")
        assertMalformed(Self.file(#"{"w":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}"#, data: data), "tensor 'w'", "dtype must be a string")
        assertMalformed(Self.file(#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: data), "tensor 'w'", "non-negative integers")
        assertMalformed(Self.file(#"{"w":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}"#, data: data), "tensor 'w'", "non-negative integers")
        assertMalformed(Self.file(#"{"w":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}"#, data: data), "tensor 'w'")
        assertMalformed(Self.file(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, data: data), "tensor 'w'", "more elements than can be addressed")
        assertMalformed(Self.file(#"{"w":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,4]}}"#, data: data), "tensor 'w'", "more bytes than can be addressed")
        assertMalformed(Self.file(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, data: data), "tensor 'w'", "two non-negative integers")
        assertMalformed(Self.file(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, data: data), "tensor 'w'", "two non-negative integers")
        assertMalformed(Self.file(#"{"w":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}"#, data: data + data), "tensor 'w'", "I64 is not supported")
    }

    func testRejectsOffsetsThatDoNotMatchTheData() {
        let data = [UInt8](repeating: 0, count: 8)
        assertMalformed(Self.file(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: data), "tensor 'w'", "end before they begin")
        assertMalformed(Self.file(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#, data: data), "tensor 'w'", "past the end of the data")
        assertMalformed(Self.file(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}"#, data: data), "tensor 'w'", "span 8 bytes", "needs 4")
        assertMalformed(Self.file(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: data), "tensor 'w'", "hole of 4 bytes at the start")
        assertMalformed(Self.file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F16","shape":[1],"data_offsets":[6,8]}}"#, data: data),
                        "tensor 'b'", "hole of 2 bytes after tensor 'a'")
        assertMalformed(Self.file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: data),
                        "tensor 'b'", "overlap", "tensor 'a'")
        assertMalformed(Self.file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: data), "4 trailing bytes", "tensor 'a'")
        assertMalformed(Self.file("{}", data: [1]), "1 trailing bytes")
        assertMalformed(Self.file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: data),
                        "duplicate key 'a'")
        assertMalformed(Self.file(#"{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}"#, data: data),
                        "duplicate key 'dtype'", "tensor 'a'")
    }
}
