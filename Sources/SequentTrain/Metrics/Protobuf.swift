import SequentTensor

/// The few protocol-buffer encodings TensorBoard events need, written by hand so that Sequent
/// does not depend on a protobuf library.
///
/// A message is a sequence of fields, each a key `(field number << 3) | wire type` as a
/// varint followed by the value: wire type 0 a varint, 1 eight little-endian bytes, 2 a varint
/// length and that many bytes (strings, sub-messages), 5 four little-endian bytes.
enum WireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5
}

/// Appends protobuf fields to a byte buffer, in the order they are written (callers write them
/// in field-number order, as protobuf's own serializers do).
struct ProtobufWriter {
    /// The encoded message so far.
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func key(_ field: Int, _ wireType: WireType) {
        varint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    /// An int64 field (negative numbers take ten bytes, as in protobuf).
    mutating func int64(_ field: Int, _ value: Int64) {
        key(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    mutating func double(_ field: Int, _ value: Double) {
        key(field, .fixed64)
        littleEndian(value.bitPattern)
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        littleEndian(value.bitPattern)
    }

    mutating func bytesField(_ field: Int, _ value: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func string(_ field: Int, _ value: String) {
        bytesField(field, Array(value.utf8))
    }

    private mutating func littleEndian<T: FixedWidthInteger>(_ value: T) {
        for k in 0..<MemoryLayout<T>.size { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * k))) }
    }
}

/// Reads the fields of one protobuf message.
struct ProtobufReader {
    /// A field's value, by wire type.
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case lengthDelimited(ArraySlice<UInt8>)
        case fixed32(UInt32)
    }

    private let bytes: ArraySlice<UInt8>
    private var index: Int
    /// Names the message in errors ("Event", "Summary.Value").
    private let context: String

    init(_ bytes: ArraySlice<UInt8>, context: String) {
        self.bytes = bytes
        self.index = bytes.startIndex
        self.context = context
    }

    /// The next field number and value, nil at the end of the message.
    mutating func next() throws(SequentError) -> (field: Int, value: Value)? {
        guard index < bytes.endIndex else { return nil }
        let key = try varint()
        let field = Int(truncatingIfNeeded: key >> 3)
        guard field > 0 else { throw malformed("field number 0") }
        switch key & 7 {
        case 0: return (field, .varint(try varint()))
        case 1: return (field, .fixed64(try littleEndian(UInt64.self)))
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.endIndex - index) else { throw malformed("field \(field) runs past the end") }
            let value = bytes[index..<(index + Int(length))]
            index += Int(length)
            return (field, .lengthDelimited(value))
        case 5: return (field, .fixed32(try littleEndian(UInt32.self)))
        default: throw malformed("unsupported wire type \(key & 7) of field \(field)")
        }
    }

    func malformed(_ detail: String) -> SequentError {
        SequentError(.malformedFile, "\(context): \(detail)")
    }

    private mutating func varint() throws(SequentError) -> UInt64 {
        var value: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard index < bytes.endIndex else { throw malformed("varint runs past the end") }
            guard shift < 64 else { throw malformed("varint longer than 10 bytes") }
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    private mutating func littleEndian<T: FixedWidthInteger>(_: T.Type) throws(SequentError) -> T {
        let size = MemoryLayout<T>.size
        guard bytes.endIndex - index >= size else { throw malformed("fixed-width value runs past the end") }
        var value: T = 0
        for k in 0..<size { value |= T(bytes[index + k]) << (8 * k) }
        index += size
        return value
    }
}
