import Foundation
import SequentTensor

/// A point of a series' time axis: a calendar date-time (UTC) or a plain number (a year, an
/// index), parsed from the time column of a CSV file.
///
/// Accepted forms: ISO 8601 dates and date-times (`2024-03-01`, `2024-03-01T12:30`,
/// `2024-03-01 12:30:00`, `...Z`, `...+02:00`), `YYYY-MM` (`1949-01`), `YYYY/MM/DD`,
/// `YYYYMMDD` (eight digits, read as a date), and numbers (`1749.5`, `12`).
public struct TimeStamp: Sendable, Equatable, Comparable, Codable {
    /// What the column held.
    public enum Kind: String, Sendable, Codable { case date, number }
    public var kind: Kind
    /// Seconds since 1970-01-01T00:00Z for dates; the number itself otherwise.
    public var value: Double

    public init(kind: Kind, value: Double) {
        self.kind = kind
        self.value = value
    }

    public static func < (a: TimeStamp, b: TimeStamp) -> Bool { a.value < b.value }

    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// Parses `text`; nil when it is neither a date nor a number.
    public static func parse(_ text: String) -> TimeStamp? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty else { return nil }
        if t.count == 8, t.allSatisfy(\.isASCII), t.allSatisfy(\.isNumber),
           let date = components(year: Int(t.prefix(4)), month: Int(t.dropFirst(4).prefix(2)), day: Int(t.suffix(2))) {
            return date
        }
        if let date = parseDate(t) { return date }
        if let number = Double(t), number.isFinite { return TimeStamp(kind: .number, value: number) }
        return nil
    }

    /// `YYYY-MM`, `YYYY-MM-DD`, `YYYY/MM/DD`, optionally followed by `T` or a space and
    /// `hh:mm[:ss[.fff]]` and a zone (`Z`, `+hh:mm`, `+hhmm`).
    private static func parseDate(_ t: String) -> TimeStamp? {
        let scalars = Array(t.unicodeScalars)
        var i = 0
        func number(_ digits: ClosedRange<Int>) -> Int? {
            var value = 0, count = 0
            while i < scalars.count, count < digits.upperBound, let d = Int(String(scalars[i])), scalars[i].isASCII {
                value = value * 10 + d
                count += 1
                i += 1
            }
            return digits.contains(count) ? value : nil
        }
        func take(_ c: Unicode.Scalar) -> Bool {
            if i < scalars.count, scalars[i] == c { i += 1; return true }
            return false
        }
        guard let year = number(4...4) else { return nil }
        let separator: Unicode.Scalar = take("-") ? "-" : take("/") ? "/" : " "
        guard separator != " ", let month = number(1...2) else { return nil }
        var day = 1
        if take(separator) {
            guard let d = number(1...2) else { return nil }
            day = d
        } else if i == scalars.count {
            return components(year: year, month: month, day: 1)
        }
        var seconds = 0.0
        if i < scalars.count {
            guard take("T") || take(" ") else { return nil }
            guard let hour = number(1...2), take(":"), let minute = number(2...2) else { return nil }
            guard hour < 24, minute < 60 else { return nil }
            seconds = Double(hour * 3600 + minute * 60)
            if take(":") {
                guard let second = number(2...2), second < 61 else { return nil }
                seconds += Double(second)
                if take(".") || take(",") {
                    let start = i
                    guard number(1...9) != nil else { return nil }
                    seconds += Double("0." + String(String.UnicodeScalarView(scalars[start..<i]))) ?? 0
                }
            }
            if take("Z") {
            } else if i < scalars.count {
                let sign: Double = take("+") ? 1 : take("-") ? -1 : 0
                guard sign != 0, let hours = number(2...2) else { return nil }
                _ = take(":")
                let minutes = number(2...2) ?? 0
                seconds -= sign * Double(hours * 3600 + minutes * 60)
            }
        }
        guard i == scalars.count, let date = components(year: year, month: month, day: day) else { return nil }
        return TimeStamp(kind: .date, value: date.value + seconds)
    }

    private static func components(year: Int?, month: Int?, day: Int?) -> TimeStamp? {
        guard let year, let month, let day, (1...12).contains(month), (1...31).contains(day) else { return nil }
        let parts = DateComponents(calendar: utc, timeZone: utc.timeZone, year: year, month: month, day: day)
        guard parts.isValidDate(in: utc), let date = utc.date(from: parts) else { return nil }
        return TimeStamp(kind: .date, value: date.timeIntervalSince1970)
    }

    /// The time as a number of years: 1970 + seconds / 31,556,952 (the mean Gregorian year)
    /// for dates, so 1960-07-02 is about 1960.5; the number itself otherwise.
    public var years: Double { kind == .date ? 1970 + value / 31_556_952 : value }

    /// The calendar date (UTC); nil for numbers.
    public var date: Date? { kind == .date ? Date(timeIntervalSince1970: value) : nil }

    /// Month 1-12, weekday 1-7 (Sunday 1, as Foundation counts), hour 0-23 (UTC); nil for numbers.
    public var calendarParts: (month: Int, weekday: Int, hour: Int)? {
        guard let date else { return nil }
        let parts = Self.utc.dateComponents([.month, .weekday, .hour], from: date)
        return (parts.month ?? 1, parts.weekday ?? 1, parts.hour ?? 0)
    }

    /// Written back as the shortest form that loses nothing at `frequency`: `1960-12` for a
    /// monthly series, `1960-12-31` for a daily one, `1960-12-31T06:00:00Z` for an hourly one.
    public func formatted(for frequency: Frequency) -> String {
        guard let date else {
            return value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
        }
        let p = Self.utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let (y, mo, d) = (p.year ?? 0, p.month ?? 1, p.day ?? 1)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let midnight = p.hour == 0 && p.minute == 0 && p.second == 0
        if (frequency.unit == .month || frequency.unit == .year) && d == 1 && midnight {
            return "\(y)-\(two(mo))"
        }
        let subDaily = [.hour, .minute, .seconds].contains(frequency.unit)
        if midnight && !subDaily { return "\(y)-\(two(mo))-\(two(d))" }
        return "\(y)-\(two(mo))-\(two(d))T\(two(p.hour ?? 0)):\(two(p.minute ?? 0)):\(two(p.second ?? 0))Z"
    }
}

