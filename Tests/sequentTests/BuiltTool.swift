import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The command-line tools run as a user runs them: the binaries SwiftPM built beside this
/// test bundle (`swift build --build-tests` builds them first), in a child process. Every
/// test of `sequent` and `sequent-bench` goes through here.
enum BuiltTool {
    /// What a run did.
    struct Run {
        /// The exit status (or the signal's number when `signal` is set).
        var status: Int32
        var stdout: String
        var stderr: String
        /// The signal that ended the tool, unless the test itself killed it.
        var signal: Int32?
        /// Whether the test killed the tool at its timeout.
        var stoppedByTest: Bool
    }

    /// The built tool `name` beside this test bundle (or one folder up).
    ///
    /// - Throws: `XCTSkip` when it is not built.
    static func url(_ name: String = "sequent") throws -> URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundle, bundle.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw XCTSkip("\(name) is not built beside the tests (swift build --build-tests builds it)")
    }

    /// Starts `tool arguments...` in `folder` and returns at once (for tests that stop it
    /// themselves); its output goes nowhere.
    static func start(_ arguments: [String], tool: String = "sequent", in folder: URL? = nil,
                      environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = try url(tool)
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = folder }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs `tool arguments...` in `folder` to its end, or kills it (SIGKILL) after `timeout`
    /// seconds. Its output goes to temporary files (no pipe can fill and block it).
    ///
    /// - Parameters:
    ///   - input: its standard input as text (default: empty).
    ///   - inputBytes: its standard input as bytes (raw audio, say), instead of `input`.
    ///   - environment: added to this process's environment.
    static func run(_ arguments: [String], tool: String = "sequent", in folder: URL? = nil,
                    environment: [String: String] = [:], input: String? = nil, inputBytes: Data? = nil,
                    timeout: Double? = nil) throws -> Run {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("built-tool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let (outURL, errURL, inURL) = (scratch.appendingPathComponent("out"), scratch.appendingPathComponent("err"), scratch.appendingPathComponent("in"))
        try (inputBytes ?? Data((input ?? "").utf8)).write(to: inURL)
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let (out, err, stdin) = (try FileHandle(forWritingTo: outURL), try FileHandle(forWritingTo: errURL), try FileHandle(forReadingFrom: inURL))
        defer { try? out.close(); try? err.close(); try? stdin.close() }

        let process = Process()
        process.executableURL = try url(tool)
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = folder }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = stdin
        process.standardOutput = out
        process.standardError = err
        try process.run()
        var stopped = false
        if let timeout {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning {
                if Date() > deadline {
                    kill(process.processIdentifier, SIGKILL)
                    stopped = true
                    break
                }
                usleep(10_000)
            }
        }
        process.waitUntilExit()
        let signal = process.terminationReason == .uncaughtSignal && !stopped ? process.terminationStatus : nil
        return Run(status: process.terminationStatus,
                   stdout: String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self),
                   stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self),
                   signal: signal, stoppedByTest: stopped)
    }
}

extension XCTestCase {
    /// Asserts that `run` ended as bad input must: exit status 1 or 64 (ArgumentParser's
    /// usage error), every one of `words` in its standard error, and no crash or backtrace.
    func assertClearError(_ run: BuiltTool.Run, mentions words: [String], _ context: String = "",
                          file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue([1, 64].contains(run.status), "\(context) status \(run.status) stdout: \(run.stdout) stderr: \(run.stderr)", file: file, line: line)
        for word in words {
            XCTAssertTrue(run.stderr.contains(word), "\(context) '\(word)' not in: \(run.stderr)", file: file, line: line)
        }
        XCTAssertFalse(run.stderr.contains("Fatal error") || run.stderr.contains("backtrace"), "\(context) \(run.stderr)", file: file, line: line)
    }
}
