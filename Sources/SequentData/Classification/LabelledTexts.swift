import Foundation
import SequentTensor

/// Labelled texts read from a CSV or TSV file with a header: one text and one string label
/// a record, for `sequent classify`.
///
///     let data = try LabelledTexts.read(URL(fileURLWithPath: "train.tsv"), textColumn: "sentence", labelColumn: "label")
///     data.texts[0]     // "hide new secretions from the parental units"
///     data.labels[0]    // "0"
///     data.classCounts  // ["0": 29780, "1": 37569]
///
/// The delimiter is a tab for a `.tsv` or `.tab` file, a comma otherwise. Quoted fields may hold
/// delimiters and line breaks (RFC 4180). Columns are named by header name or by 0-based index.
public struct LabelledTexts: Sendable, Equatable {
    /// The file's path, for messages.
    public var path: String
    public var texts: [String]
    public var labels: [String]
    /// The file line each record starts on (1-based, the header is line 1).
    public var lines: [Int]

    public init(path: String, texts: [String], labels: [String], lines: [Int]) {
        self.path = path
        self.texts = texts
        self.labels = labels
        self.lines = lines
    }

    public var count: Int { texts.count }

    /// How many records each label has.
    public var classCounts: [String: Int] { labels.reduce(into: [:]) { $0[$1, default: 0] += 1 } }

    /// The distinct labels, sorted (numerically when all are integers, else in code-point order).
    public var classes: [String] { Self.sortedClasses(Set(labels)) }

    /// `labels` sorted numerically when all parse as integers, else by code points.
    public static func sortedClasses(_ labels: Set<String>) -> [String] {
        let numbers = labels.compactMap { Int($0) }
        if numbers.count == labels.count { return labels.sorted { Int($0)! < Int($1)! } }
        return labels.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    }

    /// The records at `indices`, in that order.
    public func subset(_ indices: [Int]) -> LabelledTexts {
        LabelledTexts(path: path, texts: indices.map { texts[$0] }, labels: indices.map { labels[$0] },
                      lines: indices.map { lines[$0] })
    }

    /// Reads `url`.
    ///
    /// - Parameters:
    ///   - textColumn, labelColumn: a header name, or a 0-based index.
    ///   - requiresLabels: false reads only the text column (a file to predict on).
    ///   - flag: the flag that named the file, for messages.
    /// - Throws: `SequentError` naming the file and line for an unreadable file, a missing
    ///   column (listing the columns), a record with the wrong number of fields, an empty
    ///   text or an empty label; naming the flag for no records.
    public static func read(
        _ url: URL, textColumn: String, labelColumn: String, requiresLabels: Bool = true, flag: String
    ) throws -> LabelledTexts {
        let ext = url.pathExtension.lowercased()
        let delimiter: Unicode.Scalar = ext == "tsv" || ext == "tab" ? "\t" : ","
        let table = try CSVTable.read(url, delimiter: delimiter, flag: flag)
        let textIndex = try column(textColumn, in: table, flag: "--text-column")
        let labelIndex = requiresLabels ? try column(labelColumn, in: table, flag: "--label-column") : nil
        var texts: [String] = [], labels: [String] = [], lines: [Int] = []
        texts.reserveCapacity(table.rows.count)
        for row in table.rows {
            let text = row.fields[textIndex]
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw SequentError.malformedFile(table.path, "line \(row.line): the text (column '\(table.header[textIndex])') is empty")
            }
            if let labelIndex {
                let label = row.fields[labelIndex]
                guard !label.isEmpty else {
                    throw SequentError.malformedFile(table.path, "line \(row.line): the label (column '\(table.header[labelIndex])') is empty")
                }
                labels.append(label)
            }
            texts.append(text)
            lines.append(row.line)
        }
        guard !texts.isEmpty else {
            throw SequentError.invalidArgument(flag, "\(table.path) has a header but no records")
        }
        return LabelledTexts(path: table.path, texts: texts, labels: labels, lines: lines)
    }

    /// The index of column `name`: a header name, else a 0-based index.
    static func column(_ name: String, in table: CSVTable, flag: String) throws -> Int {
        if let index = table.header.firstIndex(of: name) { return index }
        if let index = Int(name) {
            guard table.header.indices.contains(index) else {
                throw SequentError.invalidArgument(
                    flag, "\(table.path) has \(table.header.count) columns (0...\(table.header.count - 1)), not \(index); its columns are \(table.header.map { "'\($0)'" }.joined(separator: ", "))")
            }
            return index
        }
        return try table.columnIndex(name, flag: flag)
    }

    /// Splits the records into training and validation sets with each class's share kept:
    /// from every class, `round(fraction * n_c)` records (at least 1 when the class has 2 or
    /// more) chosen at random go to validation, as scikit-learn's `train_test_split(...,
    /// stratify=y)` keeps class ratios. Both sets keep the file's order.
    ///
    /// - Throws: `SequentError.invalidArgument` for a fraction outside (0, 1) or a split that
    ///   leaves either side empty.
    public func stratifiedSplit(valFraction fraction: Double, generator: inout RandomGenerator) throws
        -> (train: LabelledTexts, val: LabelledTexts) {
        guard fraction > 0, fraction < 1 else {
            throw SequentError.invalidArgument("--val-fraction", "must be in (0, 1); got \(fraction)")
        }
        var byClass: [String: [Int]] = [:]
        for (index, label) in labels.enumerated() { byClass[label, default: []].append(index) }
        var held = [Bool](repeating: false, count: count)
        for label in Self.sortedClasses(Set(byClass.keys)) {
            var members = byClass[label]!
            // Fisher-Yates, written out so the split never depends on the standard library.
            if members.count > 1 {
                for i in stride(from: members.count - 1, to: 0, by: -1) {
                    let j = Int(generator.next() % UInt64(i + 1))
                    members.swapAt(i, j)
                }
            }
            var take = Int((fraction * Double(members.count)).rounded())
            if members.count >= 2 { take = min(max(take, 1), members.count - 1) } else { take = 0 }
            for index in members.prefix(take) { held[index] = true }
        }
        let valIndices = held.indices.filter { held[$0] }
        let trainIndices = held.indices.filter { !held[$0] }
        guard !valIndices.isEmpty, !trainIndices.isEmpty else {
            throw SequentError.invalidArgument(
                "--val-fraction", "\(fraction) of \(count) records leaves \(trainIndices.count) to train and \(valIndices.count) to validate; give more data or --val FILE")
        }
        return (subset(trainIndices), subset(valIndices))
    }
}
