import Foundation
import SequentTensor

extension SafeTensors {
    /// The bytes of the file, as the reference implementation serializes them.
    ///
    /// Every tensor is written as F32. Tensors are sorted by name (byte order of their UTF-8),
    /// data offsets follow in that order, and the header is compact JSON (`__metadata__` first,
    /// sorted keys, omitted when empty) padded with spaces to a multiple of 8 bytes, so that
    /// the data starts 8-byte aligned.
    ///
    /// - Throws: `SequentError` (`.invalidArgument`) if a tensor is named `__metadata__`.
    public func encoded() throws -> [UInt8] {
        let names = tensors.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        if names.contains(Self.metadataKey) {
            throw SequentError.invalidArgument("SafeTensors", "no tensor may be named '\(Self.metadataKey)', the format reserves it")
        }

        var header: [UInt8] = [UInt8(ascii: "{")]
        var separator: [UInt8] = []
        if !metadata.isEmpty {
            header += Array("\"\(Self.metadataKey)\":{".utf8)
            for (index, key) in metadata.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if index > 0 { header.append(UInt8(ascii: ",")) }
                HeaderJSONWriter.appendString(key, to: &header)
                header.append(UInt8(ascii: ":"))
                HeaderJSONWriter.appendString(metadata[key]!, to: &header)
            }
            header.append(UInt8(ascii: "}"))
            separator = [UInt8(ascii: ",")]
        }
        var offset = 0
        for name in names {
            let tensor = tensors[name]!
            let byteCount = tensor.count * DataType.f32.size
            header += separator
            HeaderJSONWriter.appendString(name, to: &header)
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            header += Array(":{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + byteCount)]}".utf8)
            separator = [UInt8(ascii: ",")]
            offset += byteCount
        }
        header.append(UInt8(ascii: "}"))
        header += [UInt8](repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)

        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + offset)
        let headerLength = UInt64(header.count)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: headerLength >> UInt64(shift))) }
        bytes += header
        for name in names {
            // Four appends, not `+= [four bytes]`, which allocates an array for every scalar.
            for scalar in tensors[name]!.scalars {
                let bits = scalar.bitPattern
                bytes.append(UInt8(truncatingIfNeeded: bits))
                bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
                bytes.append(UInt8(truncatingIfNeeded: bits >> 16))
                bytes.append(UInt8(truncatingIfNeeded: bits >> 24))
            }
        }
        return bytes
    }

    /// Writes the file to `url` atomically and durably (see `AtomicFile`): after a crash,
    /// `url` holds either its previous contents or the complete new file.
    ///
    /// - Throws: `SequentError` naming `url` if a tensor name is reserved or the write fails.
    public func write(to url: URL) throws {
        try AtomicFile.write(encoded(), to: url)
    }
}
