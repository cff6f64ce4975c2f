#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import SequentTensor

/// Crash-safe file replacement: write a temporary file (`.tmp-<name>-<UUID>`) beside the
/// target, flush it to disk, rename it over the target, and flush the directory.
///
/// rename(2) within one directory is atomic, so a reader (or a restart after a crash or power
/// loss) sees either the old file or the complete new one, never a mix; the two fsyncs make
/// the new contents and the new directory entry durable before the function returns.
///
/// This file and `FileDescriptor` below are the only places in SequentTrain that touch raw
/// pointers (the bytes handed to write(2)).
enum AtomicFile {
    /// Replaces the file at `url` with `bytes`.
    ///
    /// - Parameters:
    ///   - bytes: the complete new contents.
    ///   - url: the target; its directory must exist.
    ///   - interrupt: called before each durable step with the step's name ("write
    ///     model.safetensors" comes after half the bytes are written); tests throw from it to
    ///     simulate a failure or crash at that point.
    /// - Throws: `SequentError` (`.io`) naming the file and the failing step; the temporary
    ///   file is removed and the target is left as it was.
    static func write(_ bytes: [UInt8], to url: URL, interrupt: (String) throws -> Void = { _ in }) throws {
        let name = url.lastPathComponent
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".tmp-\(name)-\(UUID().uuidString)")
        var descriptor: FileDescriptor?
        do {
            try interrupt("create \(name)")
            descriptor = try FileDescriptor(path: temporary.path, flags: O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o644)
            let half = bytes.count / 2
            try descriptor!.writeAll(bytes[0..<half])
            try interrupt("write \(name)")
            try descriptor!.writeAll(bytes[half...])
            try interrupt("fsync \(name)")
            try descriptor!.synchronize()
            try descriptor!.close()
            descriptor = nil
            try interrupt("rename \(name)")
            try rename(temporary, to: url)
        } catch {
            try? descriptor?.close()
            unlink(temporary.path)
            throw error
        }
        try interrupt("fsync directory of \(name)")
        try synchronizeDirectory(directory)
    }

    /// Renames `source` to `destination` (a file over a file, or a directory to a new name).
    static func rename(_ source: URL, to destination: URL) throws {
        #if canImport(Glibc)
        let result = Glibc.rename(source.path, destination.path)
        #else
        let result = Darwin.rename(source.path, destination.path)
        #endif
        guard result == 0 else {
            throw SequentError(.io, "\(destination.path): cannot rename \(source.lastPathComponent) to it: \(FileDescriptor.lastErrorDescription())")
        }
    }

    /// Flushes `directory`'s entries (new, renamed and removed names) to disk.
    static func synchronizeDirectory(_ directory: URL) throws {
        let descriptor = try FileDescriptor(path: directory.path, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC, mode: 0)
        do {
            try descriptor.synchronize()
        } catch {
            try? descriptor.close()
            throw error
        }
        try descriptor.close()
    }
}

/// An open file descriptor whose failures become `SequentError`s naming the path.
struct FileDescriptor {
    let path: String
    private let raw: Int32

    /// Opens `path` with open(2) `flags` and `mode`.
    init(path: String, flags: Int32, mode: mode_t) throws {
        var result: Int32
        repeat {
            result = open(path, flags, mode)
        } while result < 0 && errno == EINTR
        guard result >= 0 else { throw SequentError(.io, "\(path): cannot open: \(Self.lastErrorDescription())") }
        self.path = path
        self.raw = result
    }

    /// Writes all of `bytes`, continuing after short writes and interruptions.
    func writeAll(_ bytes: ArraySlice<UInt8>) throws {
        var remaining = bytes[...]
        while !remaining.isEmpty {
            let written = remaining.withUnsafeBytes { buffer in
                #if canImport(Glibc)
                Glibc.write(raw, buffer.baseAddress, buffer.count)
                #else
                Darwin.write(raw, buffer.baseAddress, buffer.count)
                #endif
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw SequentError(.io, "\(path): write failed: \(Self.lastErrorDescription())")
            }
            if written == 0 { throw SequentError(.io, "\(path): write made no progress") }
            remaining = remaining.dropFirst(written)
        }
    }

    /// Flushes the file's data and metadata to disk (fsync(2)).
    func synchronize() throws {
        guard fsync(raw) == 0 else { throw SequentError(.io, "\(path): fsync failed: \(Self.lastErrorDescription())") }
    }

    /// Closes the descriptor; an error here can mean that earlier writes were lost.
    func close() throws {
        #if canImport(Glibc)
        let result = Glibc.close(raw)
        #else
        let result = Darwin.close(raw)
        #endif
        guard result == 0 else { throw SequentError(.io, "\(path): close failed: \(Self.lastErrorDescription())") }
    }

    /// The text of the current errno ("No space left on device").
    static func lastErrorDescription() -> String {
        String(cString: strerror(errno))
    }
}
