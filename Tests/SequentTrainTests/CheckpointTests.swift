#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SequentNN
import SequentTensor
@testable import SequentTrain
import TestSupport
import XCTest

/// Checkpoint directories: round trip, bitwise resume, retention, readable errors, and the
/// crash-safety invariant: whatever step of a save fails or is cut off (by an injected error,
/// a snapshot of the directory at that instant, or SIGKILL of a child process), loading the
/// root gives a complete checkpoint, the previous one or the new one.
final class CheckpointTests: XCTestCase {
    /// The config that rebuilds the test model.
    struct Config: Codable, Equatable {
        var inputSize = 3, hiddenSize = 4, layerCount = 2
    }

    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("sequent-checkpoint-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    static func model(_ config: Config = Config(), seed: UInt64) throws -> LSTM {
        var generator = RandomGenerator(seed: seed)
        return try LSTM(inputSize: config.inputSize, hiddenSize: config.hiddenSize, layerCount: config.layerCount, generator: &generator)
    }

    /// One Adam step on L = sum(output^2) for a fixed input (T=4, B=2, In=3).
    static func trainStep(_ model: LSTM, _ optimizer: Adam) throws {
        optimizer.zeroGradients()
        let (output, _) = try model(randomTensor([4, 2, 3], seed: 99))
        (output * output).sum().backward()
        optimizer.step()
    }

    static func bits(_ state: [String: Tensor]) -> [String: [UInt32]] {
        state.mapValues { $0.scalars.map(\.bitPattern) }
    }

    func save(_ model: LSTM, _ optimizer: Adam?, step: Int, keepLast: Int? = nil) throws -> URL {
        try Checkpoint.save(to: root, model: model, optimizer: optimizer, config: Config(),
                            trainingState: TrainingState(step: step, epoch: 1, dataPosition: 7 * step),
                            metadata: ["run": "test"], keepLast: keepLast)
    }

    // MARK: - Round trip and resume

