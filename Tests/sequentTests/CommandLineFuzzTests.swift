import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The command-line tools driven with generated and extreme values for every flag of every
/// subcommand: no input may end in a trap (SIGILL, SIGTRAP, SIGABRT, SIGSEGV, SIGBUS). A run
/// that starts real work is stopped after a short while; that is not a failure.
final class CommandLineFuzzTests: XCTestCase {
    /// Runs `tool` (`sequent` or `sequent-bench`) with `arguments`, stopping it (SIGKILL)
    /// after `timeout` seconds.
    static func run(_ tool: String, _ arguments: [String], in folder: URL, timeout: Double = 1.5) throws -> BuiltTool.Run {
        try BuiltTool.run(arguments, tool: tool, in: folder, timeout: timeout)
    }

    static let trapSignals: Set<Int32> = [SIGILL, SIGTRAP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE]

    func assertNoTrap(_ outcome: BuiltTool.Run, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) {
        if let signal = outcome.signal, Self.trapSignals.contains(signal) {
            XCTFail("\(arguments.joined(separator: " ")) ended with signal \(signal): \(outcome.stderr.suffix(600))", file: file, line: line)
        }
        XCTAssertFalse(outcome.stderr.contains("Fatal error"), "\(arguments): \(outcome.stderr.suffix(600))", file: file, line: line)
    }

