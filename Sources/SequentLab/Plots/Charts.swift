import Foundation

/// How an axis maps values to positions.
public enum AxisScale: String, Sendable, Codable {
    case linear
    /// Base-10 logarithmic; values <= 0 are left out of the plot.
    case log
}

/// An axis: its title (with the unit, e.g. "sequence length (steps)") and scale.
public struct Axis: Sendable {
    public var title: String
    public var scale: AxisScale
    /// A fixed range, else the data's range (padded on a linear axis).
    public var range: ClosedRange<Double>?

    public init(_ title: String, scale: AxisScale = .linear, range: ClosedRange<Double>? = nil) {
        self.title = title
        self.scale = scale
        self.range = range
    }

    /// The range the axis covers for `values`: the fixed range, else the data's (powers of
    /// ten around it on a log axis).
    func resolvedRange(_ values: [Double]) -> ClosedRange<Double> {
        if let range { return range }
        let usable = values.filter { $0.isFinite && (scale == .linear || $0 > 0) }
        guard var low = usable.min(), var high = usable.max() else { return scale == .log ? 1...10 : 0...1 }
        switch scale {
        case .log:
            low = pow(10, floor(log10(low)))
            high = pow(10, ceil(log10(high)))
            if low == high { high = low * 10 }
        case .linear:
            if low == high { (low, high) = (low - 1, high + 1) }
            let step = niceStep((high - low) / 5)
            low = floor(low / step) * step
            high = ceil(high / step) * step
        }
        return low...high
    }

    /// The tick values on `range`: powers of ten on a log axis (with 2 and 5 when it spans
    /// less than two decades, every other power when it spans more than 10), round numbers
    /// on a linear one.
    func ticks(_ range: ClosedRange<Double>) -> [Double] {
        switch scale {
        case .log:
            let first = Int(floor(log10(range.lowerBound))), last = Int(ceil(log10(range.upperBound)))
            let decades = last - first
            let stride = decades > 10 ? Int((Double(decades) / 8).rounded(.up)) : 1
            var ticks: [Double] = []
            for e in Swift.stride(from: first, through: last, by: stride) {
                let multipliers: [Double] = decades < 2 ? [1, 2, 5] : [1]
                for m in multipliers {
                    let value = m * pow(10, Double(e))
                    if value >= range.lowerBound * (1 - 1e-9) && value <= range.upperBound * (1 + 1e-9) { ticks.append(value) }
                }
            }
            return ticks
        case .linear:
            let step = niceStep((range.upperBound - range.lowerBound) / 5)
            var ticks: [Double] = []
            var value = ceil(range.lowerBound / step - 1e-9) * step
            while value <= range.upperBound + step * 1e-9 {
                ticks.append(abs(value) < step * 1e-9 ? 0 : value)
                value += step
            }
            return ticks
        }
    }

    /// Where `value` falls on [0, 1] of the axis (nil if a log axis cannot show it).
    func fraction(_ value: Double, _ range: ClosedRange<Double>) -> Double? {
        guard value.isFinite else { return nil }
        switch scale {
        case .log:
            guard value > 0 else { return nil }
            return (log10(value) - log10(range.lowerBound)) / (log10(range.upperBound) - log10(range.lowerBound))
        case .linear:
            return (value - range.lowerBound) / (range.upperBound - range.lowerBound)
        }
    }
}

/// 1, 2 or 5 times a power of ten, near `raw`.
private func niceStep(_ raw: Double) -> Double {
    guard raw > 0, raw.isFinite else { return 1 }
    let power = pow(10, floor(log10(raw)))
    let fraction = raw / power
    return (fraction < 1.5 ? 1 : fraction < 3.5 ? 2 : fraction < 7.5 ? 5 : 10) * power
}

/// The plot area and margins shared by the charts with axes.
private struct Frame {
    let left = 78.0, right = 170.0, top = 46.0, bottom = 62.0
    let width: Double, height: Double
    var plotWidth: Double { width - left - right }
    var plotHeight: Double { height - top - bottom }
}

