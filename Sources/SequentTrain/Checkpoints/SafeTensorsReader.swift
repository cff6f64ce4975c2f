import Foundation
import SequentTensor

extension SafeTensors {
    /// Reads and validates the safetensors file at `url`.
    ///
    /// - Throws: `SequentError` of kind `.io` if the file cannot be read, `.malformedFile` if
    ///   it breaks the format in any way; the message names the file and, where there is one,
    ///   the tensor.
    public static func read(from url: URL) throws -> SafeTensors {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw SequentError(.io, "\(url.path): cannot read: \(error.localizedDescription)")
        }
        return try SafeTensors(decoding: [UInt8](data), fileName: url.path)
    }

    /// Decodes the bytes of a whole safetensors file.
    ///
    /// Every check of the reference implementation is made, and a few more (duplicate names,
    /// a header that is not an object); nothing is read outside `bytes`.
    ///
    /// - Parameters:
    ///   - bytes: the complete file.
    ///   - fileName: the name used in error messages.
    /// - Throws: `SequentError` of kind `.malformedFile` naming `fileName` and the tensor.
    public init(decoding bytes: [UInt8], fileName: String) throws {
        func malformed(_ detail: String) -> SequentError { SequentError(.malformedFile, "\(fileName): \(detail)") }

        // [8 bytes] N, little-endian.
        guard bytes.count >= 8 else {
            throw malformed("the file is \(bytes.count) bytes long, too short for the 8-byte header length")
        }
        let headerLength = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        guard headerLength <= UInt64(Self.maximumHeaderSize) else {
            throw malformed("header length \(headerLength) bytes exceeds the limit of \(Self.maximumHeaderSize) bytes")
        }
        let headerEnd = 8 + Int(headerLength)
        guard headerEnd <= bytes.count else {
            throw malformed("header length \(headerLength) bytes runs past the end of the file (\(bytes.count) bytes)")
        }

        // [N bytes] the JSON header.
        let headerBytes = Array(bytes[8..<headerEnd])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw malformed("header is not valid UTF-8")
        }
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw malformed("header does not start with '{'")
        }
        let header: HeaderJSON
        do {
            header = try HeaderJSONParser.parse(headerBytes)
        } catch {
            let context = error.topLevelKey.map { " (in the entry of tensor '\($0)')" } ?? ""
            throw malformed("header is not valid JSON at byte \(error.offset): \(error.reason)\(context)")
        }
        guard case let .object(entries) = header else { throw malformed("header is not a JSON object") }

        // The entries: metadata and tensor descriptions.
        let dataLength = bytes.count - headerEnd
        var metadata: [String: String] = [:]
        var descriptions: [TensorDescription] = []
        for (name, value) in entries {
            if name == Self.metadataKey {
                metadata = try Self.decodeMetadata(value, malformed)
            } else {
                descriptions.append(try TensorDescription(name: name, value, dataLength: dataLength, malformed))
            }
        }

        // [rest] the data: covered exactly once, in offset order.
        descriptions.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        var previous: TensorDescription?
        for description in descriptions {
            if description.begin < covered, let previous {
                throw malformed("tensor '\(description.name)': data_offsets \(description.offsetsText) overlap those of tensor '\(previous.name)' \(previous.offsetsText)")
            }
            if description.begin > covered {
                let after = previous.map { " after tensor '\($0.name)'" } ?? " at the start of the data"
                throw malformed("tensor '\(description.name)': data_offsets \(description.offsetsText) leave a hole of \(description.begin - covered) bytes\(after); the tensors must cover the data contiguously")
            }
            covered = description.end
            previous = description
        }
        if covered != dataLength {
            let last = previous.map { "after tensor '\($0.name)', which ends at \($0.end)" } ?? "and no tensor is declared"
            throw malformed("\(dataLength - covered) trailing bytes in the data section (\(dataLength) bytes) \(last)")
        }

        // Element types and conversion.
        var tensors: [String: Tensor] = [:]
        for description in descriptions {
            guard description.dataType.isReadable else {
                throw malformed("tensor '\(description.name)': dtype \(description.dataType.rawValue) is not supported; Sequent reads F32, F16, BF16 and F64")
            }
            let scalars = Self.decodeScalars(bytes, from: headerEnd + description.begin,
                                             count: description.elementCount, as: description.dataType)
            tensors[description.name] = Tensor(shape: description.shape, scalars: scalars)
        }
        self.init(tensors: tensors, metadata: metadata)
    }

    private static func decodeMetadata(_ value: HeaderJSON, _ malformed: (String) -> SequentError) throws -> [String: String] {
        guard case let .object(pairs) = value else {
            throw malformed("\(metadataKey) must be an object of strings, got \(value.kindDescription)")
        }
        var metadata: [String: String] = [:]
        for (key, entry) in pairs {
            guard case let .string(text) = entry else {
                throw malformed("\(metadataKey) entry '\(key)' must be a string, got \(entry.kindDescription)")
            }
            metadata[key] = text
        }
        return metadata
    }

    /// Converts `count` little-endian elements starting at `start` (already bounds-checked).
    private static func decodeScalars(_ bytes: [UInt8], from start: Int, count: Int, as type: DataType) -> [Float] {
        var scalars = [Float](repeating: 0, count: count)
        var index = start
        switch type {
        case .f32:
            for k in 0..<count {
                let bits = UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24
                scalars[k] = Float(bitPattern: bits)
                index += 4
            }
        case .f16:
            for k in 0..<count {
                scalars[k] = floatFromHalf(UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8)
                index += 2
            }
        case .bf16:
            for k in 0..<count {
                scalars[k] = Float(bitPattern: UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 24)
                index += 2
            }
        case .f64:
            for k in 0..<count {
                var bits: UInt64 = 0
                for b in 0..<8 { bits |= UInt64(bytes[index + b]) << (8 * UInt64(b)) }
                scalars[k] = Float(Double(bitPattern: bits))
                index += 8
            }
        default:
            preconditionFailure("SafeTensors: \(type.rawValue) is not readable")
        }
        return scalars
    }

    /// IEEE 754 binary16 to binary32, exactly (every half is a float).
    static func floatFromHalf(_ half: UInt16) -> Float {
        let sign: UInt32 = UInt32(half >> 15) << 31
        let exponent = Int((half >> 10) & 0x1F)
        let mantissa = UInt32(half & 0x3FF)
        if exponent == 0x1F {  // infinity or NaN, payload kept
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        }
        if exponent == 0 {  // zero or subnormal: mantissa * 2^-24
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13)
    }
}

