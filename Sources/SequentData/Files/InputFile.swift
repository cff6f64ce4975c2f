import Foundation
import SequentTensor
#if canImport(Glibc)
import Glibc
#endif

/// Reading a file the user named, with errors that name the flag, the path and the problem
/// in Sequent's words: a missing file, a folder, a FIFO or device, a file without read
/// permission, or a file too large to hold, instead of Foundation's domain and code.
public enum InputFile {
    /// The largest file `read` loads (16 GiB): beyond that, memory runs out first.
    public static let maximumSize = 16 << 30

    /// The bytes of the regular file at `url`.
    ///
    /// - Parameter flag: the option that named the file (`--text`), for the message.
    /// - Throws: `SequentError.io` naming `flag`, the path and what is wrong with it.
    public static func read(_ url: URL, flag: String) throws -> Data {
        let path = url.path
        try checkReadable(url, flag: flag)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SequentError.io(path, "\(flag): cannot open the file for reading")
        }
        defer { try? handle.close() }
        do {
            return try handle.readToEnd() ?? Data()
        } catch {
            throw SequentError.io(path, "\(flag): reading failed (\(describe(error)))")
        }
    }

    /// Checks that `url` is a regular file this process may read, without reading it.
    ///
    /// - Throws: `SequentError.io` naming `flag`, the path and what is wrong with it.
    public static func checkReadable(_ url: URL, flag: String) throws {
        let path = url.path
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = errno == ENOENT ? "no such file" : String(cString: strerror(errno))
            throw SequentError.io(path, "\(flag): \(reason)")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw SequentError.io(path, "\(flag): is a folder; give a file")
        case S_IFIFO: throw SequentError.io(path, "\(flag): is a named pipe (FIFO); give a regular file")
        case S_IFCHR, S_IFBLK: throw SequentError.io(path, "\(flag): is a device; give a regular file")
        case S_IFSOCK: throw SequentError.io(path, "\(flag): is a socket; give a regular file")
        default: throw SequentError.io(path, "\(flag): is not a regular file")
        }
        guard access(path, R_OK) == 0 else {
            throw SequentError.io(path, "\(flag): no permission to read it")
        }
        guard Int(info.st_size) <= maximumSize else {
            throw SequentError.io(path, "\(flag): \(info.st_size) bytes is more than the \(maximumSize >> 30) GiB Sequent reads at once")
        }
    }

    /// A Foundation error in plain words (the POSIX reason where there is one).
    public static func describe(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
        return nsError.localizedDescription
    }
}

/// Writing into a folder the user named.
public enum OutputFolder {
    /// Creates `url` (and its parents) if missing and checks that files can be created in
    /// it, before any work starts: an unwritable output is refused at once.
    ///
    /// - Parameter flag: the option that named the folder (`--out`), for the message.
    /// - Throws: `SequentError.io` naming `flag`, the path and what is wrong.
    public static func prepare(_ url: URL, flag: String) throws {
        let path = url.path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw SequentError.io(path, "\(flag): is a file, not a folder") }
        } else {
            do {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            } catch {
                throw SequentError.io(path, "\(flag): cannot create the folder (\(InputFile.describe(error)))")
            }
        }
        let probe = url.appendingPathComponent(".sequent-write-test-\(getpid())")
        guard FileManager.default.createFile(atPath: probe.path, contents: Data("ok".utf8)) else {
            throw SequentError.io(path, "\(flag): cannot write into the folder (read-only, no permission or full)")
        }
        try? FileManager.default.removeItem(at: probe)
    }
}
