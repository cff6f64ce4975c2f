/// CRC-32C (Castagnoli), the checksum of TFRecord files and so of TensorBoard event files.
///
/// Reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF, one 256-entry table
/// (a byte at a time; event records are tens of bytes, so slicing-by-8 would not show).
/// Check value: `CRC32C.checksum("123456789".utf8) == 0xE306_9283`.
///
///     var crc = CRC32C()
///     crc.update(header)
///     crc.update(payload)
///     let value = crc.value
public struct CRC32C: Sendable, Equatable {
    /// The running register, before the final XOR.
    private var register: UInt32 = 0xFFFF_FFFF

    /// A checksum over no bytes yet.
    public init() {}

    /// The checksum of the bytes given so far.
    public var value: UInt32 { register ^ 0xFFFF_FFFF }

    /// Feeds `bytes` into the checksum.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        var crc = register
        for byte in bytes {
            crc = CRC32C.table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] ^ (crc >> 8)
        }
        register = crc
    }

    /// The CRC-32C of `bytes`.
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// The CRC-32C of `bytes`, masked as TFRecord stores it:
    /// `((crc >> 15) | (crc << 17)) + 0xa282ead8` (wrapping), so that a checksum of data that
    /// itself contains checksums stays well distributed.
    public static func maskedChecksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        mask(checksum(bytes))
    }

    /// Masks a CRC as TFRecord does (see `maskedChecksum(_:)`).
    public static func mask(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// Undoes `mask(_:)`.
    public static func unmask(_ masked: UInt32) -> UInt32 {
        let rotated = masked &- 0xA282_EAD8
        return (rotated >> 17) | (rotated << 15)
    }

    /// table[b] = the register after shifting byte b through the reflected polynomial.
    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 {
            crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
        }
        return crc
    }
}
