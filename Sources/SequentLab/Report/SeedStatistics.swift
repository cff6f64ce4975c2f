import Foundation

/// One quantity measured once per seed: its values, mean and spread.
///
/// The spread is the sample standard deviation (n - 1 in the denominator), 0 for one seed.
public struct SeedValues: Sendable {
    public var values: [Double]

    public init(_ values: [Double]) { self.values = values }

    public var count: Int { values.count }

    public var mean: Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }

    public var standardDeviation: Double {
        guard values.count > 1 else { return 0 }
        let m = mean
        return (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
    }

    /// Whether every value is +infinity (a quantity beyond what could be measured, such as
    /// a gradient ratio whose far norm underflowed).
    var allInfinite: Bool { !values.isEmpty && values.allSatisfy { $0 == .infinity } }
    /// Whether every value is finite.
    var allFinite: Bool { values.allSatisfy(\.isFinite) }

    /// The values with each +infinity replaced by the largest finite value: a lower bound
    /// (an underflowed norm is smaller than every measured one); unchanged if none is finite.
    var infinitiesAsLowerBound: SeedValues {
        guard let largest = values.filter(\.isFinite).max() else { return self }
        return SeedValues(values.map { $0 == .infinity ? largest : $0 })
    }

    /// "3.87 ± 0.05", with `digits` significant digits; "inf (k of n seeds)" when some
    /// values are infinite.
    public func text(_ digits: Int = 3) -> String {
        guard !values.isEmpty else { return "-" }
        let infinite = values.filter { $0 == .infinity }.count
        if infinite > 0 { return "inf (\(infinite) of \(values.count) seeds)" }
        return values.count > 1 ? "\(formatted(mean, digits)) ± \(formatted(standardDeviation, 2))" : formatted(mean, digits)
    }

    var json: JSONValue {
        .object([("mean", .of(mean)), ("sd", .of(standardDeviation)), ("values", .of(values))])
    }
}

/// The rule every comparison of the lab follows: a claim that one quantity is lower (or
/// higher) than another "held" or "did not hold" only when the two means differ by more
/// than the seeds' spread (the sum of the two standard deviations: the intervals mean ± sd
/// do not overlap) and by more than a stated tie margin; otherwise the verdict is
/// "inconclusive". With fewer than two seeds there is no spread, so it is inconclusive too.
public enum SeedComparison {
    /// The stated rule, for the report.
    public static let rule = "a verdict is \"held\" or \"did not hold\" only when the two means differ by more than the sum of their standard deviations over the seeds (mean ± sd intervals that do not overlap) and by more than the stated tie margin; otherwise \"inconclusive\" (ties, and runs with one seed, are inconclusive); a quantity beyond what could be measured in every seed (\"inf\": a gradient norm that underflowed Float32) counts as larger than any finite one, and where only some seeds are \"inf\" they count as the largest finite value (a lower bound) on the side of a comparison where that can only make the claim harder to show"

    /// Whether `a` is lower than `b` beyond the noise.
    ///
    /// - Parameters:
    ///   - relativeTie: differences below this fraction of the larger mean are ties.
    ///   - absoluteTie: differences below this are ties.
    static func lower(_ a: SeedValues, than b: SeedValues, relativeTie: Double = 0, absoluteTie: Double = 0) -> Verdict {
        guard a.count >= 2, b.count >= 2 else { return .inconclusive }
        // +infinity stands for "beyond what could be measured" in every seed: above any finite value.
        if a.allFinite && b.allInfinite { return .held }
        if a.allInfinite && b.allFinite { return .notHeld }
        // Where b is infinite in some seeds, its lower bound can only make "a < b" harder to show.
        let b = b.infinitiesAsLowerBound
        guard a.mean.isFinite, b.mean.isFinite else { return .inconclusive }
        let difference = b.mean - a.mean
        let margin = max(a.standardDeviation + b.standardDeviation, relativeTie * max(abs(a.mean), abs(b.mean)), absoluteTie)
        guard abs(difference) > margin, difference != 0 else { return .inconclusive }
        return .from(difference > 0)
    }

    /// Whether `a` is higher than `b` beyond the noise.
    static func higher(_ a: SeedValues, than b: SeedValues, relativeTie: Double = 0, absoluteTie: Double = 0) -> Verdict {
        lower(SeedValues(a.values.map { -$0 }), than: SeedValues(b.values.map { -$0 }), relativeTie: relativeTie, absoluteTie: absoluteTie)
    }

    /// Whether `a` is below `threshold` beyond the noise (mean + sd below it: held; mean - sd
    /// above it: did not hold).
    static func below(_ a: SeedValues, _ threshold: Double) -> Verdict {
        guard a.count >= 2 else { return .inconclusive }
        if a.allInfinite { return threshold.isFinite ? .notHeld : .inconclusive }
        guard a.mean.isFinite else { return .inconclusive }
        if a.mean + a.standardDeviation < threshold { return .held }
        if a.mean - a.standardDeviation > threshold { return .notHeld }
        return .inconclusive
    }

    /// Whether `a` is above `threshold` beyond the noise.
    static func above(_ a: SeedValues, _ threshold: Double) -> Verdict {
        if a.count >= 2, a.allInfinite, threshold.isFinite { return .held }
        // The lower bound of the infinite seeds can only make "above" harder to show.
        return below(SeedValues(a.infinitiesAsLowerBound.values.map { -$0 }), -threshold)
    }

    /// The stated rule of paired comparisons (timings), for the report.
    public static let pairedRule = "timings are compared round by round: the models are timed in interleaved rounds (one step of each in turn), and \"A faster than B\" holds when the ratio of A's throughput to B's, mean ± sd over the rounds, lies wholly above 1 + the tie margin, does not hold when it lies wholly below 1 - the margin, and is inconclusive otherwise"

    /// a_i / b_i for measurements taken in pairs (the i-th of each in the same round); empty
    /// when the counts differ.
    static func pairedRatios(_ a: SeedValues, _ b: SeedValues) -> SeedValues {
        guard a.count == b.count else { return SeedValues([]) }
        return SeedValues(zip(a.values, b.values).map { $0 / $1 })
    }

    /// Whether `a` is higher than `b`, judged on their paired ratios (`pairedRule`): held when
    /// mean - sd of a_i / b_i is above 1 + `tie`, did not hold when mean + sd is below
    /// 1 - `tie`, inconclusive otherwise or with fewer than two pairs.
    static func higherPaired(_ a: SeedValues, than b: SeedValues, tie: Double) -> Verdict {
        let ratios = pairedRatios(a, b)
        guard ratios.count >= 2, ratios.allFinite, ratios.mean.isFinite else { return .inconclusive }
        if ratios.mean - ratios.standardDeviation > 1 + tie { return .held }
        if ratios.mean + ratios.standardDeviation < 1 - tie { return .notHeld }
        return .inconclusive
    }

    /// Whether `a` is lower than `b`, judged on the paired ratios b_i / a_i (`higherPaired`).
    static func lowerPaired(_ a: SeedValues, than b: SeedValues, tie: Double) -> Verdict {
        higherPaired(b, than: a, tie: tie)
    }
}
