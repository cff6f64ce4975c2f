import Foundation
@testable import SequentLab
import XCTest

/// Tests of `Experiments/Attention.swift`: the reversal's verdicts follow every seed's
/// accuracies by the lab's seed rule.
final class AttentionTests: XCTestCase {
    /// Lengths 3...8; each seed's accuracy falls linearly from `short` to `long` over them
    /// (one pair per seed), and the attention's hit rate is `hit` (one per seed).
    private func result(none: [(short: Double, long: Double)], attention: [(short: Double, long: Double)], hit: [Double]) -> AttentionExperiment.Result {
        let lengths = Array(3...8)
        func accuracy(_ pair: (short: Double, long: Double)) -> [Int: Double] {
            Dictionary(uniqueKeysWithValues: lengths.map { n in (n, pair.short + (pair.long - pair.short) * Double(n - 3) / 5) })
        }
        let noneRuns = none.enumerated().map { index, pair in
            AttentionExperiment.Variant(name: "no attention", seed: UInt64(index + 1), accuracyByLength: accuracy(pair), hitRateByLength: [:],
                                        exampleAlignment: nil, exampleSource: [], finalLoss: 1)
        }
        let attentionRuns = zip(attention, hit).enumerated().map { index, entry in
            AttentionExperiment.Variant(name: "additive attention", seed: UInt64(index + 1), accuracyByLength: accuracy(entry.0),
                                        hitRateByLength: Dictionary(uniqueKeysWithValues: lengths.map { ($0, entry.1) }),
                                        exampleAlignment: index == 0 ? [[1, 0], [0, 1]] : nil, exampleSource: index == 0 ? [4, 2] : [], finalLoss: 0.1)
        }
        return AttentionExperiment.Result(variants: noneRuns + attentionRuns, lengths: lengths)
    }

    private func verdicts(_ result: AttentionExperiment.Result) -> [Verdict] {
        AttentionExperiment.section(result, settings: .full).allClaims.map(\.verdict)
    }

    func testVerdictsBeyondTheSeedSpreadHold() {
        let verdicts = verdicts(result(none: [(0.9, 0.3), (0.85, 0.35), (0.88, 0.25)], attention: [(1, 0.99), (1, 0.97), (1, 1)], hit: [0.9, 0.95, 0.92]))
        XCTAssertEqual(verdicts, [.held, .held, .held])
    }

    /// A fall within the tie margin of 0.05 and a hit rate whose seeds straddle 80% decide
    /// nothing; an attention model worse than none on long sources did not hold.
    func testTiesAndStraddlingSeedsAreInconclusive() {
        let verdicts = verdicts(result(none: [(0.62, 0.6), (0.6, 0.6), (0.61, 0.6)], attention: [(0.5, 0.3), (0.5, 0.32), (0.5, 0.31)], hit: [0.7, 0.9, 0.85]))
        XCTAssertEqual(verdicts, [.inconclusive, .notHeld, .inconclusive])
    }

    func testTheReportShowsMeanAndSpreadPerLength() {
        let markdown = LabReport(title: "", preamble: [], sections: [AttentionExperiment.section(
            result(none: [(0.9, 0.3), (0.8, 0.3)], attention: [(1, 1), (1, 1)], hit: [0.9, 0.9]), settings: .quick)]).markdown
        XCTAssertTrue(markdown.contains("| 3 | 0.85 ± 0.071 | 1 ± 0 | 0.9 ± 0 |"), markdown)
    }
}
