import Foundation
import SequentTensor

/// A file that records are appended to, each in one write, with every failure a `SequentError`
/// that names the path.
///
/// `FileHandle` writes go straight to the operating system (no buffer in this process), so a
/// record is on its way to disk as soon as `append(_:)` returns and survives a crash of the
/// program; `synchronize()` also asks the disk to keep it through a power loss.
final class AppendOnlyFile {
    /// Where the file is.
    let url: URL
    /// The open descriptor, positioned at the end.
    private let handle: FileHandle

    /// Opens `url` for appending, creating its directory and the file if they do not exist.
    ///
    /// - Parameters:
    ///   - url: The file.
    ///   - exclusive: Fail if the file exists already (for names that must be new).
    ///   - truncate: Empty an existing file.
    /// - Throws: `SequentError` (`.io`) naming the path when the directory or file cannot be
    ///   created or opened.
    init(url: URL, exclusive: Bool = false, truncate: Bool = false) throws(SequentError) {
        self.url = url
        let manager = FileManager.default
        let directory = url.deletingLastPathComponent()
        do {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw SequentError(.io, "\(directory.path): cannot create directory (\(AppendOnlyFile.reason(error, at: directory)))")
        }
        let exists = manager.fileExists(atPath: url.path)
        if exclusive && exists {
            throw SequentError(.io, "\(url.path): file exists already")
        }
        if !exists || truncate {
            do {
                try Data().write(to: url, options: exclusive ? [.withoutOverwriting] : [])
            } catch {
                throw SequentError(.io, "\(url.path): cannot create file (\(AppendOnlyFile.reason(error, at: url)))")
            }
        }
        do {
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
        } catch {
            throw SequentError(.io, "\(url.path): cannot open for writing (\(AppendOnlyFile.reason(error, at: url)))")
        }
    }

    deinit {
        try? handle.close()
    }

    /// Writes `bytes` at the end of the file.
    func append(_ bytes: [UInt8]) throws(SequentError) {
        do {
            try handle.write(contentsOf: bytes)
        } catch {
            throw SequentError(.io, "\(url.path): write failed (\(AppendOnlyFile.reason(error)))")
        }
    }

    /// Cuts the file to its first `length` bytes and moves the write position there.
    func truncate(toLength length: Int) throws(SequentError) {
        do {
            try handle.truncate(atOffset: UInt64(length))
            try handle.seekToEnd()
        } catch {
            throw SequentError(.io, "\(url.path): cannot truncate to \(length) bytes (\(AppendOnlyFile.reason(error)))")
        }
    }

    /// Asks the operating system to put everything written so far on the disk (fsync).
    func synchronize() throws(SequentError) {
        do {
            try handle.synchronize()
        } catch {
            throw SequentError(.io, "\(url.path): fsync failed (\(AppendOnlyFile.reason(error)))")
        }
    }

    /// The whole content of `url`, or nil if there is no file there.
    static func contents(of url: URL) throws(SequentError) -> [UInt8]? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            throw SequentError(.io, "\(url.path): cannot read (\(reason(error)))")
        }
    }

    /// Why creating or writing `url` failed, in words: Foundation on Linux often says only
    /// "The operation could not be completed", so the nearest existing ancestor is examined.
    static func reason(_ error: any Error, at url: URL? = nil) -> String {
        if let url {
            let manager = FileManager.default
            var ancestor = url.deletingLastPathComponent()
            var isDirectory: ObjCBool = false
            while !manager.fileExists(atPath: ancestor.path, isDirectory: &isDirectory), ancestor.path != "/" {
                ancestor = ancestor.deletingLastPathComponent()
            }
            if !isDirectory.boolValue { return "\(ancestor.path) is not a directory" }
            if !manager.isWritableFile(atPath: ancestor.path) { return "no permission to write in \(ancestor.path)" }
            if manager.fileExists(atPath: url.path), !manager.isWritableFile(atPath: url.path) {
                return "no permission to write \(url.path)"
            }
        }
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError {
            return underlying.localizedDescription
        }
        return nsError.localizedDescription
    }
}
