import Foundation

/// Where the lab reports what it is doing: one line per stage, for the progress display.
public struct LabProgress: Sendable {
    let report: @Sendable (String) -> Void

    public init(_ report: @escaping @Sendable (String) -> Void) { self.report = report }

    /// A progress display that drops everything (tests).
    public static let silent = LabProgress { _ in }

    public func callAsFunction(_ line: String) { report(line) }
}

/// Seconds taken by `body`.
func timed<R>(_ body: () throws -> R) rethrows -> (R, Double) {
    let clock = ContinuousClock()
    let start = clock.now
    let result = try body()
    let (s, atto) = (clock.now - start).components
    return (result, Double(s) + Double(atto) * 1e-18)
}

/// A number with `digits` significant digits, for tables.
func formatted(_ value: Double?, _ digits: Int = 3) -> String {
    guard let value, !value.isNaN else { return "-" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    if abs(value) >= 1000 && abs(value) < 1e5 { return String(format: "%.0f", value) }
    if value != 0 && (abs(value) >= 1e5 || abs(value) < 1e-3) { return String(format: "%.\(max(digits - 1, 0))e", value) }
    return String(format: "%.\(digits)g", value)
}

/// exp(mean(log x)): the average of values spread over decades.
func geometricMean(_ values: [Double]) -> Double {
    let positive = values.filter { $0 > 0 && $0.isFinite }
    guard !positive.isEmpty else { return 0 }
    return Foundation.exp(positive.map { Foundation.log($0) }.reduce(0, +) / Double(positive.count))
}