/// Draws the title, axes, ticks, grid and axis titles; returns the position mapping.
private func drawAxes(
    _ svg: inout SVGDocument, frame: Frame, title: String, x: Axis, xRange: ClosedRange<Double>,
    y: Axis, yRange: ClosedRange<Double>, xTicks: [(Double, String)]? = nil
) {
    svg.text(title, frame.width / 2 - (frame.right - frame.left) / 2, 26, size: 15, anchor: "middle", weight: "bold")
    let (x0, y0) = (frame.left, frame.top + frame.plotHeight)
    for tick in y.ticks(yRange) {
        guard let fy = y.fraction(tick, yRange) else { continue }
        let py = y0 - fy * frame.plotHeight
        svg.line(x0, py, x0 + frame.plotWidth, py, stroke: "#e3e3e3")
        svg.line(x0 - 5, py, x0, py)
        svg.text(tickLabel(tick), x0 - 8, py + 4, size: 11, anchor: "end")
    }
    let xTickList = xTicks ?? x.ticks(xRange).map { ($0, tickLabel($0)) }
    for (tick, label) in xTickList {
        guard let fx = x.fraction(tick, xRange) else { continue }
        let px = x0 + fx * frame.plotWidth
        if xTicks == nil { svg.line(px, frame.top, px, y0, stroke: "#f0f0f0") }
        svg.line(px, y0, px, y0 + 5)
        svg.text(label, px, y0 + 19, size: 11, anchor: "middle")
    }
    svg.line(x0, frame.top, x0, y0, stroke: "#444", width: 1.2)
    svg.line(x0, y0, x0 + frame.plotWidth, y0, stroke: "#444", width: 1.2)
    svg.text(x.title + (x.scale == .log ? " (log scale)" : ""), x0 + frame.plotWidth / 2, frame.height - 14, size: 13, anchor: "middle")
    svg.text(y.title + (y.scale == .log ? " (log scale)" : ""), 18, frame.top + frame.plotHeight / 2, size: 13, anchor: "middle", rotate: -90)
}

/// A legend in the right margin: a swatch and a name per entry.
private func drawLegend(_ svg: inout SVGDocument, frame: Frame, entries: [(name: String, color: String, dash: String?)]) {
    let x = frame.width - frame.right + 16
    svg.text("Legend", x, frame.top + 4, size: 12, weight: "bold")
    for (i, entry) in entries.enumerated() {
        let y = frame.top + 22 + Double(i) * 20
        svg.line(x, y - 4, x + 24, y - 4, stroke: entry.color, width: 3, dash: entry.dash)
        svg.text(entry.name, x + 30, y, size: 12)
    }
}

/// A series of a line chart.
public struct LineSeries: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double)]
    public var dashed: Bool
    /// The palette entry to draw with (default: the series' position).
    public var colorIndex: Int?

    public init(name: String, points: [(x: Double, y: Double)], dashed: Bool = false, colorIndex: Int? = nil) {
        self.name = name
        self.points = points
        self.dashed = dashed
        self.colorIndex = colorIndex
    }
}

/// A line chart with linear or logarithmic axes, a legend and optional horizontal
/// reference lines (thresholds, baselines).
public struct LineChart: Sendable {
    public var title: String
    public var x: Axis
    public var y: Axis
    public var series: [LineSeries]
    /// Horizontal lines with a label, e.g. ("baseline MSE 0.167", 0.167).
    public var references: [(label: String, y: Double)]
    public var width = 760.0, height = 440.0

    public init(title: String, x: Axis, y: Axis, series: [LineSeries], references: [(label: String, y: Double)] = []) {
        self.title = title
        self.x = x
        self.y = y
        self.series = series
        self.references = references
    }

