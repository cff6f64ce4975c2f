import SequentTrain
import XCTest

/// CRC-32C against published check values (RFC 3720 appendix B.4 and the CRC catalogue) and
/// against the masked checksums TensorBoard's own writer stored in the fixture.
final class CRC32CTests: XCTestCase {
    func testCheckValue() {
        XCTAssertEqual(CRC32C.checksum("123456789".utf8), 0xE306_9283)
    }

    func testEmptyAndSingleByte() {
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        XCTAssertEqual(CRC32C.checksum("a".utf8), 0xC1D0_4330)
    }

    func testRFC3720Vectors() {
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }), 0x113F_DB5C)
    }

    func testIncrementalUpdateEqualsOneShot() {
        let bytes = Array("The quick brown fox jumps over the lazy dog".utf8)
        var crc = CRC32C()
        crc.update(bytes[..<7])
        crc.update(bytes[7...])
        XCTAssertEqual(crc.value, CRC32C.checksum(bytes))
        XCTAssertEqual(crc.value, 0x2262_0404)
    }

    func testMaskMatchesTensorBoardAndUnmasks() {
        // The first record of the fixture: length 72 and its masked CRC as TensorBoard wrote it.
        let length: [UInt8] = [0x48, 0, 0, 0, 0, 0, 0, 0]
        XCTAssertEqual(CRC32C.maskedChecksum(length), 0x9D48_92FE)
        for crc: UInt32 in [0, 1, 0xE306_9283, 0xFFFF_FFFF] {
            XCTAssertEqual(CRC32C.unmask(CRC32C.mask(crc)), crc)
        }
    }
}
