#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SequentNN
import SequentTensor
@testable import SequentTrain
import XCTest

/// A real training process killed with SIGKILL, during steps and at chosen points inside
/// checkpoint saves, then resumed again and again, and finally in this process: every loss
/// any of them computed, and the final weights, are bitwise those of one uninterrupted run.
///
/// The child is this test binary running `testChildTrainsUntilKilled` (as the checkpoint
/// tests do). It resumes from the latest checkpoint if there is one, trains with a
/// checkpoint every 3 steps, and appends `step lossbits` to `losses.txt` after every step.
/// With SEQUENT_TRAINER_CHILD_PAUSE_AT set, it stops inside its first save at the first
/// step of that name (`Checkpoint.save`'s interrupt points), leaves a marker file, and waits
/// there to be killed.
final class TrainerKillTests: XCTestCase {
    static let totalSteps = 24
    static let rootVariable = "SEQUENT_TRAINER_CHILD_ROOT"
    static let pauseVariable = "SEQUENT_TRAINER_CHILD_PAUSE_AT"

    /// The child's configuration (the parent's final resume uses it too).
    static func configuration(root: URL) -> TrainerConfiguration {
        var configuration = TinyCharacterTask.configuration(totalSteps: totalSteps)
        configuration.checkpointDirectory = root.appendingPathComponent("checkpoints")
        configuration.checkpointInterval = 3
        configuration.keepLastCheckpoints = 2
        configuration.logDirectory = root.appendingPathComponent("logs")
        configuration.evaluationInterval = 6
        return configuration
    }

    /// How each child ends.
    enum Kill: CustomStringConvertible {
        /// SIGKILL at a random moment of training, after a checkpoint past the resumed one.
        case duringTraining
        /// SIGKILL while the save waits before the named step.
        case duringSave(String)
        /// SIGTERM at a random moment: the child must stop cleanly with a checkpoint.
        case terminate

        var description: String {
            switch self {
            case .duringTraining: return "SIGKILL during training"
            case .duringSave(let point): return "SIGKILL in a save before '\(point)'"
            case .terminate: return "SIGTERM"
            }
        }
    }

