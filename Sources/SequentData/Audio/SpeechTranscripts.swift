import Foundation
import SequentTensor

/// One audio file and what is said in it.
public struct SpeechUtterance: Equatable, Sendable {
    public var url: URL
    public var text: String

    public init(url: URL, text: String) {
        self.url = url
        self.text = text
    }
}

/// Where the transcripts of `sequent speech` come from: a TSV file (`path<TAB>text`, paths
/// relative to the audio folder or absolute) or the file names (`{label}_*`).
public enum SpeechTranscripts {
    /// The utterances of a transcript file: one `path<TAB>text` line each; blank lines and
    /// lines starting with `#` are skipped, and a first line `path<TAB>text` (any case) is a header.
    ///
    /// - Parameters:
    ///   - url: the TSV file.
    ///   - audioFolder: relative paths are taken inside this folder.
    /// - Throws: `SequentError.malformedFile` naming the file and line of a line without a
    ///   tab, with an empty path or text, or naming a file that does not exist.
    public static func read(_ url: URL, audioFolder: URL, flag: String = "--transcripts") throws -> [SpeechUtterance] {
        let data = try InputFile.read(url, flag: flag)
        guard let text = String(data: data, encoding: .utf8) else {
            throw SequentError.malformedFile(url.path, "\(flag): not UTF-8 text")
        }
        var utterances: [SpeechUtterance] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
            guard let tab = line.firstIndex(of: "\t") else {
                throw SequentError.malformedFile(url.path, "line \(index + 1): expected `path<TAB>text`, found no tab")
            }
            let path = String(line[..<tab]).trimmingCharacters(in: .whitespaces)
            let said = String(line[line.index(after: tab)...]).trimmingCharacters(in: .whitespaces)
            if index == 0 && path.lowercased() == "path" { continue }
            guard !path.isEmpty, !said.isEmpty else {
                throw SequentError.malformedFile(url.path, "line \(index + 1): the path and the text must both be non-empty")
            }
            let file = path.hasPrefix("/") ? URL(fileURLWithPath: path) : audioFolder.appendingPathComponent(path)
            guard FileManager.default.fileExists(atPath: file.path) else {
                throw SequentError.malformedFile(url.path, "line \(index + 1): \(file.path) does not exist")
            }
            utterances.append(SpeechUtterance(url: file, text: said))
        }
        guard !utterances.isEmpty else {
            throw SequentError.malformedFile(url.path, "\(flag): holds no `path<TAB>text` line")
        }
        return utterances
    }

    /// The utterances of `files` labelled from their names (without extension) by `pattern`:
    /// `{label}` captures the text, `*` matches anything, other characters match themselves
    /// (`{label}_*` reads `7_jackson_0.wav` as "7"). Underscores inside the label become spaces.
    ///
    /// - Returns: the labelled utterances and the names the pattern did not match.
    /// - Throws: `SequentError.invalidArgument` for a pattern without exactly one `{label}`.
    public static func fromFileNames(_ files: [URL], pattern: String) throws -> (utterances: [SpeechUtterance], unmatched: [String]) {
        let matcher = try LabelPattern(pattern)
        var utterances: [SpeechUtterance] = [], unmatched: [String] = []
        for file in files {
            let name = file.deletingPathExtension().lastPathComponent
            if let label = matcher.label(of: name), !label.isEmpty {
                utterances.append(SpeechUtterance(url: file, text: label))
            } else {
                unmatched.append(file.lastPathComponent)
            }
        }
        return (utterances, unmatched)
    }
}

/// A file-name pattern with one `{label}` and `*` wildcards.
public struct LabelPattern: Sendable {
    let regex: NSRegularExpression

    public init(_ pattern: String) throws {
        let parts = pattern.components(separatedBy: "{label}")
        guard parts.count == 2 else {
            throw SequentError.invalidArgument("--label-from-filename", "the pattern must hold `{label}` exactly once, got '\(pattern)'")
        }
        func literal(_ text: String) -> String {
            text.components(separatedBy: "*").map { NSRegularExpression.escapedPattern(for: $0) }.joined(separator: ".*")
        }
        do {
            regex = try NSRegularExpression(pattern: "^" + literal(parts[0]) + "(.+?)" + literal(parts[1]) + "$")
        } catch {
            throw SequentError.invalidArgument("--label-from-filename", "cannot use the pattern '\(pattern)': \(error)")
        }
    }

    /// The label in `name`, nil if the name does not match.
    public func label(of name: String) -> String? {
        let range = NSRange(name.startIndex..., in: name)
        guard let match = regex.firstMatch(in: name, range: range), let r = Range(match.range(at: 1), in: name) else { return nil }
        return name[r].replacingOccurrences(of: "_", with: " ")
    }
}
