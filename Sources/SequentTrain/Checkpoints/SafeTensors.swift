import Foundation
import SequentTensor

/// The contents of a safetensors file: named tensors and string metadata.
///
/// The format (https://huggingface.co/docs/safetensors), as the reference implementation
/// (`huggingface/safetensors`, `safetensors/src/tensor.rs`) reads and writes it:
///
///     [8 bytes]  N, the header length, a little-endian UInt64
///     [N bytes]  UTF-8 JSON: {"__metadata__": {string: string},
///                             "<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}
///                padded with spaces to a multiple of 8 bytes
///     [rest]     the tensors' raw little-endian bytes, row-major; offsets count from here
///
/// The tensors must cover the data exactly: sorted by offset, each begins where the previous
/// ends, the first at 0 and the last at the end of the file, so there are no holes, overlaps
/// or trailing bytes. Reading accepts F32, F16, BF16 and F64 (converted to Float); writing
/// produces F32 only, byte for byte what `safetensors.torch.save_file` writes for the same
/// tensors and metadata.
public struct SafeTensors {
    /// The tensors by name.
    public var tensors: [String: Tensor]
    /// The string key-value pairs stored under `__metadata__`.
    public var metadata: [String: String]

    /// Wraps `tensors` and `metadata` for writing.
    public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The key of the metadata entry in the header; no tensor may have this name.
    public static let metadataKey = "__metadata__"

    /// The largest header accepted (the reference's limit): 100 MB.
    public static let maximumHeaderSize = 100_000_000

    /// An element type of the format; Sequent reads the floating-point ones it can convert.
    public enum DataType: String, CaseIterable, Sendable {
        case bool = "BOOL", u8 = "U8", i8 = "I8", f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3"
        case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
        case i32 = "I32", u32 = "U32", f32 = "F32", f64 = "F64", i64 = "I64", u64 = "U64"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .bool, .u8, .i8, .f8e5m2, .f8e4m3: return 1
            case .i16, .u16, .f16, .bf16: return 2
            case .i32, .u32, .f32: return 4
            case .f64, .i64, .u64: return 8
            }
        }

        /// Whether Sequent converts this type to Float when reading.
        public var isReadable: Bool { [.f32, .f16, .bf16, .f64].contains(self) }
    }
}