    /// The chart as an SVG document. Points a log axis cannot show (<= 0) are left out.
    public var svg: String {
        let frame = Frame(width: width, height: height)
        var doc = SVGDocument(width: width, height: height)
        let xRange = x.resolvedRange(series.flatMap { $0.points.map(\.x) })
        let yRange = y.resolvedRange(series.flatMap { $0.points.map(\.y) } + references.map(\.y))
        drawAxes(&doc, frame: frame, title: title, x: x, xRange: xRange, y: y, yRange: yRange)
        func position(_ px: Double, _ py: Double) -> (Double, Double)? {
            guard let fx = x.fraction(px, xRange), let fy = y.fraction(py, yRange) else { return nil }
            let cx = min(max(fx, 0), 1), cy = min(max(fy, -0.02), 1.02)
            return (frame.left + cx * frame.plotWidth, frame.top + frame.plotHeight - cy * frame.plotHeight)
        }
        for reference in references {
            guard let (_, py) = position(xRange.lowerBound, reference.y) else { continue }
            doc.line(frame.left, py, frame.left + frame.plotWidth, py, stroke: "#777", width: 1.2, dash: "2,3")
            doc.text(reference.label, frame.left + frame.plotWidth - 4, py - 5, size: 11, anchor: "end", fill: "#555")
        }
        var legend: [(name: String, color: String, dash: String?)] = []
        for (i, s) in series.enumerated() {
            let color = seriesColors[(s.colorIndex ?? i) % seriesColors.count]
            let dash = s.dashed ? "7,4" : nil
            let points = s.points.compactMap { position($0.x, $0.y) }
            if points.count > 1 { doc.polyline(points, stroke: color, dash: dash) }
            if s.points.count <= 30 { for p in points { doc.circle(p.0, p.1, radius: 3, fill: color) } }
            legend.append((s.name, color, dash))
        }
        drawLegend(&doc, frame: frame, entries: legend)
        return doc.rendered
    }
}

/// Bars grouped by category (one bar per series in each group), on a linear or log value axis.
public struct GroupedBarChart: Sendable {
    public var title: String
    public var groups: [String]
    public var groupAxisTitle: String
    public var y: Axis
    /// One value per group for each series; nil where not measured (drawn as "n/m").
    public var series: [(name: String, values: [Double?])]
    public var width = 760.0, height = 440.0

    public init(title: String, groups: [String], groupAxisTitle: String, y: Axis, series: [(name: String, values: [Double?])]) {
        self.title = title
        self.groups = groups
        self.groupAxisTitle = groupAxisTitle
        self.y = y
        self.series = series
    }

    public var svg: String {
        let frame = Frame(width: width, height: height)
        var doc = SVGDocument(width: width, height: height)
        var yAxis = y
        let values = series.flatMap { $0.values.compactMap { $0 } }
        var yRange = yAxis.resolvedRange(values + (y.scale == .linear ? [0] : []))
        if y.scale == .linear && y.range == nil { yRange = min(0, yRange.lowerBound)...yRange.upperBound }
        yAxis.range = yRange
        let xAxis = Axis(groupAxisTitle, scale: .linear, range: 0...Double(max(groups.count, 1)))
        let xTicks = groups.enumerated().map { (Double($0.offset) + 0.5, $0.element) }
        drawAxes(&doc, frame: frame, title: title, x: xAxis, xRange: xAxis.range!, y: yAxis, yRange: yRange, xTicks: xTicks)
        let groupWidth = frame.plotWidth / Double(max(groups.count, 1))
        let barWidth = groupWidth * 0.8 / Double(max(series.count, 1))
        let baseline = frame.top + frame.plotHeight
        for (s, entry) in series.enumerated() {
            let color = seriesColors[s % seriesColors.count]
            for (g, value) in entry.values.enumerated() where g < groups.count {
                let x = frame.left + Double(g) * groupWidth + groupWidth * 0.1 + Double(s) * barWidth
                guard let value, let fy = yAxis.fraction(value, yRange) else {
                    doc.text("n/m", x + barWidth / 2, baseline - 4, size: 9, anchor: "middle", fill: "#888")
                    continue
                }
                let top = baseline - min(max(fy, 0), 1) * frame.plotHeight
                doc.rect(x, top, barWidth - 1, baseline - top, fill: color, title: "\(entry.name), \(groups[g]): \(tickLabel(value))")
            }
        }
        drawLegend(&doc, frame: frame, entries: series.enumerated().map { ($0.element.name, seriesColors[$0.offset % seriesColors.count], nil) })
        return doc.rendered
    }
}

