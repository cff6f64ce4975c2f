import Foundation
@testable import SequentLab
import SequentTensor
import XCTest

/// The experiments' plumbing on tiny budgets, the report files, and errors on bad input.
final class LabTests: XCTestCase {
    private var tiny: LabSettings {
        var s = LabSettings.quick
        s.seeds = [1]
        s.gradientLength = 12
        s.gradientHidden = 4
        s.gradientTrainingSteps = 2
        s.addingLengths = [5]
        s.copyLags = [4]
        s.longLagSteps = 3
        s.longLagBatch = 4
        s.parameterBudget = 300
        s.evaluationEvery = 2
        s.speedLengths = [4, 8]
        s.speedHidden = 4
        s.speedRepeats = 1
        s.reversalLengths = 3...4
        s.reversalSteps = 2
        s.textSteps = 2
        s.seriesSteps = 2
        return s
    }

    private func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("sequent-lab-\(UUID().uuidString)")
    }

    func testEveryExperimentRunsAndTheReportIsWritten() throws {
        let report = try Lab(settings: tiny).run([.table, .attention, .data])
        XCTAssertEqual(report.sections.map(\.title).count, 5, "1 and 2 run for the table, then 3, 4 and 5")
        let claims = report.sections.flatMap(\.allClaims)
        XCTAssertTrue(claims.contains { $0.verdict == .notMeasured && $0.statement.contains("Transformer") },
                      "the Transformer column says it was not measured")
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try report.write(to: folder)
        for name in ["report.md", "report.html", "results.json", "gradients_initial.svg", "attention_heatmap.svg", "step_time.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), name)
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("results.json")))
        XCTAssertEqual(((json as? [String: Any])?["experiments"] as? [Any])?.count, 5)
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("<svg"), "plots inline")
        XCTAssertTrue(html.contains("--quick"), "the quick mode is stated")
    }

    func testGradientProbeGivesOneNormPerDistance() throws {
        let result = try VanishingGradientsExperiment(settings: tiny, progress: .silent).run()
        XCTAssertEqual(result.curves.count, 6, "three models, at initialisation and after training")
        for curve in result.curves {
            XCTAssertEqual(curve.normByDistance.count, 12)
            XCTAssertGreaterThan(curve.normByDistance[0], 0)
        }
    }

    func testVerdictsComeFromTheMeasurements() {
        func curve(_ a: Architecture, _ far: Double) -> VanishingGradientsExperiment.Curve {
            .init(architecture: a, trained: true, normByDistance: [1, 1] + Array(repeating: far, count: 60))
        }
        var result = VanishingGradientsExperiment.Result(curves: [curve(.rnn, 1e-6), curve(.lstm, 1e-2), curve(.gru, 1e-7)],
                                                         trainedMSE: [:], distances: [10, 50])
        let claims = VanishingGradientsExperiment.claims(result)
        XCTAssertEqual(claims.first { $0.statement.hasPrefix("LSTM") }?.verdict, .held)
        XCTAssertEqual(claims.first { $0.statement.hasPrefix("GRU") }?.verdict, .notHeld, "a claim that fails is reported as failed")
        result.distances = []
        XCTAssertTrue(VanishingGradientsExperiment.claims(result).isEmpty)
    }

    func testEqualParameterBudgetsGiveDifferentHiddenSizes() {
        let rnn = Architecture.hiddenSize(.rnn(.tanh), inputSize: 2, outputSize: 1, budget: 4600)
        let lstm = Architecture.hiddenSize(.lstm, inputSize: 2, outputSize: 1, budget: 4600)
        XCTAssertGreaterThan(rnn, lstm)
        let count = Architecture.recurrentParameterCount(.lstm, inputSize: 2, hiddenSize: lstm) + lstm + 1
        XCTAssertLessThan(abs(count - 4600), 300)
    }

    func testSyntheticTasksHaveTheStatedStructure() {
        var generator = RandomGenerator(seed: 3)
        let adding = AddingProblem(length: 20).batch(8, &generator)
        XCTAssertEqual(adding.input.shape, [8, 20, 2])
        for b in 0..<8 {
            let markers = (0..<20).filter { adding.input.scalars[(b * 20 + $0) * 2 + 1] == 1 }
            XCTAssertEqual(markers.count, 2)
            let sum = markers.map { adding.input.scalars[(b * 20 + $0) * 2] }.reduce(0, +)
            XCTAssertEqual(adding.target.scalars[b], sum, accuracy: 1e-6)
        }
        let task = CopyMemoryTask(lag: 6, symbolCount: 3, alphabetSize: 4)
        let copy = task.batch(2, &generator)
        XCTAssertEqual(copy.input.shape, [2, 12, 6])
        let L = task.totalLength
        for b in 0..<2 {
            let shown = (0..<3).map { k in (0..<6).first { copy.input.scalars[(b * L + k) * 6 + $0] == 1 }! }
            XCTAssertEqual(Array(copy.targets[(b * L + L - 3)..<(b * L + L)]), shown)
        }
    }

    func testBadInputGivesClearErrors() throws {
        XCTAssertThrowsError(try LabExperiment.named("transformers")) { error in
            XCTAssertTrue("\(error)".contains("unknown experiment 'transformers'"), "\(error)")
        }
        let missing = Lab(settings: tiny, inputs: LabInputs(textFile: URL(fileURLWithPath: "/nonexistent/file.txt")))
        XCTAssertThrowsError(try missing.validateInputs()) { XCTAssertTrue("\($0)".contains("no such file"), "\($0)") }
        let folder = temporaryFolder()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let csv = folder.appendingPathComponent("series.csv")
        try Data(("month,passengers\n" + (1...50).map { "m\($0),\($0)" }.joined(separator: "\n")).utf8).write(to: csv)
        let unknown = Lab(settings: tiny, inputs: LabInputs(csvFile: csv, csvColumn: "sales"))
        XCTAssertThrowsError(try unknown.validateInputs()) {
            XCTAssertTrue("\($0)".contains("no column 'sales'") && "\($0)".contains("month, passengers"), "\($0)")
        }
        let noColumn = Lab(settings: tiny, inputs: LabInputs(csvFile: csv))
        XCTAssertThrowsError(try noColumn.validateInputs()) { XCTAssertTrue("\($0)".contains("--column"), "\($0)") }
        XCTAssertNoThrow(try Lab(settings: tiny, inputs: LabInputs(csvFile: csv, csvColumn: "passengers")).validateInputs())
    }
}