/// One tensor's entry of the header, checked on its own: fields present and well typed, a
/// known dtype, a shape whose byte size fits, and offsets that lie in the data and match it.
private struct TensorDescription {
    let name: String
    let dataType: SafeTensors.DataType
    let shape: [Int]
    let elementCount: Int
    let begin: Int
    let end: Int

    var offsetsText: String { "[\(begin), \(end)]" }

    init(name: String, _ value: HeaderJSON, dataLength: Int, _ malformed: (String) -> SequentError) throws {
        func invalid(_ detail: String) -> SequentError { malformed("tensor '\(name)': \(detail)") }
        guard case let .object(fields) = value else {
            throw invalid("entry must be an object with dtype, shape and data_offsets, got \(value.kindDescription)")
        }
        func field(_ key: String) throws -> HeaderJSON {
            guard let entry = fields.first(where: { $0.key == key }) else { throw invalid("missing field '\(key)'") }
            return entry.value
        }

        guard case let .string(typeName) = try field("dtype") else { throw invalid("dtype must be a string") }
        guard let dataType = SafeTensors.DataType(rawValue: typeName) else { throw invalid("unknown dtype '\(typeName)'") }

        guard case let .array(dimensions) = try field("shape") else { throw invalid("shape must be an array") }
        var shape: [Int] = []
        for dimension in dimensions {
            guard let extent = dimension.nonNegativeInteger else {
                throw invalid("shape entries must be non-negative integers, got \(dimension.kindDescription)")
            }
            shape.append(extent)
        }
        var elementCount = 1
        for extent in shape {
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: extent)
            guard !overflow else { throw invalid("shape \(shape) has more elements than can be addressed") }
            elementCount = product
        }
        let (byteCount, overflow) = elementCount.multipliedReportingOverflow(by: dataType.size)
        guard !overflow else { throw invalid("shape \(shape) of \(typeName) has more bytes than can be addressed") }

        guard case let .array(offsets) = try field("data_offsets"), offsets.count == 2,
              let begin = offsets[0].nonNegativeInteger, let end = offsets[1].nonNegativeInteger else {
            throw invalid("data_offsets must be an array of two non-negative integers")
        }
        guard end >= begin else { throw invalid("data_offsets [\(begin), \(end)] end before they begin") }
        guard end <= dataLength else {
            throw invalid("data_offsets [\(begin), \(end)] reach past the end of the data section (\(dataLength) bytes)")
        }
        guard end - begin == byteCount else {
            throw invalid("data_offsets [\(begin), \(end)] span \(end - begin) bytes, but \(typeName) of shape \(shape) needs \(byteCount)")
        }
        self.name = name
        self.dataType = dataType
        self.shape = shape
        self.elementCount = elementCount
        self.begin = begin
        self.end = end
    }
}
