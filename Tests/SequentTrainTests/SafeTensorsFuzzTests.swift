import Foundation
import SequentTensor
import SequentTrain
import TestSupport
import XCTest

/// A seeded mutation test of the reader: valid files, damaged in every way a disk, a network
/// or a careless tool might (bit flips, truncation, inserted and deleted bytes, edited header
/// lengths, edited JSON numbers, dtypes and entries), must each either decode into tensors
/// whose scalar counts match their shapes or throw a `SequentError`: never crash, never read
/// out of bounds (Swift's checked indexing would trap on that, failing the run).
final class SafeTensorsFuzzTests: XCTestCase {
    #if DEBUG
    static let inputCount = 100_000
    #else
    static let inputCount = 300_000
    #endif

    /// Valid files to start from: Sequent-written (with metadata, rank 0, empty), torch's
    /// mixed-dtype file, torch's LSTM + GRU weights, and the empty file.
    static func seeds() throws -> [[UInt8]] {
        let small = try SafeTensors(tensors: [
            "w": randomTensor([3, 4], seed: 1), "b": randomTensor([4], seed: 2), "s": Tensor(3), "e": Tensor(shape: [0, 2], scalars: []),
        ], metadata: ["format": "pt", "note": "a \"quoted\" value"]).encoded()
        let directory = Fixtures.directory.appendingPathComponent("safetensors")
        let torch = try ["torch_dtypes", "torch_lstm_gru"].map { [UInt8](try Data(contentsOf: directory.appendingPathComponent("\($0).safetensors"))) }
        return [small, try SafeTensors(tensors: [:]).encoded()] + torch
    }

    func testMutatedFilesParseConsistentlyOrThrow() throws {
        let seeds = try Self.seeds()
        var generator = RandomGenerator(seed: 20_240_601)
        var (parsed, rejected) = (0, 0)
        var rejectedByReason: [String: Int] = [:]
        let start = Date()
        for index in 0..<Self.inputCount {
            var bytes = seeds[index % 4 == 3 ? 3 : Int.random(in: 0..<3, using: &generator)]
            for _ in 0..<Int.random(in: 1...3, using: &generator) { Self.mutate(&bytes, &generator) }
            do {
                let file = try SafeTensors(decoding: bytes, fileName: "fuzz.safetensors")
                for (name, tensor) in file.tensors where tensor.count != tensor.shape.reduce(1, *) {
                    XCTFail("input \(index): tensor '\(name)' has \(tensor.count) scalars for shape \(tensor.shape)")
                }
                parsed += 1
            } catch let error as SequentError {
                XCTAssertEqual(error.kind, .malformedFile, "input \(index): \(error)")
                XCTAssertTrue(error.message.hasPrefix("fuzz.safetensors: "), "input \(index): \(error)")
                rejected += 1
                let reason = error.message.split(separator: ":").dropFirst().first.map { String($0.filter { !$0.isNumber }.prefix(32)) } ?? ""
                rejectedByReason[reason.hasPrefix(" tensor") ? "tensor entry" : reason, default: 0] += 1
            }
        }
        let seconds = Date().timeIntervalSince(start)
        print("safetensors fuzz: \(Self.inputCount) mutated inputs in \(String(format: "%.2f", seconds)) s, \(parsed) parsed, \(rejected) rejected")
        print("  rejections: \(rejectedByReason.sorted { $0.value > $1.value }.prefix(8).map { "\($0.key.trimmingCharacters(in: .whitespaces)) \($0.value)" }.joined(separator: "; "))")
        XCTAssertEqual(parsed + rejected, Self.inputCount)
        XCTAssertGreaterThan(parsed, Self.inputCount / 50, "mutations should also produce valid files")
    }

    // MARK: - Mutations

    static let interestingBytes: [UInt8] = Array("{}[]\",:\\-.0123456789eE ".utf8) + [0, 0x7F, 0x80, 0xC3, 0xFF]
    static let numberReplacements = ["0", "1", "-1", "3", "8", "4294967296", "9223372036854775807", "9223372036854775808",
                                     "18446744073709551616", "99999999999999999999999", "1e3", "2.5", "-0", "00", "1E+2"]
    static let dtypeReplacements = SafeTensors.DataType.allCases.map(\.rawValue) + ["X", "", "f32", "F32 "]

