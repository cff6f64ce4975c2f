/// An n-dimensional array of `Float` values in row-major order, with reverse-mode autograd.
///
/// `Tensor` is a value type: its scalars live in a copy-on-write buffer, so copies are cheap
/// until one of them is mutated. A tensor that `requiresGrad` carries a node of the autograd
/// tape; every operation on it records how to propagate gradients back, and `backward()`
/// walks that tape (see `Tensor+Autograd.swift`).
///
/// Dimension letters used in comments throughout Sequent:
/// `B` = batch, `T` = time, `C` = channels (features), `H` = hidden size, `V` = vocabulary.
public struct Tensor: @unchecked Sendable {
    /// The extent of each dimension; `[]` is a scalar.
    public let shape: [Int]
    /// The scalars in row-major order; `scalars.count == shape.reduce(1, *)`.
    public internal(set) var scalars: [Float]
    /// The tape node when this tensor takes part in gradient computation.
    var gradNode: GradNode?
    /// Which output of `gradNode` this tensor is (operations may produce several).
    var gradOutput: Int = 0

    /// Wraps `scalars` as a tensor of `shape`.
    ///
    /// - Parameters:
    ///   - shape: the extent of each dimension; all must be non-negative.
    ///   - scalars: row-major values; their count must equal the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        precondition(
            scalars.count == shape.reduce(1, *),
            "Tensor: shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
        self.gradNode = nil
    }

    /// Creates a tensor of `shape` whose scalars are written by `initializer` into an
    /// uninitialized buffer (which it must fill completely).
    init(shape: [Int], unsafeUninitialized initializer: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let count = shape.reduce(1, *)
        self.shape = shape
        self.scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            initializer(buffer)
            initialized = count
        }
        self.gradNode = nil
    }

    /// A rank-0 tensor holding `value`.
    public init(_ value: Float) {
        self.init(shape: [], scalars: [value])
    }

    /// A rank-1 tensor holding `values`.
    public init(_ values: [Float]) {
        self.init(shape: [values.count], scalars: values)
    }

    /// A rank-2 tensor from rows of equal length.
    public init(_ rows: [[Float]]) {
        let width = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == width }, "Tensor: rows of unequal length")
        self.init(shape: [rows.count, width], scalars: rows.flatMap { $0 })
    }

    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The total number of scalars.
    public var count: Int { scalars.count }

    /// The single value of a tensor with one element.
    public var item: Float {
        precondition(scalars.count == 1, "Tensor.item: expected one element, shape is \(shape)")
        return scalars[0]
    }

    /// Normalizes a possibly negative axis (`-1` is the last) for a tensor of `rank`.
    @inlinable
    public static func normalize(axis: Int, rank: Int, op: String) -> Int {
        let axisValue = axis < 0 ? axis + rank : axis
        precondition(axisValue >= 0 && axisValue < Swift.max(rank, 1), "\(op): axis \(axis) out of range for rank \(rank)")
        return axisValue
    }

    /// Reads the scalars through a pointer; the pointer must not escape `body`.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Writes the scalars in place (copying first if the buffer is shared).
    ///
    /// Writing does not record anything on the autograd tape: use it for optimizer updates
    /// and initialisation, never inside a differentiable computation.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }
}

/// Calls `body` with the base address of `tensor`'s scalars, or nil without a tensor.
func withOptionalPointer<R>(_ tensor: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let tensor else { return body(nil) }
    return tensor.withUnsafeBufferPointer { body($0.baseAddress) }
}

/// Calls `body` with a mutable base address of `tensor`'s scalars, or nil without a tensor.
func withOptionalMutablePointer<R>(_ tensor: inout Tensor?, _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
    guard tensor != nil else { return body(nil) }
    return tensor!.withUnsafeMutableBufferPointer { body($0.baseAddress) }
}

extension Tensor: CustomStringConvertible {
    /// A short summary: shape and up to eight leading values.
    public var description: String {
        let head = scalars.prefix(8).map { String(format: "%.4g", Double($0)) }.joined(separator: ", ")
        let more = scalars.count > 8 ? ", ..." : ""
        return "Tensor(shape: \(shape), [\(head)\(more)])"
    }
}

#if canImport(Foundation)
import Foundation
#endif
