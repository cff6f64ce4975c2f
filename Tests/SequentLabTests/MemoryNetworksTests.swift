import Foundation
@testable import SequentLab
import XCTest

/// Tests of `Experiments/MemoryNetworks.swift`: the verdicts follow the measurements.
final class MemoryNetworksTests: XCTestCase {
    private func result(ntmAt40: Double, lstmAt40: Double, taskOne: Double) -> MemoryExperiment.Result {
        let budget = MemoryExperiment.Budget.full
        func copy(_ name: String, _ at40: Double, _ step: Double) -> MemoryExperiment.CopyRun {
            MemoryExperiment.CopyRun(name: name, parameterCount: 60_000, seconds: 100, stepSeconds: step,
                                     bitErrors: [(10, 0), (20, 0.5), (40, at40), (60, at40 * 2), (80, at40 * 3), (120, at40 * 4)])
        }
        return MemoryExperiment.Result(
            budget: budget, ntm: copy("NTM", ntmAt40, 0.03), lstm: copy("LSTM", lstmAt40, 0.01), writePicture: nil, readPicture: nil,
            memoryNetwork: MemoryExperiment.BAbIRun(name: "MemN2N", parameterCount: 5000, seconds: 60,
                                                    tasks: [("task 1", taskOne, 0.95), ("task 2", 0.8, 0.7)]),
            storyLSTM: MemoryExperiment.BAbIRun(name: "LSTM", parameterCount: 5000, seconds: 60, tasks: [("task 1", 0.6, nil), ("task 2", 0.4, nil)]),
            attentionPicture: nil)
    }

    private func verdicts(_ result: MemoryExperiment.Result) -> [Verdict] {
        MemoryExperiment.section(result, settings: .full).allClaims.map(\.verdict)
    }

    func testVerdictsWhenMemoryGeneralises() {
        XCTAssertEqual(verdicts(result(ntmAt40: 1, lstmAt40: 100, taskOne: 0.995)), [.held, .held, .held, .held, .held, .held, .held])
    }

    func testVerdictsWhenTheMachineFailsToo() {
        // The NTM wrong on 10% of 320 bits: it does not generalise, so the LSTM comparison
        // decides nothing; task 1 below 99%.
        XCTAssertEqual(verdicts(result(ntmAt40: 32, lstmAt40: 100, taskOne: 0.9)), [.held, .notHeld, .inconclusive, .held, .notHeld, .held, .held])
    }
}