/// A heatmap of a matrix (rows top to bottom), white to dark blue, with a colour bar.
public struct Heatmap: Sendable {
    public var title: String
    public var xTitle: String
    public var yTitle: String
    public var xLabels: [String]
    public var yLabels: [String]
    /// values[row][column].
    public var values: [[Double]]
    public var valueTitle: String
    public var width = 640.0, height = 560.0

    public init(title: String, xTitle: String, yTitle: String, xLabels: [String], yLabels: [String], values: [[Double]], valueTitle: String) {
        self.title = title
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.xLabels = xLabels
        self.yLabels = yLabels
        self.values = values
        self.valueTitle = valueTitle
    }

    /// The colour of a value at fraction `t` in [0, 1] of the range: white to #08306b.
    static func color(_ t: Double) -> String {
        let t = min(max(t.isFinite ? t : 0, 0), 1)
        let (r, g, b) = (255 - t * (255 - 8), 255 - t * (255 - 48), 255 - t * (255 - 107))
        return String(format: "#%02x%02x%02x", Int(r.rounded()), Int(g.rounded()), Int(b.rounded()))
    }

    public var svg: String {
        let (left, right, top, bottom) = (88.0, 110.0, 50.0, 70.0)
        var doc = SVGDocument(width: width, height: height)
        doc.text(title, (width - right + left) / 2, 26, size: 15, anchor: "middle", weight: "bold")
        let rows = values.count, columns = values.map(\.count).max() ?? 0
        let all = values.flatMap { $0 }.filter(\.isFinite)
        let low = min(all.min() ?? 0, 0), high = max(all.max() ?? 1, low + 1e-12)
        let cellWidth = (width - left - right) / Double(max(columns, 1))
        let cellHeight = (height - top - bottom) / Double(max(rows, 1))
        for (r, row) in values.enumerated() {
            for (c, value) in row.enumerated() {
                doc.rect(left + Double(c) * cellWidth, top + Double(r) * cellHeight, cellWidth, cellHeight,
                         fill: Heatmap.color((value - low) / (high - low)),
                         title: "\(yLabels[safe: r] ?? "\(r)"), \(xLabels[safe: c] ?? "\(c)"): \(tickLabel(value))")
            }
        }
        doc.rect(left, top, cellWidth * Double(columns), cellHeight * Double(rows), fill: "none", stroke: "#444")
        let labelEvery = max(1, columns / 20), rowLabelEvery = max(1, rows / 20)
        for (c, label) in xLabels.enumerated() where c % labelEvery == 0 {
            doc.text(label, left + (Double(c) + 0.5) * cellWidth, top + Double(rows) * cellHeight + 16, size: 10, anchor: "middle")
        }
        for (r, label) in yLabels.enumerated() where r % rowLabelEvery == 0 {
            doc.text(label, left - 6, top + (Double(r) + 0.5) * cellHeight + 4, size: 10, anchor: "end")
        }
        doc.text(xTitle, left + Double(columns) * cellWidth / 2, height - 18, size: 13, anchor: "middle")
        doc.text(yTitle, 20, top + Double(rows) * cellHeight / 2, size: 13, anchor: "middle", rotate: -90)
        // The colour bar.
        let barX = width - right + 24, barHeight = height - top - bottom
        let steps = 40
        for i in 0..<steps {
            let t = Double(i) / Double(steps - 1)
            doc.rect(barX, top + barHeight * (1 - Double(i + 1) / Double(steps)), 16, barHeight / Double(steps) + 0.5, fill: Heatmap.color(t))
        }
        doc.rect(barX, top, 16, barHeight, fill: "none", stroke: "#444")
        for t in [0.0, 0.5, 1.0] {
            doc.text(tickLabel(((low + t * (high - low)) * 100).rounded() / 100), barX + 22, top + barHeight * (1 - t) + 4, size: 10)
        }
        doc.text(valueTitle, barX + 8, top - 10, size: 11, anchor: "middle")
        return doc.rendered
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
