import Foundation

/// The small SVG vocabulary the charts are drawn with: a document of fixed size, elements
/// appended as text, and every piece of user text escaped for XML.
struct SVGDocument {
    let width: Double
    let height: Double
    private(set) var elements: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double,
                       stroke: String = "#000", width: Double = 1, dash: String? = nil) {
        elements.append("<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(f(width))\""
            + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>")
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double,
                       fill: String, stroke: String? = nil, title: String? = nil) {
        let open = "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(max(0, w)))\" height=\"\(f(max(0, h)))\" fill=\"\(fill)\""
            + (stroke.map { " stroke=\"\($0)\"" } ?? "")
        if let title {
            elements.append(open + "><title>\(SVGDocument.escape(title))</title></rect>")
        } else {
            elements.append(open + "/>")
        }
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2, dash: String? = nil) {
        let list = points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
        elements.append("<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(f(width))\" stroke-linejoin=\"round\""
            + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>")
    }

    mutating func circle(_ x: Double, _ y: Double, radius: Double, fill: String) {
        elements.append("<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"\(f(radius))\" fill=\"\(fill)\"/>")
    }

    /// Text anchored at (x, y); `anchor` is start, middle or end; `rotate` in degrees about (x, y).
    mutating func text(_ content: String, _ x: Double, _ y: Double, size: Double = 12, anchor: String = "start",
                       weight: String = "normal", rotate: Double? = nil, fill: String = "#222") {
        let transform = rotate.map { " transform=\"rotate(\(f($0)) \(f(x)) \(f(y)))\"" } ?? ""
        elements.append("<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(f(size))\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\" fill=\"\(fill)\"\(transform)>"
            + SVGDocument.escape(content) + "</text>")
    }

    /// The document as a standalone SVG file.
    var rendered: String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="Helvetica, Arial, sans-serif">
        <rect x="0" y="0" width="\(f(width))" height="\(f(height))" fill="#fff"/>
        \(elements.joined(separator: "\n"))
        </svg>

        """
    }

    /// Text made safe for XML content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }

    private func f(_ value: Double) -> String { String(format: "%.2f", value) }
}

/// A colour-blind-safe palette (Okabe and Ito), one colour per series in order.
let seriesColors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

/// A tick label: compact and exact enough to read (1e-05, 0.25, 12, 3.4k).
func tickLabel(_ value: Double) -> String {
    if value == 0 { return "0" }
    let magnitude = abs(value)
    if magnitude >= 1e5 || magnitude < 1e-3 {
        let exponent = Int(floor(log10(magnitude)).rounded())
        let mantissa = value / pow(10, Double(exponent))
        if abs(mantissa - mantissa.rounded()) < 1e-9 {
            return abs(mantissa.rounded()) == 1 ? (mantissa < 0 ? "-" : "") + "1e\(exponent)" : "\(Int(mantissa.rounded()))e\(exponent)"
        }
        return String(format: "%.1fe%d", mantissa, exponent)
    }
    if magnitude >= 1000 { return value == value.rounded() ? String(Int(value)) : String(format: "%.0f", value) }
    if value == value.rounded() { return String(Int(value)) }
    var text = String(format: "%.3f", value)
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text
}
