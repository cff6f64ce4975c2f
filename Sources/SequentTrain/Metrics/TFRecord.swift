import Foundation
import SequentTensor

/// The TFRecord framing of TensorBoard event files: a file is a sequence of records, each
///
///     length       UInt64, little-endian
///     lengthCRC    UInt32, little-endian: masked CRC-32C of the 8 length bytes
///     data         `length` bytes (for event files: one serialized `Event`)
///     dataCRC      UInt32, little-endian: masked CRC-32C of the data
///
/// (masking in `CRC32C.mask(_:)`).
public enum TFRecord {
    /// Bytes a record adds around its data.
    public static let overhead = 16

    /// `data` framed as one record.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        var record: [UInt8] = []
        record.reserveCapacity(data.count + overhead)
        let length = littleEndianBytes(UInt64(data.count))
        record += length
        record += littleEndianBytes(CRC32C.maskedChecksum(length))
        record += data
        record += littleEndianBytes(CRC32C.maskedChecksum(data))
        return record
    }

    /// The records of `bytes`, both checksums of each verified.
    ///
    /// A last record cut short by the end of the bytes (a writer that crashed or is still
    /// writing) is left out, as TensorBoard's reader leaves it; everything before it is
    /// returned.
    ///
    /// - Parameter source: Names the bytes (a path) in errors.
    /// - Throws: `SequentError` (`.malformedFile`) naming `source` and the byte offset of a record
    ///   whose length or data checksum does not match.
    public static func records(in bytes: [UInt8], source: String) throws(SequentError) -> [[UInt8]] {
        var records: [[UInt8]] = []
        var offset = 0
        while bytes.count - offset >= 12 {
            let lengthBytes = bytes[offset..<(offset + 8)]
            let storedLengthCRC = readLittleEndian(bytes, at: offset + 8, as: UInt32.self)
            guard CRC32C.maskedChecksum(lengthBytes) == storedLengthCRC else {
                throw SequentError(.malformedFile, "\(source): length checksum mismatch in the record at byte \(offset)")
            }
            let length = readLittleEndian(bytes, at: offset, as: UInt64.self)
            let room = bytes.count - offset - overhead
            guard room >= 0, length <= UInt64(room) else { break }  // cut short
            let dataStart = offset + 12, dataEnd = dataStart + Int(length)
            let data = Array(bytes[dataStart..<dataEnd])
            guard CRC32C.maskedChecksum(data) == readLittleEndian(bytes, at: dataEnd, as: UInt32.self) else {
                throw SequentError(.malformedFile, "\(source): data checksum mismatch in the record at byte \(offset)")
            }
            records.append(data)
            offset = dataEnd + 4
        }
        return records
    }

    /// The records of the file at `url` (see `records(in:source:)`).
    public static func records(inFile url: URL) throws(SequentError) -> [[UInt8]] {
        guard let bytes = try AppendOnlyFile.contents(of: url) else {
            throw SequentError(.io, "\(url.path): no such file")
        }
        return try records(in: bytes, source: url.path)
    }

    private static func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    private static func readLittleEndian<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as _: T.Type) -> T {
        var value: T = 0
        for k in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + k]) << (8 * k) }
        return value
    }
}
