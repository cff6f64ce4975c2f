import Foundation
import SequentTrain
import XCTest

/// A clock the test moves by hand.
final class ManualClock {
    var monotonicSeconds: Double
    var unixTime: Double

    init(monotonicSeconds: Double = 0, unixTime: Double = 1_700_000_000) {
        self.monotonicSeconds = monotonicSeconds
        self.unixTime = unixTime
    }

    /// Moves both clocks on by `seconds`.
    func advance(_ seconds: Double) {
        monotonicSeconds += seconds
        unixTime += seconds
    }

    var metricsClock: MetricsClock {
        MetricsClock(monotonicSeconds: { self.monotonicSeconds }, unixTime: { self.unixTime })
    }
}

extension XCTestCase {
    /// A fresh directory removed when the test ends.
    func makeTemporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("sequent-\(type(of: self))-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A path under a regular file, which no one (root included) can create.
    func makeUncreatablePath(_ name: String) throws -> URL {
        let blocker = try makeTemporaryDirectory().appendingPathComponent("not-a-directory")
        try Data("x".utf8).write(to: blocker)
        return blocker.appendingPathComponent("run").appendingPathComponent(name)
    }
}