    static func mutate(_ bytes: inout [UInt8], _ g: inout RandomGenerator) {
        switch Int.random(in: 0..<10, using: &g) {
        case 0:  // flip bits
            guard !bytes.isEmpty else { return }
            for _ in 0..<Int.random(in: 1...4, using: &g) { bytes[position(bytes.count, &g)] ^= 1 << UInt8.random(in: 0..<8, using: &g) }
        case 1:  // overwrite a byte with a JSON-significant or odd one
            guard !bytes.isEmpty else { return }
            bytes[position(bytes.count, &g)] = interestingBytes.randomElement(using: &g)!
        case 2:  // truncate
            bytes.removeLast(position(bytes.count + 1, &g))
        case 3:  // insert bytes
            let inserted = (0..<Int.random(in: 1...16, using: &g)).map { _ in
                Bool.random(using: &g) ? interestingBytes.randomElement(using: &g)! : UInt8.random(in: 0...255, using: &g)
            }
            bytes.insert(contentsOf: inserted, at: position(bytes.count + 1, &g))
        case 4:  // delete a range
            guard !bytes.isEmpty else { return }
            let start = position(bytes.count, &g)
            bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...16, using: &g)))
        case 5:  // edit the header length
            guard bytes.count >= 8 else { return }
            let current = headerLength(bytes)
            let choices: [UInt64] = [0, 1, 2, 7, 8, current &+ 1, current &- 1, current &+ 8, UInt64(bytes.count), UInt64(bytes.count - 8),
                                     100_000_000, 100_000_001, UInt64.max, UInt64(Int.max), UInt64.random(in: 0...UInt64(bytes.count * 2), using: &g)]
            setHeaderLength(&bytes, choices.randomElement(using: &g)!)
        case 6:  // replace a number in the header, keeping the header length consistent
            editHeader(&bytes, &g) { header, g in
                let digits = header.indices.filter { header[$0] >= 0x30 && header[$0] <= 0x39 }
                guard let at = digits.randomElement(using: &g) else { return }
                var end = at
                while end < header.count, header[end] >= 0x30, header[end] <= 0x39 { end += 1 }
                let replacement = Bool.random(using: &g) ? numberReplacements.randomElement(using: &g)! : String(Int.random(in: 0...200, using: &g))
                header.replaceSubrange(at..<end, with: Array(replacement.utf8))
            }
        case 7:  // replace a dtype
            editHeader(&bytes, &g) { header, g in
                let text = String(decoding: header, as: UTF8.self)
                let marker = "\"dtype\":\""
                let ranges = text.ranges(of: marker)
                guard let range = ranges.randomElement(using: &g), let close = text[range.upperBound...].firstIndex(of: "\"") else { return }
                header = Array((text[..<range.upperBound] + dtypeReplacements.randomElement(using: &g)! + text[close...]).utf8)
            }
        case 8:  // duplicate, move or drop a piece of the header (whole entries, keys, brackets)
            editHeader(&bytes, &g) { header, g in
                guard header.count > 2 else { return }
                let start = position(header.count, &g), end = min(header.count, start + Int.random(in: 1...80, using: &g))
                let piece = Array(header[start..<end])
                switch Int.random(in: 0..<3, using: &g) {
                case 0: header.insert(contentsOf: piece, at: position(header.count + 1, &g))
                case 1: header.removeSubrange(start..<end)
                default: header.removeSubrange(start..<end); header.insert(contentsOf: piece, at: position(header.count + 1, &g))
                }
            }
        default:  // grow or shrink the data section
            if Bool.random(using: &g) {
                bytes += [UInt8](repeating: 0, count: Int.random(in: 1...8, using: &g))
            } else {
                bytes.removeLast(min(bytes.count, Int.random(in: 1...8, using: &g)))
            }
        }
    }

    /// A uniform index in 0..<upper (0 if upper <= 0).
    static func position(_ upper: Int, _ g: inout RandomGenerator) -> Int {
        upper <= 0 ? 0 : Int.random(in: 0..<upper, using: &g)
    }

    static func headerLength(_ bytes: [UInt8]) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
    }

    static func setHeaderLength(_ bytes: inout [UInt8], _ length: UInt64) {
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(i))) }
    }

    /// Applies `edit` to the header text of a file whose header length is still plausible,
    /// then rewrites the length so the damage reaches the JSON and tensor checks.
    static func editHeader(_ bytes: inout [UInt8], _ g: inout RandomGenerator,
                           _ body: (inout [UInt8], inout RandomGenerator) -> Void) {
        guard bytes.count >= 8 else { return }
        let length = headerLength(bytes)
        guard length <= UInt64(bytes.count - 8) else { return }
        var header = Array(bytes[8..<8 + Int(length)])
        body(&header, &g)
        bytes = Array(bytes[0..<8]) + header + Array(bytes[(8 + Int(length))...])
        setHeaderLength(&bytes, UInt64(header.count))
    }
}