    func testKilledAndResumedTrainingMatchesAnUninterruptedRunBitwise() throws {
        #if os(Linux)
        let executable = URL(fileURLWithPath: CommandLine.arguments[0])
        guard executable.lastPathComponent.hasSuffix(".xctest") else { throw XCTSkip("not running from an .xctest binary: \(executable.path)") }
        let root = try makeTemporaryDirectory()
        let checkpoints = root.appendingPathComponent("checkpoints")
        let lossesFile = root.appendingPathComponent("losses.txt")

        let straight = try TinyCharacterTask.makeTrainer(TinyCharacterTask.configuration(totalSteps: Self.totalSteps))
        let reference = try straight.fit().losses

        let plan: [Kill] = [
            .duringTraining, .duringSave("write model.safetensors"), .duringTraining,
            .duringSave("rename checkpoint directory"), .duringSave("rename latest"), .terminate,
            .duringSave("remove checkpoint-"), .duringTraining,
        ]
        var generator = RandomGenerator(seed: 21)
        for (round, ending) in plan.enumerated() {
            let resumedStep = try Checkpoint.latest(in: checkpoints).map { _ in try Checkpoint.load(from: checkpoints).trainingState.step } ?? 0
            guard resumedStep < Self.totalSteps else { break }
            let child = Process()
            child.executableURL = executable
            child.arguments = ["SequentTrainTests.TrainerKillTests/testChildTrainsUntilKilled"]
            var environment = ProcessInfo.processInfo.environment
            environment[Self.rootVariable] = root.path
            if case .duringSave(let point) = ending { environment[Self.pauseVariable] = point }
            child.environment = environment
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            let marker = root.appendingPathComponent("paused-\(child.processIdentifier)")
            let deadline = Date().addingTimeInterval(20)
            func wait(until condition: () throws -> Bool) rethrows {
                while try !condition(), child.isRunning, Date() < deadline { usleep(1_000) }
            }
            switch ending {
            case .duringTraining, .terminate:
                // Past the next checkpoint, then a random moment within about two steps.
                try wait { (try Self.loggedSteps(lossesFile).last?.step ?? 0) >= resumedStep + 4 }
                usleep(UInt32.random(in: 0...40_000, using: &generator))
            case .duringSave:
                wait { FileManager.default.fileExists(atPath: marker.path) }
                XCTAssertTrue(FileManager.default.fileExists(atPath: marker.path), "round \(round): the child never reached \(ending)")
            }
            XCTAssertTrue(child.isRunning, "round \(round) (\(ending)): the child ended by itself")
            let signal: Int32
            if case .terminate = ending { signal = SIGTERM } else { signal = SIGKILL }
            kill(child.processIdentifier, signal)
            child.waitUntilExit()

            let latest = try Checkpoint.load(from: checkpoints).trainingState.step
            let lastLogged = try Self.loggedSteps(lossesFile).last?.step ?? 0
            if case .terminate = ending {
                XCTAssertEqual(child.terminationReason, .exit, "round \(round): SIGTERM must end the child cleanly")
                XCTAssertEqual(child.terminationStatus, 0)
                XCTAssertEqual(latest, lastLogged, "round \(round): a clean stop checkpoints the last step")
            } else {
                XCTAssertEqual(child.terminationReason, .uncaughtSignal)
                XCTAssertLessThanOrEqual(latest, lastLogged)
            }
            print("round \(round): \(ending) after step \(lastLogged); resumed from \(resumedStep), latest checkpoint now \(latest)")
        }

        // Finish in this process, from fresh objects built from another seed.
        let resumed = try TinyCharacterTask.makeTrainer(Self.configuration(root: root), seed: 77)
        try resumed.resume(from: checkpoints)
        let startStep = resumed.step
        let finish = try resumed.fit()
        XCTAssertEqual(finish.reason, .completed)

        // Every loss computed by any process equals the uninterrupted run's, bitwise.
        var computed = try Self.loggedSteps(lossesFile)
        computed += finish.losses.enumerated().map { (step: startStep + $0.offset + 1, bits: $0.element.bitPattern) }
        XCTAssertEqual(Set(computed.map(\.step)), Set(1...Self.totalSteps))
        for (step, bits) in computed {
            XCTAssertEqual(bits, reference[step - 1].bitPattern, "step \(step)")
        }
        XCTAssertTrue(bitPatterns(resumed.model.stateDictionary()) == bitPatterns(straight.model.stateDictionary()), "final weights differ")
        print("kill test: \(computed.count) losses computed for \(Self.totalSteps) steps (\(computed.count - Self.totalSteps) redone after kills), all bitwise equal to the uninterrupted run")

        // The metrics log, resumed after each kill, holds each step once with its loss.
        let records = try MetricsLog.read(root.appendingPathComponent("logs/metrics.jsonl")).filter { $0.scalars["loss"] != nil }
        XCTAssertEqual(records.map(\.step), Array(1...Self.totalSteps))
        XCTAssertEqual(records.map { Float($0.scalars["loss"]!).bitPattern }, bitPatterns(reference))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: checkpoints.path).filter { $0.hasPrefix(".tmp-") }, [])
        #else
        throw XCTSkip("Linux only")
        #endif
    }

    /// The child of `testKilledAndResumedTrainingMatchesAnUninterruptedRunBitwise`: does
    /// nothing unless SEQUENT_TRAINER_CHILD_ROOT is set.
    func testChildTrainsUntilKilled() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let path = environment[Self.rootVariable] else { return }
        let root = URL(fileURLWithPath: path)
        let configuration = Self.configuration(root: root)
        // The first child starts from the reference seed; later ones from another, which the
        // checkpoint must entirely replace.
        let resuming = try Checkpoint.latest(in: configuration.checkpointDirectory!) != nil
        let trainer = try TinyCharacterTask.makeTrainer(configuration, seed: resuming ? UInt64(getpid()) : 1)
        if resuming { try trainer.resume(from: configuration.checkpointDirectory!) }
        let losses = open(root.appendingPathComponent("losses.txt").path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        defer { close(losses) }
        trainer.callbacks.append(ClosureCallback(onStepEnd: { report, _ in
            let line = Array("\(report.step) \(report.loss.bitPattern)\n".utf8)
            _ = line.withUnsafeBytes { write(losses, $0.baseAddress, $0.count) }  // one write: never torn by SIGKILL
            usleep(8_000)  // leave the parent time to kill mid-training
        }))
        if let pauseAt = environment[Self.pauseVariable] {
            var paused = false
            let marker = root.appendingPathComponent("paused-\(getpid())")
            trainer.checkpointInterrupt = { point in
                guard !paused, point.hasPrefix(pauseAt) else { return }
                paused = true
                FileManager.default.createFile(atPath: marker.path, contents: Data(point.utf8))
                sleep(30)  // killed here
            }
        }
        _ = try trainer.fit()
    }

    /// The `(step, loss bits)` lines of the children's loss file, complete lines only.
    static func loggedSteps(_ url: URL) throws -> [(step: Int, bits: UInt32)] {
        guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
        let text = String(decoding: data, as: UTF8.self)
        let complete = text.hasSuffix("\n") ? text : String(text[..<(text.lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex)])
        return complete.split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            return (Int(parts[0])!, UInt32(parts[1])!)
        }
    }
}
