import Foundation

/// The two clocks a training log reads: a monotonic one for durations and the calendar one
/// for the time of day.
///
/// Logs take a clock as an argument, so tests pass fixed or stepped times and nothing in the
/// library reads a global.
public struct MetricsClock {
    /// Seconds on a clock that never goes backwards (its origin is arbitrary).
    public var monotonicSeconds: () -> Double
    /// Seconds since 1970-01-01 00:00 UTC.
    public var unixTime: () -> Double

    /// A clock made of the two functions.
    public init(monotonicSeconds: @escaping () -> Double, unixTime: @escaping () -> Double) {
        self.monotonicSeconds = monotonicSeconds
        self.unixTime = unixTime
    }

    /// The system's clocks: the uptime clock and `Date()`.
    public static var system: MetricsClock {
        MetricsClock(
            monotonicSeconds: { ProcessInfo.processInfo.systemUptime },
            unixTime: { Date().timeIntervalSince1970 }
        )
    }
}
