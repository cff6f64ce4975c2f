import Foundation
import SequentTensor
import SequentTrain
import TestSupport
import XCTest

/// Compares each schedule with the learning rates PyTorch's schedulers produce
/// (Tests/Fixtures/lr_schedules.json; arguments as in make_optimizer_fixtures.py).
final class LearningRateScheduleTests: XCTestCase {
    private func assertMatchesPyTorch(
        _ schedule: any LearningRateSchedule, _ name: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let expected = try XCTUnwrap(try Fixtures.load("lr_schedules")[name], name)
        let actual = Tensor((0..<expected.count).map { schedule.learningRate(atStep: $0) })
        assertClose(actual, expected, relative: 1e-5, absolute: 1e-9, name, file: file, line: line)
    }

    func testStepDecayMatchesStepLR() throws {
        try assertMatchesPyTorch(try StepDecay(initialLearningRate: 0.1, stepSize: 3, gamma: 0.5), "step_lr")
    }

    func testExponentialDecayMatchesExponentialLR() throws {
        try assertMatchesPyTorch(try ExponentialDecay(initialLearningRate: 0.1, gamma: 0.9), "exponential_lr")
    }

    func testCosineAnnealingMatchesCosineAnnealingLRIncludingPastTotalSteps() throws {
        try assertMatchesPyTorch(
            try CosineAnnealing(initialLearningRate: 0.1, totalSteps: 10, minimumLearningRate: 0.001), "cosine_lr")
    }

    func testLinearWarmupThenCosineMatchesSequentialLR() throws {
        let cosine = try CosineAnnealing(initialLearningRate: 0.05, totalSteps: 10, minimumLearningRate: 1e-4)
        try assertMatchesPyTorch(try LinearWarmup(warmupSteps: 4, startFactor: 0.25, then: cosine), "warmup_cosine_lr")
    }

    func testFormulasAtKeyPoints() throws {
        let cosine = try CosineAnnealing(initialLearningRate: 1, totalSteps: 100, minimumLearningRate: 0.1)
        XCTAssertEqual(cosine.learningRate(atStep: 0), 1)
        XCTAssertEqual(cosine.learningRate(atStep: 50), 0.55, accuracy: 1e-7)
        XCTAssertEqual(cosine.learningRate(atStep: 100), 0.1, accuracy: 1e-7)
        let constant = try ConstantSchedule(learningRate: 0.3)
        XCTAssertEqual((0..<5).map { constant.learningRate(atStep: $0) }, [0.3, 0.3, 0.3, 0.3, 0.3])
        let warmup = try LinearWarmup(warmupSteps: 3, then: constant)
        XCTAssertEqual(warmup.learningRate(atStep: 0), 0.1, accuracy: 1e-8)  // PyTorch's start factor 1/3
        XCTAssertEqual(warmup.learningRate(atStep: 3), 0.3)
        let step = try StepDecay(initialLearningRate: 1, stepSize: 10)
        XCTAssertEqual(step.learningRate(atStep: 9), 1)
        XCTAssertEqual(step.learningRate(atStep: 10), 0.1, accuracy: 1e-8)
    }

    func testRejectsInvalidArguments() {
        XCTAssertThrowsError(try ConstantSchedule(learningRate: -1))
        XCTAssertThrowsError(try StepDecay(initialLearningRate: 0.1, stepSize: 0)) { error in
            XCTAssertEqual((error as? SequentError)?.message, "StepDecay: stepSize must be >= 1, got 0")
        }
        XCTAssertThrowsError(try ExponentialDecay(initialLearningRate: 0.1, gamma: .nan))
        XCTAssertThrowsError(try CosineAnnealing(initialLearningRate: 0.1, totalSteps: 0))
        XCTAssertThrowsError(try CosineAnnealing(initialLearningRate: 0.1, totalSteps: 10, minimumLearningRate: -1))
        XCTAssertThrowsError(try LinearWarmup(warmupSteps: 0, then: ConstantSchedule(learningRate: 1)))
        XCTAssertThrowsError(try LinearWarmup(warmupSteps: 5, startFactor: 0, then: ConstantSchedule(learningRate: 1)))
    }
}
