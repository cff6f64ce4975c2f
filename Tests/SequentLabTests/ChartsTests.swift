import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import SequentLab
import XCTest

/// The SVG writer: well-formed XML, titles, axes, legends and log-scale ticks.
final class ChartsTests: XCTestCase {
    /// Parses `svg` as XML and returns every text element's content.
    private func parsedTexts(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        final class Collector: NSObject, XMLParserDelegate {
            var texts: [String] = [], current: String?, root: String?
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
                if root == nil { root = name }
                if name == "text" { current = "" }
            }
            func parser(_ parser: XMLParser, foundCharacters string: String) { current? += string }
            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                if name == "text", let current { texts.append(current) }
                current = nil
            }
        }
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = Collector()
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")", file: file, line: line)
        XCTAssertEqual(collector.root, "svg", file: file, line: line)
        return collector.texts
    }

    func testLineChartWithLogAxisIsWellFormedAndLabelled() {
        let chart = LineChart(
            title: "Gradient <norm> & distance", x: Axis("distance (steps)"), y: Axis("norm", scale: .log),
            series: [LineSeries(name: "RNN", points: [(0, 1), (10, 1e-3), (20, 1e-6)]),
                     LineSeries(name: "LSTM", points: [(0, 1), (10, 0.1), (20, 0.01)], dashed: true)],
            references: [("baseline", 0.5)])
        let texts = parsedTexts(chart.svg)
        XCTAssertTrue(texts.contains("Gradient <norm> & distance"), "the title, escaped and read back")
        XCTAssertTrue(texts.contains("distance (steps)"))
        XCTAssertTrue(texts.contains("norm (log scale)"))
        XCTAssertTrue(texts.contains("Legend"))
        XCTAssertTrue(texts.contains("RNN") && texts.contains("LSTM"))
        XCTAssertTrue(texts.contains("baseline"))
        for tick in ["1e-6", "1e-5", "0.001", "1"] { XCTAssertTrue(texts.contains(tick), "log tick \(tick) in \(texts)") }
        XCTAssertTrue(chart.svg.contains("stroke-dasharray"), "the dashed series")
    }

    func testLogTicksArePowersOfTenAndAddTwoAndFiveOnShortRanges() {
        let wide = Axis("y", scale: .log)
        XCTAssertEqual(wide.resolvedRange([3e-4, 20]), 1e-4...100)
        XCTAssertEqual(wide.ticks(1e-4...100), [1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100])
        XCTAssertEqual(wide.ticks(1...10), [1, 2, 5, 10])
        let huge = wide.ticks(1e-30...1)
        XCTAssertLessThanOrEqual(huge.count, 11, "a range of 30 decades labels every few")
        XCTAssertTrue(huge.allSatisfy { abs(log10($0) - log10($0).rounded()) < 1e-9 })
        XCTAssertNil(wide.fraction(0, 1...10), "a log axis cannot show 0")
        XCTAssertEqual(wide.fraction(10, 1...100)!, 0.5, accuracy: 1e-12)
    }

    func testLinearTicksAreRound() {
        let axis = Axis("x")
        XCTAssertEqual(axis.ticks(0...100), [0, 20, 40, 60, 80, 100])
        XCTAssertEqual(tickLabel(0.25), "0.25")
        XCTAssertEqual(tickLabel(1e-5), "1e-5")
        XCTAssertEqual(tickLabel(2e6), "2e6")
    }

    func testHeatmapAndBarChartAreWellFormed() {
        let heatmap = Heatmap(title: "attention", xTitle: "source", yTitle: "output", xLabels: ["a", "b"], yLabels: ["0", "1"],
                              values: [[0.9, 0.1], [0.2, 0.8]], valueTitle: "weight")
        let heatTexts = parsedTexts(heatmap.svg)
        XCTAssertTrue(heatTexts.contains("source") && heatTexts.contains("output") && heatTexts.contains("weight"))
        let bars = GroupedBarChart(title: "throughput", groups: ["T=10", "T=20"], groupAxisTitle: "length",
                                   y: Axis("k tokens/s"), series: [("RNN", [1, 2]), ("Transformer", [nil, nil])])
        let barTexts = parsedTexts(bars.svg)
        XCTAssertTrue(barTexts.contains("T=10") && barTexts.contains("RNN") && barTexts.contains("n/m"))
    }
}
