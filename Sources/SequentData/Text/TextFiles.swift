import Foundation
import SequentTensor

/// UTF-8 text read from a file or from every file of a folder, checked byte by byte.
///
///     let text = try TextFiles.read(URL(fileURLWithPath: "../shared/data/text/tinyshakespeare.txt"), option: "--text")
///
/// A folder is read in the sorted order of its file names (recursively, hidden files
/// skipped), the files joined as they are. Nothing is normalised: the text the tokenizer sees
/// is the bytes of the files.
public enum TextFiles {
    /// Reads `url` (a file, or a folder of files) as UTF-8 text.
    ///
    /// - Parameters:
    ///   - url: a file or a folder.
    ///   - option: the command-line option that named it, for the messages (`--text`).
    /// - Returns: the text.
    /// - Throws: `SequentError` naming the file: missing or unreadable (`.io`), empty, binary
    ///   (a NUL byte, with its offset) or invalid UTF-8 (the byte offset, line and column of
    ///   the first bad byte) (`.malformedFile`).
    public static func read(_ url: URL, option: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw SequentError.io(url.path, "\(option): no such file or folder")
        }
        guard isDirectory.boolValue else { return try readFile(url, option: option) }
        let files = try filesInFolder(url, option: option)
        guard !files.isEmpty else {
            throw SequentError.io(url.path, "\(option): the folder holds no files")
        }
        var text = ""
        for file in files { text += try readFile(file, option: option) }
        return text
    }

    /// Reads one file and checks that it is non-empty UTF-8 text.
    public static func readFile(_ url: URL, option: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SequentError.io(url.path, "\(option): cannot be read (permission, or not a regular file)")
        }
        return try decode(Array(data), path: url.path)
    }

    /// Checks `bytes` as UTF-8 text and decodes them.
    ///
    /// - Throws: `SequentError.malformedFile` naming `path` for empty input, a NUL byte, or
    ///   the first byte that is not valid UTF-8 (byte offset, line, column).
    public static func decode(_ bytes: [UInt8], path: String) throws -> String {
        guard !bytes.isEmpty else {
            throw SequentError.malformedFile(path, "the file is empty; give a UTF-8 text file")
        }
        if let offset = firstInvalidByte(bytes) {
            let (line, column) = lineAndColumn(of: offset, in: bytes)
            if bytes[offset] == 0 {
                throw SequentError.malformedFile(path, "byte \(offset) (line \(line), column \(column)) is NUL: this looks like a binary file, not UTF-8 text")
            }
            throw SequentError.malformedFile(
                path, "invalid UTF-8 at byte \(offset) (line \(line), column \(column)): 0x\(String(bytes[offset], radix: 16, uppercase: true)); convert the file to UTF-8 (iconv -t UTF-8)")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The offset of the first byte that is NUL or breaks UTF-8 (RFC 3629: no overlong forms,
    /// no surrogates, nothing above U+10FFFF), or nil for valid text.
    public static func firstInvalidByte(_ bytes: [UInt8]) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b == 0 { return i }
            if b < 0x80 { i += 1; continue }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch b {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return i
            }
            guard i + length <= n else { return i }
            guard bytes[i + 1] >= low && bytes[i + 1] <= high else { return i }
            for k in 2..<length where bytes[i + k] & 0xC0 != 0x80 { return i }
            i += length
        }
        return nil
    }

    /// The 1-based line and column (in bytes) of byte `offset`.
    static func lineAndColumn(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1, lineStart = 0
        for i in 0..<offset where bytes[i] == 10 {
            line += 1
            lineStart = i + 1
        }
        return (line, offset - lineStart + 1)
    }

    /// The regular, non-hidden files under `folder`, sorted by path.
    private static func filesInFolder(_ folder: URL, option: String) throws -> [URL] {
        guard let enumerator = FileManager.default.enumerator(
            at: folder, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles]) else {
            throw SequentError.io(folder.path, "\(option): the folder cannot be listed")
        }
        var files: [URL] = []
        for case let file as URL in enumerator {
            if (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { files.append(file) }
        }
        return files.sorted { $0.path < $1.path }
    }
}