    func testResumingFromACheckpointContinuesBitwise() throws {
        let model = try Self.model(seed: 1)
        let optimizer = try Adam(namedParameters: model.namedParameters(), learningRate: 0.01)
        for _ in 0..<3 { try Self.trainStep(model, optimizer) }
        let state = TrainingState(step: 3, epoch: 0, dataPosition: 6,
                                  randomGenerators: ["dropout": RandomGeneratorState(words: [1, 2, .max, 0x0123_4567_89AB_CDEF])],
                                  bestMetric: .infinity, values: ["loss": 0.25])
        let directory = try Checkpoint.save(to: root, model: model, optimizer: optimizer, config: Config(), trainingState: state, metadata: ["run": "a"])
        XCTAssertEqual(directory.lastPathComponent, "checkpoint-3")
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: directory.path)),
                       ["model.safetensors", "optimizer.safetensors", "config.json", "training_state.json"])
        for _ in 0..<3 { try Self.trainStep(model, optimizer) }

        let checkpoint = try Checkpoint.load(from: root)
        XCTAssertEqual(checkpoint.directory.standardizedFileURL.path, directory.standardizedFileURL.path)
        XCTAssertEqual(checkpoint.trainingState, state)
        XCTAssertEqual(checkpoint.model.metadata, ["run": "a", "format": "pt"])
        let config = try checkpoint.config(as: Config.self)
        let resumed = try Self.model(config, seed: 2)
        let resumedOptimizer = try Adam(namedParameters: resumed.namedParameters(), learningRate: 0.01)
        try checkpoint.loadWeights(into: resumed)
        try checkpoint.loadOptimizerState(into: resumedOptimizer)
        for _ in 0..<3 { try Self.trainStep(resumed, resumedOptimizer) }
        XCTAssertEqual(Self.bits(resumed.stateDictionary()), Self.bits(model.stateDictionary()))
        XCTAssertEqual(Self.bits(resumedOptimizer.stateDictionary()), Self.bits(optimizer.stateDictionary()))
        // The checkpoint's own directory loads too.
        XCTAssertEqual(try Checkpoint.load(from: directory).trainingState, state)
    }

    func testTrainingStateJSONKeepsGeneratorWordsExactly() throws {
        let model = try Self.model(seed: 1)
        let words: [UInt64] = [.max, 1 << 63 | 1, 0x9E37_79B9_7F4A_7C15, 0]
        let state = TrainingState(step: 5, randomGenerators: ["shuffle": RandomGeneratorState(words: words)], bestMetric: -.infinity)
        let directory = try Checkpoint.save(to: root, model: model, optimizer: nil, config: Config(), trainingState: state)
        let text = try String(contentsOf: directory.appendingPathComponent("training_state.json"), encoding: .utf8)
        XCTAssertTrue(text.contains("\"ffffffffffffffff\""), text)
        let loaded = try Checkpoint.load(from: root)
        XCTAssertEqual(loaded.trainingState.randomGenerators["shuffle"]?.words, words)
        XCTAssertEqual(loaded.trainingState.bestMetric, -.infinity)
        XCTAssertNil(loaded.optimizerState)
        XCTAssertThrowsError(try loaded.loadOptimizerState(into: try Adam(namedParameters: model.namedParameters()))) { error in
            XCTAssertTrue("\(error)".contains("optimizer.safetensors") && "\(error)".contains("without an optimizer"), "\(error)")
        }
    }

    // MARK: - Layout and retention

    func testLatestPointsToTheNewestAndKeepLastPrunes() throws {
        let model = try Self.model(seed: 1)
        for step in [10, 20, 30, 40] { try save(model, nil, step: step, keepLast: 2) }
        XCTAssertEqual(try Checkpoint.all(in: root).map(\.lastPathComponent), ["checkpoint-30", "checkpoint-40"])
        XCTAssertEqual(try String(contentsOf: root.appendingPathComponent("latest"), encoding: .utf8), "checkpoint-40\n")
        XCTAssertEqual(try Checkpoint.load(from: root).trainingState.step, 40)
        // Saving the same step again never touches the one `latest` names.
        let again = try save(model, nil, step: 40, keepLast: 2)
        XCTAssertEqual(again.lastPathComponent, "checkpoint-40-1")
        XCTAssertEqual(try Checkpoint.all(in: root).map(\.lastPathComponent), ["checkpoint-40", "checkpoint-40-1"])
        XCTAssertEqual(try Checkpoint.latest(in: root)?.lastPathComponent, "checkpoint-40-1")
        // Numeric, not lexicographic, order.
        try save(model, nil, step: 100, keepLast: 1)
        XCTAssertEqual(try Checkpoint.all(in: root).map(\.lastPathComponent), ["checkpoint-100"])
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: root.path).contains { $0.hasPrefix(".") })
        XCTAssertThrowsError(try save(model, nil, step: 101, keepLast: 0)) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .invalidArgument)
        }
    }

    // MARK: - Errors that name the file and the tensor

    func testLoadWeightsNamesMissingUnexpectedAndMisshapedTensors() throws {
        try save(try Self.model(seed: 1), nil, step: 1)
        let checkpoint = try Checkpoint.load(from: root)
        let path = checkpoint.directory.appendingPathComponent("model.safetensors").path
        let wider = try Self.model(Config(hiddenSize: 5), seed: 1)
        let before = Self.bits(wider.stateDictionary())
        XCTAssertThrowsError(try checkpoint.loadWeights(into: wider)) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .shapeMismatch)
            XCTAssertTrue("\(error)".contains(path) && "\(error)".contains("'weight_ih_l0'") && "\(error)".contains("[16, 3]"), "\(error)")
        }
        XCTAssertEqual(Self.bits(wider.stateDictionary()), before, "unchanged after a failed load")
        let deeper = try Self.model(Config(layerCount: 3), seed: 1)
        XCTAssertThrowsError(try checkpoint.loadWeights(into: deeper)) { error in
            XCTAssertTrue("\(error)".contains(path) && "\(error)".contains("missing tensors 'weight_ih_l2'"), "\(error)")
        }
        let shallower = try Self.model(Config(layerCount: 1), seed: 1)
        XCTAssertThrowsError(try checkpoint.loadWeights(into: shallower)) { error in
            XCTAssertTrue("\(error)".contains("unexpected tensors 'bias_hh_l1'"), "\(error)")
        }
    }

    func testDamagedFilesAreReportedByName() throws {
        let directory = try save(try Self.model(seed: 1), nil, step: 1)
        let model = directory.appendingPathComponent("model.safetensors")
        var bytes = [UInt8](try Data(contentsOf: model))
        bytes.removeLast(4)
        try Data(bytes).write(to: model)
        XCTAssertThrowsError(try Checkpoint.load(from: root)) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .malformedFile)
            XCTAssertTrue("\(error)".contains(model.path), "\(error)")
        }
        try Data("{\"step\": \"x\"}".utf8).write(to: directory.appendingPathComponent("training_state.json"))
        try Data("checkpoint-1/../x\n".utf8).write(to: root.appendingPathComponent("latest"))
        XCTAssertThrowsError(try Checkpoint.load(from: root)) { error in
            XCTAssertTrue("\(error)".contains("latest") && "\(error)".contains("expected a checkpoint name"), "\(error)")
        }
        try Data("checkpoint-7\n".utf8).write(to: root.appendingPathComponent("latest"))
        XCTAssertThrowsError(try Checkpoint.load(from: root)) { error in
            XCTAssertTrue("\(error)".contains("'checkpoint-7', which is not a directory"), "\(error)")
        }
        XCTAssertThrowsError(try Checkpoint.load(from: directory)) { error in
            XCTAssertTrue("\(error)".contains("model.safetensors"), "\(error)")
        }
        XCTAssertThrowsError(try Checkpoint.load(from: root.appendingPathComponent("nowhere"))) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .io)
        }
    }

    // MARK: - Failures while saving

    func testUnwritableDirectoryThrowsAndKeepsThePreviousCheckpoint() throws {
        let model = try Self.model(seed: 1)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let blocker = root.appendingPathComponent("blocker")
        try Data("a file".utf8).write(to: blocker)
        XCTAssertThrowsError(try Checkpoint.save(to: blocker.appendingPathComponent("run"), model: model, optimizer: nil, config: Config(),
                                                 trainingState: TrainingState(step: 1))) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .io)
            XCTAssertTrue("\(error)".contains("blocker/run"), "\(error)")
        }

        guard geteuid() != 0 else { return }  // root ignores permissions; the injected failures below still run
        let run = root.appendingPathComponent("run")
        try Checkpoint.save(to: run, model: model, optimizer: nil, config: Config(), trainingState: TrainingState(step: 1))
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: run.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: run.path) }
        XCTAssertThrowsError(try Checkpoint.save(to: run, model: try Self.model(seed: 2), optimizer: nil, config: Config(),
                                                 trainingState: TrainingState(step: 2))) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .io, "\(error)")
        }
        XCTAssertEqual(try Checkpoint.load(from: run).trainingState.step, 1)
    }

    /// /dev/full fails every write with ENOSPC, as a full disk does.
    func testFullDiskBecomesASequentError() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full") }
        let device = try FileDescriptor(path: "/dev/full", flags: O_WRONLY, mode: 0)
        defer { try? device.close() }
        XCTAssertThrowsError(try device.writeAll([1, 2, 3][...])) { error in
            XCTAssertEqual((error as? SequentError)?.kind, .io)
            XCTAssertTrue("\(error)".contains("/dev/full") && "\(error)".contains("No space left on device"), "\(error)")
        }
    }

    /// Fails the save at each of its durable steps in turn. After each failure the root
    /// must load as the previous checkpoint or the new one, complete; a copy of the root taken
    /// at the instant of failure (what a crash would leave, before any clean-up) must load the
    /// same way, and a later save into that copy must succeed and clear the leftovers.
    func testEveryInterruptedStepLeavesACompleteCheckpoint() throws {
        let template = root.appendingPathComponent("template")
        let (first, second, third) = (try Self.model(seed: 1), try Self.model(seed: 2), try Self.model(seed: 3))
        let optimizer = try Adam(namedParameters: second.namedParameters(), learningRate: 0.01)
        try Self.trainStep(second, optimizer)
        for (step, model) in [(1, first), (2, second)] {
            try Checkpoint.save(to: template, model: model, optimizer: optimizer, config: Config(), trainingState: TrainingState(step: step), keepLast: 2)
        }
        let expected = [2: Self.bits(second.stateDictionary()), 3: Self.bits(third.stateDictionary())]

        func saveThird(into directory: URL, interrupt: (String) throws -> Void) throws {
            _ = try Checkpoint.save(to: directory, model: third, optimizer: optimizer, config: Config(), trainingState: TrainingState(step: 3),
                                    metadata: [:], keepLast: 2, interrupt: interrupt)
        }
        func assertComplete(_ directory: URL, _ context: String) throws {
            let checkpoint = try Checkpoint.load(from: directory)
            let step = checkpoint.trainingState.step
            XCTAssertTrue(step == 2 || step == 3, "\(context): step \(step)")
            XCTAssertEqual(Self.bits(checkpoint.model.tensors), expected[step], context)
            XCTAssertEqual(Self.bits(checkpoint.optimizerState ?? [:]), Self.bits(optimizer.stateDictionary()), context)
            XCTAssertEqual(try checkpoint.config(as: Config.self), Config(), context)
        }

        var steps: [String] = []
        let probe = root.appendingPathComponent("probe")
        try FileManager.default.copyItem(at: template, to: probe)
        try saveThird(into: probe) { steps.append($0) }
        XCTAssertEqual(steps.count, 1 + 4 * 5 + 3 + 5 + 1, "\(steps)")  // directory, 4 files, 3 directory steps, latest, 1 removal

        for (failing, stepName) in steps.enumerated() {
            let run = root.appendingPathComponent("run-\(failing)")
            let crash = root.appendingPathComponent("crash-\(failing)")
            try FileManager.default.copyItem(at: template, to: run)
            var count = 0
            XCTAssertThrowsError(try saveThird(into: run) { name in
                defer { count += 1 }
                guard count == failing else { return }
                try FileManager.default.copyItem(at: run, to: crash)
                throw SequentError(.io, "injected failure before '\(name)'")
            }) { error in
                XCTAssertTrue("\(error)".contains("injected failure before '\(stepName)'"), "\(error)")
            }
            try assertComplete(run, "failed before '\(stepName)'")
            try assertComplete(crash, "crashed before '\(stepName)'")
            try Checkpoint.save(to: crash, model: third, optimizer: optimizer, config: Config(), trainingState: TrainingState(step: 3), keepLast: 2)
            XCTAssertEqual(try Checkpoint.load(from: crash).trainingState.step, 3)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: crash.path).filter { $0.hasPrefix(".") }
            XCTAssertEqual(leftovers, [], "after a crash before '\(stepName)'")
        }
    }

    /// A child process (this test binary, running `testChildProcessSavesUntilKilled`) saves
    /// checkpoints in a loop and is killed with SIGKILL at a random moment, five times over
    /// the same root; each time the root must load a complete checkpoint whose weights are
    /// the ones saved for its step.
    func testSigkillDuringSavesLeavesACompleteCheckpoint() throws {
        #if os(Linux)
        let executable = URL(fileURLWithPath: CommandLine.arguments[0])
        guard executable.lastPathComponent.hasSuffix(".xctest") else { throw XCTSkip("not running from an .xctest binary: \(executable.path)") }
        var generator = RandomGenerator(seed: 5)
        var lastStep = 0
        for round in 0..<5 {
            let child = Process()
            child.executableURL = executable
            child.arguments = ["SequentTrainTests.CheckpointTests/testChildProcessSavesUntilKilled"]
            child.environment = ProcessInfo.processInfo.environment.merging(["SEQUENT_CHECKPOINT_CHILD_ROOT": root.path]) { $1 }
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            let deadline = Date().addingTimeInterval(30)
            while (try? Checkpoint.latest(in: root)).flatMap({ $0 }) == nil || (round > 0 && (try? Checkpoint.load(from: root))?.trainingState.step == lastStep) {
                guard child.isRunning, Date() < deadline else { break }
                usleep(2_000)
            }
            usleep(UInt32.random(in: 0...150_000, using: &generator))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            XCTAssertEqual(child.terminationReason, .uncaughtSignal, "round \(round): the child ended by itself")
            let checkpoint = try Checkpoint.load(from: root)
            let step = checkpoint.trainingState.step
            XCTAssertEqual(Self.bits(checkpoint.model.tensors), Self.bits(try Self.model(seed: UInt64(step)).stateDictionary()), "round \(round), step \(step)")
            XCTAssertLessThanOrEqual(try Checkpoint.all(in: root).count, 3, "keepLast 2, plus one renamed in before latest moved")
            lastStep = step
            print("SIGKILL round \(round): latest complete checkpoint is step \(step)")
        }
        #else
        throw XCTSkip("Linux only")
        #endif
    }

    /// The child of `testSigkillDuringSavesLeavesACompleteCheckpoint`: does nothing unless
    /// SEQUENT_CHECKPOINT_CHILD_ROOT is set, then saves step after step until killed.
    func testChildProcessSavesUntilKilled() throws {
        guard let path = ProcessInfo.processInfo.environment["SEQUENT_CHECKPOINT_CHILD_ROOT"] else { return }
        let childRoot = URL(fileURLWithPath: path)
        var step = ((try? Checkpoint.load(from: childRoot))?.trainingState.step ?? 0) + 1
        while true {
            let model = try Self.model(seed: UInt64(step))
            try Checkpoint.save(to: childRoot, model: model, optimizer: nil, config: Config(), trainingState: TrainingState(step: step), keepLast: 2)
            step += 1
        }
    }
}
