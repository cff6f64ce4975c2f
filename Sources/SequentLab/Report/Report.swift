import Foundation
import SequentTensor

/// Whether a claim of the field held in this run, computed from the measurements.
public enum Verdict: String, Sendable {
    case held = "held"
    case notHeld = "did not hold"
    /// The measurements do not decide it (e.g. every model failed the task).
    case inconclusive = "inconclusive"
    /// Nothing was measured (an experiment not run, no file given, a quantity this machine
    /// cannot measure).
    case notMeasured = "not measured"

    /// `.held` if `condition`, else `.notHeld`.
    public static func from(_ condition: Bool) -> Verdict { condition ? .held : .notHeld }
}

/// A claim, what was measured, and the verdict computed from it.
public struct Claim: Sendable {
    public var statement: String
    public var measured: String
    public var verdict: Verdict

    public init(_ statement: String, measured: String, verdict: Verdict) {
        self.statement = statement
        self.measured = measured
        self.verdict = verdict
    }

    var json: JSONValue {
        .object([("claim", .string(statement)), ("measured", .string(measured)), ("verdict", .string(verdict.rawValue))])
    }
}

/// A table of the report: a header row and rows of cells (plain text).
public struct ReportTable: Sendable {
    public var header: [String]
    public var rows: [[String]]

    public init(header: [String], rows: [[String]]) {
        self.header = header
        self.rows = rows
    }
}

/// One piece of a report section.
public enum ReportBlock: Sendable {
    case paragraph(String)
    case table(ReportTable)
    /// A figure: written as `<name>.svg`, linked from report.md, inlined in report.html.
    case figure(name: String, caption: String, svg: String)
    case claims([Claim])
}

/// A section of the report: one experiment's text, tables, figures, claims and results.
public struct ReportSection: Sendable {
    public var title: String
    public var blocks: [ReportBlock] = []
    /// This experiment's measurements for results.json.
    public var results: JSONValue = .object([])

    public init(title: String) { self.title = title }

    public mutating func paragraph(_ text: String) { blocks.append(.paragraph(text)) }
    public mutating func table(_ table: ReportTable) { blocks.append(.table(table)) }
    public mutating func figure(_ name: String, _ caption: String, _ svg: String) { blocks.append(.figure(name: name, caption: caption, svg: svg)) }
    public mutating func claims(_ claims: [Claim]) { blocks.append(.claims(claims)) }

    /// Every claim of the section.
    public var allClaims: [Claim] {
        blocks.flatMap { block -> [Claim] in if case .claims(let c) = block { return c } else { return [] } }
    }
}

/// The lab's report: report.md, report.html (figures inline), results.json and one SVG
/// per figure, in one folder.
public struct LabReport: Sendable {
    public var title: String
    /// Lines about the run: mode (quick or full), machine, time taken.
    public var preamble: [String]
    public var sections: [ReportSection]

    public init(title: String, preamble: [String], sections: [ReportSection]) {
        self.title = title
        self.preamble = preamble
        self.sections = sections
    }

