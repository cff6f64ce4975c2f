import Foundation
import SequentTensor

/// Pretrained word vectors in the GloVe / word2vec text format: one word a line followed by
/// its D numbers, separated by spaces; word2vec's first line "count D" is skipped.
///
///     let vectors = try WordVectors.read(URL(fileURLWithPath: "glove.6B.100d.txt"), flag: "--embeddings")
///     vectors.dimension        // 100
///     vectors.vectors["good"]  // [Float] of 100
public struct WordVectors: Sendable {
    public var dimension: Int
    public var vectors: [String: [Float]]

    /// Reads `url`.
    ///
    /// - Throws: `SequentError` naming the file and line for a line whose vector is not D
    ///   numbers long (D from the first vector), a value that is not a finite number, or a
    ///   file with no vectors.
    public static func read(_ url: URL, flag: String) throws -> WordVectors {
        let data = try InputFile.read(url, flag: flag)
        guard let text = String(data: data, encoding: .utf8) else { throw SequentError.malformedFile(url.path, "is not UTF-8 text") }
        return try parse(text, path: url.path)
    }

    /// Parses `text` as the contents of the file at `path` (named in errors).
    public static func parse(_ text: String, path: String) throws -> WordVectors {
        var dimension: Int?
        var vectors: [String: [Float]] = [:]
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.isEmpty { continue }
            if lineNumber == 1, fields.count == 2, Int(fields[0]) != nil, Int(fields[1]) != nil { continue }  // word2vec header
            guard fields.count >= 2 else {
                throw SequentError.malformedFile(path, "line \(lineNumber): expected a word and its vector, got '\(line.prefix(40))'")
            }
            var vector: [Float] = []
            vector.reserveCapacity(fields.count - 1)
            for field in fields.dropFirst() {
                guard let value = Float(field.trimmingCharacters(in: .whitespacesAndNewlines)), value.isFinite else {
                    throw SequentError.malformedFile(path, "line \(lineNumber): '\(field.prefix(20))' is not a finite number")
                }
                vector.append(value)
            }
            if let dimension, vector.count != dimension {
                throw SequentError.malformedFile(
                    path, "line \(lineNumber): the vector of '\(fields[0])' has \(vector.count) numbers, the vectors before it \(dimension)")
            }
            dimension = vector.count
            vectors[String(fields[0])] = vectors[String(fields[0])] ?? vector
        }
        guard let dimension else { throw SequentError.malformedFile(path, "holds no word vectors") }
        return WordVectors(dimension: dimension, vectors: vectors)
    }
}
