import Foundation
@testable import SequentLab
import SequentNN
import SequentTensor
import XCTest

/// Experiment 5 on small files: `sequent lm`'s language models on a text, forecasters on a
/// series, verdicts by the seed rule.
final class RealDataTests: XCTestCase {
    private var settings: LabSettings {
        var s = LabSettings.quick
        s.seeds = [1, 2]
        s.sweepRates = [1e-2]
        s.textParameterBudget = 3_000
        s.textSteps = 2
        s.textSweepSteps = 1
        s.textSeconds = 0
        s.seriesSteps = 2
        return s
    }

    /// One thread: the tiny models gain nothing from two, and OpenMP threads that spin while
    /// they wait make these tests many times slower on a machine whose cores are shared.
    override func invokeTest() {
        Parallelism.withThreads(1) { super.invokeTest() }
    }

    private func file(_ name: String, _ text: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sequent-lab-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    func testTheTextExperimentTrainsTheLanguageModelsOfSequentLM() throws {
        let words = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "and", "runs"]
        var generator = RandomGenerator(seed: 5)
        let text = (0..<900).map { _ in words[Int(generator.next() % 10)] }.joined(separator: " ")
        let url = try file("words.txt", text)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        var section = ReportSection(title: "5")
        let json = try RealDataExperiment(settings: settings, inputs: LabInputs(textFile: url), progress: .silent).text(url, into: &section)
        let claims = section.allClaims
        XCTAssertEqual(claims.count, 5)
        XCTAssertTrue(claims[0].measured.contains("the RNN's"), claims[0].measured)
        XCTAssertTrue(json.serialized().contains("\"sweep\""))
        // Equal parameters: every model within 10% of the budget.
        for architecture in Architecture.allCases {
            var g = RandomGenerator(seed: 1)
            let model = try RealDataExperiment.languageModel(architecture, vocabularySize: 20, budget: 100_000, generator: &g)
            XCTAssertEqual(Double(model.parameterCount), 100_000, accuracy: 8_000, "\(architecture)")  // D steps by 16
            XCTAssertEqual(model.isRecurrent, architecture != .transformer)
        }
    }

    func testAShortTextIsAClearError() throws {
        let url = try file("short.txt", "to be or not to be")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        var section = ReportSection(title: "5")
        XCTAssertThrowsError(try RealDataExperiment(settings: settings, inputs: LabInputs(textFile: url), progress: .silent).text(url, into: &section)) {
            XCTAssertTrue("\($0)".contains("too few"), "\($0)")
        }
    }

    func testAConstantSeriesIsInconclusive() throws {
        let url = try file("flat.csv", "t,value\n" + (1...60).map { "\($0),5" }.joined(separator: "\n"))
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        var section = ReportSection(title: "5")
        _ = try RealDataExperiment(settings: settings, inputs: LabInputs(csvFile: url, csvColumn: "value", season: 4), progress: .silent)
            .series(url, column: "value", into: &section)
        XCTAssertEqual(section.allClaims.count, 3)
        XCTAssertTrue(section.allClaims.allSatisfy { $0.verdict == .inconclusive }, "\(section.allClaims.map(\.verdict))")
    }

    /// Every forecaster's learning rate comes from its own sweep over the same rates, scored
    /// on the last fifth of the training windows; the sweep table is in the section.
    func testTheForecastersSweepTheirLearningRates() throws {
        var generator = RandomGenerator(seed: 3)
        let rows = (1...80).map { t in "\(t),\(10 + Double(t % 4) * 3 + Double(generator.nextUniform()))" }
        let url = try file("seasonal.csv", "t,value\n" + rows.joined(separator: "\n"))
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        var twoRates = settings
        twoRates.sweepRates = [3e-3, 1e-2]
        var section = ReportSection(title: "5")
        let json = try RealDataExperiment(settings: twoRates, inputs: LabInputs(csvFile: url, csvColumn: "value", season: 4), progress: .silent)
            .series(url, column: "value", into: &section)
        guard case .object(let fields) = json, case .array(let sweeps)? = fields.first(where: { $0.0 == "sweep" })?.1 else {
            return XCTFail("no sweep in \(json.serialized())")
        }
        XCTAssertEqual(sweeps.count, Architecture.allCases.count)
        let markdown = LabReport(title: "", preamble: [], sections: [section]).markdown
        XCTAssertTrue(markdown.contains("| lr 0.003 | lr 0.01 | chosen |"), markdown)
    }
}