    /// The 1-minute load average of this machine ("unknown" off Linux).
    static var loadAverage: String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
        return text.split(separator: " ").first.map(String.init) ?? "unknown"
    }

    /// Writes the report's files into `directory` (created if missing).
    ///
    /// - Throws: `SequentError` (.io) naming the path that could not be written.
    public func write(to directory: URL) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw SequentError(.io, "lab: cannot create the report folder \(directory.path): \(error.localizedDescription)")
        }
        func save(_ text: String, _ name: String) throws {
            let url = directory.appendingPathComponent(name)
            do {
                try Data(text.utf8).write(to: url)
            } catch {
                throw SequentError(.io, "lab: cannot write \(url.path): \(error.localizedDescription)")
            }
        }
        for section in sections {
            for case .figure(let name, _, let svg) in section.blocks { try save(svg, name + ".svg") }
        }
        try save(markdown, "report.md")
        try save(html, "report.html")
        try save(json.serialized() + "\n", "results.json")
    }

    /// results.json: the preamble, then each section's claims and measurements.
    public var json: JSONValue {
        .object([
            ("title", .string(title)),
            ("run", .array(preamble.map { .string($0) })),
            ("experiments", .array(sections.map { section in
                .object([("title", .string(section.title)), ("claims", .array(section.allClaims.map(\.json))),
                         ("results", section.results)])
            })),
        ])
    }

    public var markdown: String {
        var out = "# \(title)\n\n" + preamble.map { "- \($0)\n" }.joined() + "\n"
        for section in sections {
            out += "## \(section.title)\n\n"
            for block in section.blocks {
                switch block {
                case .paragraph(let text): out += text + "\n\n"
                case .table(let table): out += LabReport.markdownTable(table) + "\n"
                case .figure(let name, let caption, _): out += "![\(caption)](\(name).svg)\n\n*\(caption)*\n\n"
                case .claims(let claims):
                    out += LabReport.markdownTable(ReportTable(
                        header: ["Claim", "Measured", "Verdict"],
                        rows: claims.map { [$0.statement, $0.measured, "**\($0.verdict.rawValue)**"] })) + "\n"
                }
            }
        }
        return out
    }

    static func markdownTable(_ table: ReportTable) -> String {
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: "<br>") }
        var out = "| " + table.header.map(cell).joined(separator: " | ") + " |\n"
        out += "|" + table.header.map { _ in "---|" }.joined() + "\n"
        for row in table.rows { out += "| " + row.map(cell).joined(separator: " | ") + " |\n" }
        return out
    }

    public var html: String {
        func e(_ s: String) -> String { SVGDocument.escape(s) }
        /// Escaped text with **bold** and `code` spans of the markdown kept.
        func inline(_ s: String) -> String {
            var text = e(s)
            for (marker, tag) in [("**", "b"), ("`", "code")] {
                let parts = text.components(separatedBy: marker)
                guard parts.count >= 3 else { continue }
                text = parts.enumerated().map { i, part in
                    i == 0 ? part : (i % 2 == 1 ? "<\(tag)>" : "</\(tag)>") + part
                }.joined()
                if parts.count % 2 == 0 { text += "</\(tag)>" }
            }
            return text
        }
        func table(_ t: ReportTable) -> String {
            "<table>\n<tr>" + t.header.map { "<th>\(inline($0))</th>" }.joined() + "</tr>\n"
                + t.rows.map { "<tr>" + $0.map { "<td>\(inline($0).replacingOccurrences(of: "\n", with: "<br>"))</td>" }.joined() + "</tr>\n" }.joined()
                + "</table>\n"
        }
        var body = "<h1>\(e(title))</h1>\n<ul>\n" + preamble.map { "<li>\(inline($0))</li>\n" }.joined() + "</ul>\n"
        for section in sections {
            body += "<h2>\(e(section.title))</h2>\n"
            for block in section.blocks {
                switch block {
                case .paragraph(let text): body += "<p>\(inline(text))</p>\n"
                case .table(let t): body += table(t)
                case .figure(_, let caption, let svg):
                    body += "<figure>\n\(svg)<figcaption>\(inline(caption))</figcaption>\n</figure>\n"
                case .claims(let claims):
                    body += "<table>\n<tr><th>Claim</th><th>Measured</th><th>Verdict</th></tr>\n"
                    for claim in claims {
                        let css = claim.verdict == .held ? "held" : claim.verdict == .notHeld ? "not-held" : "open"
                        body += "<tr><td>\(inline(claim.statement))</td><td>\(inline(claim.measured))</td><td class=\"\(css)\"><b>\(e(claim.verdict.rawValue))</b></td></tr>\n"
                    }
                    body += "</table>\n"
                }
            }
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(e(title))</title>
            <style>
            body { font-family: Helvetica, Arial, sans-serif; max-width: 980px; margin: 2em auto; color: #222; line-height: 1.45; }
            table { border-collapse: collapse; margin: 1em 0; font-size: 14px; }
            th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
            th { background: #f3f3f3; }
            td.held { color: #08652a; } td.not-held { color: #a11; } td.open { color: #666; }
            figure { margin: 1.5em 0; } figcaption { font-size: 13px; color: #555; }
            code { background: #f5f5f5; padding: 0 3px; }
            </style></head><body>
            \(body)</body></html>

            """
    }
}