    /// A scratch folder with the unusual paths the fuzzer hands out.
    func scratch() throws -> (folder: URL, paths: [String]) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sequent-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("fifo").path
        mkfifo(fifo, 0o644)
        let binary = folder.appendingPathComponent("binary.bin")
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: binary)
        let empty = folder.appendingPathComponent("empty.txt")
        try Data().write(to: empty)
        let csv = folder.appendingPathComponent("series.csv")
        try ("t,value\n" + (0..<100).map { "\($0),\(Double($0 % 12) + Double($0) * 0.1)" }.joined(separator: "\n") + "\n").write(to: csv, atomically: true, encoding: .utf8)
        let paths = ["", "/", "/dev/null", "/sys/x", "/nonexistent/dir/file", fifo, folder.path, binary.path, empty.path, csv.path, "relative/../x", String(repeating: "a", count: 5000)]
        return (folder, paths)
    }

    static let numbers = ["-1", "0", "1", "2", "40", "3000000000", "9223372036854775807", "-9223372036854775808",
                          "99999999999999999999", "", "abc", "1e30", "-1e30", "nan", "inf", "-inf", "0.5", "1e-45", "0x10", " 3"]

    /// Every flag of every subcommand, each with every extreme value, one flag at a time.
    func testNoFlagValueTraps() throws {
        let (sequent, bench) = (try BuiltTool.url("sequent").lastPathComponent, try BuiltTool.url("sequent-bench").lastPathComponent)
        let (folder, paths) = try scratch()
        let report = folder.appendingPathComponent("report").path
        // (tool, fixed arguments that keep the run short, flag, values)
        var cases: [(String, [String], String, [String])] = []
        for flag in ["--steps", "--hidden", "--learning-rate", "--seed", "--threads"] {
            cases.append((sequent, ["demo", "--quick"], flag, Self.numbers))
        }
        cases.append((sequent, ["demo"], "--cell", ["lstm", "LSTM", "", "transformer", "--", "-1"]))
        for flag in ["--season", "--threads"] {
            cases.append((sequent, ["lab", "data", "--quick", "--out", report, "--csv", paths[9], "--column", "value"], flag, Self.numbers))
        }
        for flag in ["--out", "--text", "--csv"] {
            cases.append((sequent, ["lab", "data", "--quick"], flag, paths))
        }
        cases.append((sequent, ["lab", "--quick", "--out", report], "--column", ["", "value", "nope", "\u{0}"]))
        cases.append((sequent, ["lab", "--quick", "--out", report], "", ["", "all", "gradients", "nope", "-1", "data"]))
        for flag in ["--threads"] {
            cases.append((bench, ["--workload", "lstm-1x256", "--mode", "stream", "--quick"], flag, Self.numbers))
        }
        for flag in ["--workload", "--mode", "--stream-weights", "--matmul-precision"] {
            cases.append((bench, ["--quick"], flag, ["", ",", "lstm-1x256,", "nope", "train", "bfloat16", "-1", "a,b"]))
        }
        // The task commands: each numeric flag of `train` (and `lm generate`) on a small input.
        let text = folder.appendingPathComponent("text.txt")
        try String(repeating: "To be, or not to be, that is the question. ", count: 200).write(to: text, atomically: true, encoding: .utf8)
        let labelled = folder.appendingPathComponent("labelled.tsv")
        try ("sentence\tlabel\n" + (0..<200).map { "\($0 % 2 == 0 ? "good fine film" : "bad dull film") \($0)\t\($0 % 2)" }.joined(separator: "\n") + "\n")
            .write(to: labelled, atomically: true, encoding: .utf8)
        let model = folder.appendingPathComponent("model").path
        let shared = ["--layers", "--hidden", "--dropout", "--batch-size", "--steps", "--time-limit", "--learning-rate", "--threads"]
        let tasks: [([String], [String])] = [
            (["lm", "train", "--text", text.path, "--out", model], shared + ["--context", "--vocab-size", "--val-fraction", "--width", "--heads"]),
            (["forecast", "train", "--csv", paths[9], "--column", "value", "--out", model], shared + ["--horizon", "--season", "--window", "--ensemble", "--test-size", "--coverage", "--val-fraction", "--folds", "--val-size", "--combine"]),
            (["classify", "train", "--train", labelled.path, "--text-column", "sentence", "--label-column", "label", "--out", model],
             shared + ["--val-fraction", "--embedding", "--embedding-dropout", "--max-length", "--min-count"]),
            (["memory", "train", "--task", "copy", "--out", model], shared + ["--min-length", "--max-length", "--memory-slots", "--memory-width", "--shift-range", "--read-heads", "--hops"]),
            (["lm", "generate", model], ["--length", "--temperature", "--top-k", "--top-p"]),
        ]
        // The extremes (most are refused at once; a value that starts training is stopped).
        let extremes = ["-1", "0", "3000000000", "9223372036854775807", "99999999999999999999", "", "abc", "nan", "inf", "1e30"]
        for (fixed, flags) in tasks {
            for flag in flags { cases.append((sequent, fixed, flag, extremes)) }
        }
        cases.append((sequent, [], "", ["", "help", "help foo", "help demo", "forcast", "version --verbose", "info", "--version", "-h"]))
        var runs = 0
        for (tool, fixed, flag, values) in cases {
            for value in values {
                let arguments = flag.isEmpty ? fixed + value.split(separator: " ").map(String.init) : fixed + [flag, value]
                let outcome = try Self.run(tool, arguments, in: folder)
                assertNoTrap(outcome, arguments)
                runs += 1
            }
        }
        XCTAssertGreaterThan(runs, 200)
    }

    /// Random combinations of several flags at once, from a fixed seed.
    func testRandomFlagCombinationsDoNotTrap() throws {
        let sequent = try BuiltTool.url("sequent").lastPathComponent
        let (folder, paths) = try scratch()
        var generator = SplitMix64(seed: 7)
        let flags = ["--steps", "--hidden", "--learning-rate", "--seed", "--threads"]
        for _ in 0..<40 {
            var arguments = ["demo"]
            for flag in flags.shuffled(using: &generator).prefix(Int.random(in: 1...3, using: &generator)) {
                arguments += [flag, Self.numbers.randomElement(using: &generator)!]
            }
            assertNoTrap(try Self.run(sequent, arguments, in: folder, timeout: 1), arguments)
        }
        for _ in 0..<20 {
            let arguments = ["lab", "data", "--quick", "--out", paths.randomElement(using: &generator)!,
                             "--csv", paths.randomElement(using: &generator)!, "--column", "value",
                             "--season", Self.numbers.randomElement(using: &generator)!]
            assertNoTrap(try Self.run(sequent, arguments, in: folder, timeout: 1), arguments)
        }
    }

    /// The inputs of the issue that used to trap or mislead, each answered by a message.
    func testFormerCrashesGiveClearErrors() throws {
        let (sequent, bench) = (try BuiltTool.url("sequent").lastPathComponent, try BuiltTool.url("sequent-bench").lastPathComponent)
        let (folder, paths) = try scratch()
        let expectations: [(String, [String], String)] = [
            (sequent, ["lab", "data", "--quick", "--csv", paths[9], "--column", "value", "--season", "40", "--out", folder.appendingPathComponent("r").path], "season"),
            (sequent, ["lab", "data", "--quick", "--csv", paths[9], "--column", "value", "--season", "9223372036854775807"], "--season"),
            (sequent, ["demo", "--threads", "3000000000"], "--threads"),
            (sequent, ["lab", "--threads", "3000000000"], "--threads"),
            (bench, ["--threads", "3000000000"], "--threads"),
            (sequent, ["lab", "gradients", "--quick", "--out", "/sys/x"], "/sys/x"),
            (sequent, ["lab", "data", "--quick", "--text", folder.path], "is a folder"),
            (sequent, ["lab", "data", "--quick", "--text", paths[5]], "FIFO"),
            (sequent, ["lab", "data", "--quick", "--text", "/dev/null"], "device"),
            (bench, ["--workload", ""], "--workload"),
            (sequent, ["help", "foo"], "'foo' is not a sequent command"),
            (sequent, ["forcast", "train"], "forcast"),
        ]
        for (tool, arguments, expected) in expectations {
            let outcome = try Self.run(tool, arguments, in: folder, timeout: 20)
            assertNoTrap(outcome, arguments)
            XCTAssertFalse(outcome.stoppedByTest, "\(arguments) did not finish")
            XCTAssertNotEqual(outcome.status, 0, "\(arguments) exited 0")
            XCTAssertTrue(outcome.stderr.contains(expected), "\(arguments): expected '\(expected)' in: \(outcome.stderr.suffix(400))")
        }
    }

    /// SIGTERM during `sequent lab` writes the report of the experiments finished so far.
    func testInterruptedLabWritesWhatItFinished() throws {
        let sequent = try BuiltTool.url("sequent")
        let (folder, _) = try scratch()
        let out = folder.appendingPathComponent("lab")
        let process = Process()
        process.executableURL = sequent
        process.arguments = ["lab", "all", "--quick", "--threads", "1", "--out", out.path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        try? errors.fileHandleForWriting.close()
        // Wait until the first experiment has finished (its progress line names the next).
        var seen = ""
        let deadline = Date().addingTimeInterval(240)
        while process.isRunning, Date() < deadline, !seen.contains("[2/") {
            seen += String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
        }
        try XCTSkipUnless(process.isRunning, "the lab finished before it could be interrupted")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        seen += String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 128 + SIGTERM, seen.suffix(400).description)
        let report = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("Incomplete"), String(report.prefix(400)))
    }
}

/// A seeded generator (SplitMix64) so that the random combinations are the same every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
