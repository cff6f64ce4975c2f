import Foundation
import SequentTensor

/// One `Event` message of a TensorBoard event file, encoded and decoded by hand.
///
/// The fields used, from `tensorboard/compat/proto/event.proto` and `summary.proto`:
///
///     Event          wall_time = 1 (double), step = 2 (int64),
///                    oneof what { file_version = 3 (string), summary = 5 (Summary),
///                                 session_log = 7 (SessionLog), ... },
///                    source_metadata = 10 (SourceMetadata { writer = 1 (string) })
///     Summary        repeated Value value = 1
///     Summary.Value  tag = 1 (string), oneof value { simple_value = 2 (float), ... }
///     SessionLog     status = 1 (enum; START = 1)
///
/// Encoding follows proto3 as protobuf's serializers do: fields in number order, a zero
/// `wall_time` or `step` left out, members of the `oneof` always written; so an event encodes
/// to the same bytes TensorBoard's Python writer produces.
public struct TensorBoardEvent: Equatable, Sendable {
    /// What an event carries (the `what` oneof).
    public enum Content: Equatable, Sendable {
        /// The first event of a file, e.g. `"brain.Event:2"`.
        case fileVersion(String)
        /// Summary values, e.g. scalars.
        case summary([TensorBoardValue])
        /// A `SessionLog` with status START: a run (re)started at this event's step, and
        /// TensorBoard drops the events of earlier files with a step at or after it.
        case sessionStart
        /// Something this reader does not decode (graph, other session states, ...): its field number.
        case other(field: Int)
        /// No `what` field.
        case empty
    }

    /// The version string of the event files TensorBoard reads today.
    public static let currentFileVersion = "brain.Event:2"

    /// Seconds since 1970.
    public var wallTime: Double
    /// The training step.
    public var step: Int64
    /// What the event carries.
    public var content: Content
    /// The program that wrote the file (`source_metadata.writer`), set on the first event.
    public var sourceWriter: String?

    /// An event of `content` at `step`.
    public init(wallTime: Double, step: Int64 = 0, content: Content, sourceWriter: String? = nil) {
        self.wallTime = wallTime
        self.step = step
        self.content = content
        self.sourceWriter = sourceWriter
    }

    /// The scalars of a summary event, empty for others.
    public var scalars: [(tag: String, value: Float)] {
        guard case .summary(let values) = content else { return [] }
        return values.compactMap { value in value.simpleValue.map { (value.tag, $0) } }
    }

    /// The serialized `Event` message.
    public func encoded() -> [UInt8] {
        var event = ProtobufWriter()
        if wallTime.bitPattern != 0 { event.double(1, wallTime) }
        if step != 0 { event.int64(2, step) }
        switch content {
        case .fileVersion(let version):
            event.string(3, version)
        case .summary(let values):
            var summary = ProtobufWriter()
            for value in values {
                var encodedValue = ProtobufWriter()
                if !value.tag.isEmpty { encodedValue.string(1, value.tag) }
                if let simpleValue = value.simpleValue { encodedValue.float(2, simpleValue) }
                summary.bytesField(1, encodedValue.bytes)
            }
            event.bytesField(5, summary.bytes)
        case .sessionStart:
            var sessionLog = ProtobufWriter()
            sessionLog.int64(1, 1)
            event.bytesField(7, sessionLog.bytes)
        case .other, .empty:
            break
        }
        if let sourceWriter {
            var metadata = ProtobufWriter()
            if !sourceWriter.isEmpty { metadata.string(1, sourceWriter) }
            event.bytesField(10, metadata.bytes)
        }
        return event.bytes
    }

    /// Decodes a serialized `Event`; fields it does not know are skipped.
    ///
    /// - Throws: `SequentError` (`.malformedFile`) when the bytes are not a valid message.
    public init(decoding bytes: [UInt8]) throws(SequentError) {
        self.init(wallTime: 0, content: .empty)
        var reader = ProtobufReader(bytes[...], context: "Event")
        while let (field, value) = try reader.next() {
            switch (field, value) {
            case (1, .fixed64(let bits)): wallTime = Double(bitPattern: bits)
            case (2, .varint(let raw)): step = Int64(bitPattern: raw)
            case (3, .lengthDelimited(let text)): content = .fileVersion(String(decoding: text, as: UTF8.self))
            case (5, .lengthDelimited(let summary)): content = .summary(try TensorBoardEvent.decodeSummary(summary))
            case (7, .lengthDelimited(let sessionLog)):
                var status: UInt64 = 0
                var sessionReader = ProtobufReader(sessionLog, context: "SessionLog")
                while let (sessionField, sessionValue) = try sessionReader.next() {
                    if sessionField == 1, case .varint(let raw) = sessionValue { status = raw }
                }
                content = status == 1 ? .sessionStart : .other(field: 7)
            case (10, .lengthDelimited(let metadata)):
                var writer = ""
                var metadataReader = ProtobufReader(metadata, context: "SourceMetadata")
                while let (metadataField, metadataValue) = try metadataReader.next() {
                    if metadataField == 1, case .lengthDelimited(let text) = metadataValue {
                        writer = String(decoding: text, as: UTF8.self)
                    }
                }
                sourceWriter = writer
            case (3...9, _): content = .other(field: field)
            default: continue
            }
        }
    }

    private static func decodeSummary(_ bytes: ArraySlice<UInt8>) throws(SequentError) -> [TensorBoardValue] {
        var values: [TensorBoardValue] = []
        var summaryReader = ProtobufReader(bytes, context: "Summary")
        while let (field, value) = try summaryReader.next() {
            guard field == 1, case .lengthDelimited(let valueBytes) = value else { continue }
            var decoded = TensorBoardValue(tag: "", simpleValue: nil)
            var valueReader = ProtobufReader(valueBytes, context: "Summary.Value")
            while let (valueField, valueValue) = try valueReader.next() {
                switch (valueField, valueValue) {
                case (1, .lengthDelimited(let text)): decoded.tag = String(decoding: text, as: UTF8.self)
                case (2, .fixed32(let bits)): decoded.simpleValue = Float(bitPattern: bits)
                case (3...8, _): decoded.simpleValue = nil  // another member of the value oneof
                default: continue
                }
            }
            values.append(decoded)
        }
        return values
    }

    /// The events of a TensorBoard event file, every record's checksums verified.
    ///
    /// - Throws: `SequentError` naming the path for a missing file, a checksum mismatch or an
    ///   undecodable event.
    public static func events(inFile url: URL) throws(SequentError) -> [TensorBoardEvent] {
        var events: [TensorBoardEvent] = []
        for (k, record) in try TFRecord.records(inFile: url).enumerated() {
            do {
                events.append(try TensorBoardEvent(decoding: record))
            } catch {
                throw SequentError(.malformedFile, "\(url.path): record \(k): \(error.message)")
            }
        }
        return events
    }
}

/// One `Summary.Value`: a tag and, for scalars, its float.
public struct TensorBoardValue: Equatable, Sendable {
    /// The series name, e.g. `loss` or `eval/accuracy`.
    public var tag: String
    /// The scalar (`simple_value`), nil when the value is of another kind (image, histogram, tensor).
    public var simpleValue: Float?

    /// A value named `tag`.
    public init(tag: String, simpleValue: Float?) {
        self.tag = tag
        self.simpleValue = simpleValue
    }
}
