/// An error a user can read: it names the operation, file, option or shapes involved.
///
/// Library code throws `SequentError` for anything that comes from outside the program
/// (files, options, user-provided shapes). Operations on tensors whose shapes do not fit
/// stop with the same message through `Tensor.require(_:)`, as Swift's own collections do
/// for a bad index: that is a bug in the calling program, not bad input.
public struct SequentError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What kind of problem this is.
    public enum Kind: String, Sendable {
        case shapeMismatch = "shape mismatch"
        case invalidArgument = "invalid argument"
        case invalidValue = "invalid value"
        case io = "I/O error"
        case malformedFile = "malformed file"
    }

    /// What kind of problem this is.
    public let kind: Kind
    /// The full human-readable message, starting with the operation or file it concerns.
    public let message: String

    /// Creates an error of `kind` with `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Two shapes that do not fit an operation.
    public static func shapeMismatch(_ op: String, _ detail: String) -> SequentError {
        SequentError(.shapeMismatch, "\(op): \(detail)")
    }

    /// An argument outside what the operation accepts.
    public static func invalidArgument(_ op: String, _ detail: String) -> SequentError {
        SequentError(.invalidArgument, "\(op): \(detail)")
    }

    /// A file or folder that cannot be read or written: `path: detail`.
    public static func io(_ path: String, _ detail: String) -> SequentError {
        SequentError(.io, "\(path): \(detail)")
    }

    /// A file whose contents are not what was expected: `path: detail` (detail names the
    /// line, column or byte).
    public static func malformedFile(_ path: String, _ detail: String) -> SequentError {
        SequentError(.malformedFile, "\(path): \(detail)")
    }

    public var description: String { message }
}

extension Tensor {
    /// Runs a shape check and stops with its message if it fails.
    ///
    /// Shape checks are written as throwing functions so that tests can exercise the
    /// messages; operations call them through here.
    @inline(__always)
    static func require(_ check: () throws -> Void) {
        do {
            try check()
        } catch {
            preconditionFailure("\(error)")
        }
    }
}