/// The step between consecutive timestamps of a series, inferred from the most common step.
public struct Frequency: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The unit of the step; `.seconds` for anything the calendar does not name, `.number`
    /// for a numeric time column.
    public enum Unit: String, Sendable, Codable { case year, month, week, day, hour, minute, seconds, number }
    public var unit: Unit
    /// Units per step (3 months for a quarterly series; the step itself for seconds or numbers).
    public var multiple: Double

    public init(unit: Unit, multiple: Double) {
        self.unit = unit
        self.multiple = multiple
    }

    public var description: String {
        switch (unit, multiple) {
        case (.month, 1): return "monthly"
        case (.month, 3): return "quarterly"
        case (.year, 1): return "yearly"
        case (.week, 1): return "weekly"
        case (.day, 1): return "daily"
        case (.hour, 1): return "hourly"
        case (.minute, 1): return "every minute"
        case (.number, _): return "a step of \(Self.trimmed(multiple)) (numeric time column)"
        case (.seconds, _): return "every \(Self.trimmed(multiple)) s"
        default: return "every \(Self.trimmed(multiple)) \(unit.rawValue)s"
        }
    }

    private static func trimmed(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }

    /// The season a frequency usually has: 12 for monthly, 4 quarterly, 7 daily, 24 hourly,
    /// 52 weekly; 1 (no season) otherwise.
    public var typicalSeason: Int {
        switch (unit, multiple) {
        case (.month, 1): return 12
        case (.month, 3): return 4
        case (.day, 1): return 7
        case (.hour, 1): return 24
        case (.week, 1): return 52
        default: return 1
        }
    }

    /// The timestamp one step after `time`.
    public func advance(_ time: TimeStamp, by steps: Int = 1) -> TimeStamp {
        guard time.kind == .date, let date = time.date else {
            return TimeStamp(kind: time.kind, value: time.value + Double(steps) * multiple)
        }
        let calendar = TimeStamp.utc
        let n = Int(multiple.rounded())
        let next: Date?
        switch unit {
        case .year: next = calendar.date(byAdding: .year, value: steps * n, to: date)
        case .month: next = calendar.date(byAdding: .month, value: steps * n, to: date)
        default: next = date.addingTimeInterval(Double(steps) * seconds)
        }
        return TimeStamp(kind: .date, value: (next ?? date).timeIntervalSince1970)
    }

    /// The step in seconds for fixed-length units.
    var seconds: Double {
        switch unit {
        case .week: return 604_800 * multiple
        case .day: return 86_400 * multiple
        case .hour: return 3600 * multiple
        case .minute: return 60 * multiple
        case .year: return 365.25 * 86_400 * multiple
        case .month: return 30.44 * 86_400 * multiple
        case .seconds, .number: return multiple
        }
    }

    /// The step between `a` and `b` in this frequency's terms (whole months and years by the
    /// calendar), or nil when the two are not one step apart.
    func isOneStep(from a: TimeStamp, to b: TimeStamp) -> Bool {
        let expected = advance(a)
        return abs(expected.value - b.value) < 1e-6 * max(1, abs(b.value - a.value))
    }

    /// The most common step between consecutive `times` (sorted, at least two).
    public static func infer(from times: [TimeStamp]) -> Frequency {
        guard times.count >= 2 else { return Frequency(unit: times.first?.kind == .date ? .day : .number, multiple: 1) }
        if times[0].kind == .number {
            return Frequency(unit: .number, multiple: mostCommon(zip(times, times.dropFirst()).map { $1.value - $0.value }))
        }
        let calendar = TimeStamp.utc
        // Calendar months between consecutive dates on the same day of the month.
        let monthSteps: [Int?] = zip(times, times.dropFirst()).map { a, b in
            guard let da = a.date, let db = b.date else { return nil }
            let pa = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: da)
            let pb = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: db)
            guard pa.day == pb.day, pa.hour == pb.hour, pa.minute == pb.minute, pa.second == pb.second else { return nil }
            return ((pb.year ?? 0) - (pa.year ?? 0)) * 12 + (pb.month ?? 0) - (pa.month ?? 0)
        }
        let months = monthSteps.compactMap { $0 }.filter { $0 > 0 }
        if months.count * 2 > monthSteps.count {
            let step = Int(mostCommon(months.map(Double.init)))
            return step % 12 == 0 ? Frequency(unit: .year, multiple: Double(step / 12)) : Frequency(unit: .month, multiple: Double(step))
        }
        let step = mostCommon(zip(times, times.dropFirst()).map { $1.value - $0.value })
        for (unit, length) in [(Unit.week, 604_800.0), (.day, 86_400), (.hour, 3600), (.minute, 60)] {
            let ratio = step / length
            if ratio >= 1, abs(ratio - ratio.rounded()) < 1e-9 { return Frequency(unit: unit, multiple: ratio.rounded()) }
        }
        return Frequency(unit: .seconds, multiple: step)
    }

    private static func mostCommon(_ values: [Double]) -> Double {
        var counts: [Double: Int] = [:]
        for v in values { counts[v, default: 0] += 1 }
        return counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? 1
    }
}
