import Foundation
import SequentTensor

/// What to do with a missing value (an empty field, `NA`, `NaN`, `null`, `?`).
public enum MissingValuePolicy: String, Sendable, Codable, CaseIterable {
    /// Linear interpolation between the nearest values before and after; the ends take the
    /// nearest value.
    case interpolate
    /// The last value before it (the first rows take the first value).
    case ffill
    /// Drop the row.
    case drop
    /// Refuse the file, naming the line.
    case error
}

/// The columns of a CSV file that a forecast uses: a time axis, one or more target series,
/// covariate series; read, checked, sorted and with missing values filled, with an account
/// of everything done to them.
///
///     let table = try SeriesTable.read(URL(fileURLWithPath: "airpassengers.csv"),
///                                      timeColumn: "month", columns: ["passengers"])
///     table.frequency.description   // "monthly"
///     table.columns[0].values.count // 144
public struct SeriesTable: Sendable {
    /// One numeric column.
    public struct Column: Sendable, Equatable {
        public var name: String
        public var values: [Double]
    }

    /// The file read.
    public var path: String
    /// The time column's name; nil when rows are numbered instead.
    public var timeColumn: String?
    /// One timestamp per row, sorted, distinct (row numbers 0, 1, ... without a time column).
    public var times: [TimeStamp]
    /// The step between rows, inferred from the most common one.
    public var frequency: Frequency
    /// The series to forecast, in the order asked.
    public var columns: [Column]
    /// The covariates, in the order asked.
    public var covariates: [Column]
    /// The timestamps a regular series lacks: for each step between consecutive `times` that
    /// is a whole number k >= 2 of `frequency`'s steps, the k - 1 timestamps between, each
    /// with the index of the row it comes before. Steps that are not whole multiples
    /// (irregular timestamps) insert nothing; at most 10 times the rows (plus 1,000) are
    /// inserted, so a stray far-off timestamp cannot blow the table up.
    static func gapRows(_ times: [TimeStamp], frequency: Frequency) -> [(before: Int, time: TimeStamp)] {
        var rows: [(before: Int, time: TimeStamp)] = []
        let budget = 10 * times.count + 1000
        for i in 1..<max(times.count, 1) where !frequency.isOneStep(from: times[i - 1], to: times[i]) {
            var between: [TimeStamp] = []
            var next = frequency.advance(times[i - 1])
            while next.value < times[i].value, rows.count + between.count < budget {
                between.append(next)
                next = frequency.advance(next)
            }
            // A whole number of steps lands exactly on the next timestamp; anything else is irregular.
            guard abs(next.value - times[i].value) < 1e-6 * max(1, abs(times[i].value - times[i - 1].value)) else { continue }
            rows += between.map { (i, $0) }
        }
        return rows
    }

    /// What was done to the data (sorting, filling, dropping, irregular steps), one sentence each.
    public var notes: [String]
    /// Values filled, per column name.
    public var filledCounts: [String: Int]
    /// Rows whose step from the previous row is not the inferred frequency.
    public var irregularSteps: Int

    /// Rows.
    public var count: Int { times.count }

    /// Reads `columns` (and `covariates`) of the CSV file at `url` against `timeColumn`.
    ///
    /// - Parameters:
    ///   - timeColumn: the column of dates, date-times or numbers; nil numbers the rows.
    ///   - columns: at least one column to forecast.
    ///   - covariates: further numeric columns the model may read.
    ///   - missing: the missing-value policy.
    /// - Throws: `SequentError` naming the file, line and value: a column that is not there
    ///   (with the columns it has), text in a numeric column, a timestamp that does not
    ///   parse, duplicate timestamps, a column with no value at all, a missing value under
    ///   `.error`.
    public static func read(
        _ url: URL, timeColumn: String?, columns: [String], covariates: [String] = [],
        missing: MissingValuePolicy = .interpolate
    ) throws -> SeriesTable {
        try make(from: try CSVTable.read(url), timeColumn: timeColumn, columns: columns, covariates: covariates, missing: missing)
    }

    /// `read` on an already parsed table.
    public static func make(
        from table: CSVTable, timeColumn: String?, columns: [String], covariates: [String] = [],
        missing: MissingValuePolicy = .interpolate
    ) throws -> SeriesTable {
        let path = table.path
        guard !columns.isEmpty else { throw SequentError.invalidArgument("--column", "name at least one column to forecast") }
        let targetIndices = try columns.map { try table.columnIndex($0, flag: "--column") }
        let covariateIndices = try covariates.map { try table.columnIndex($0, flag: "--covariates") }
        let timeIndex = try timeColumn.map { try table.columnIndex($0, flag: "--time-column") }
        guard !table.rows.isEmpty else { throw SequentError.malformedFile(path, "has a header but no data rows") }
        var notes: [String] = []

        // Timestamps.
        var times: [TimeStamp] = []
        if let timeIndex, let timeColumn {
            var kind: TimeStamp.Kind?
            for row in table.rows {
                let text = row.fields[timeIndex]
                guard let time = TimeStamp.parse(text) else {
                    throw SequentError.malformedFile(
                        path, "line \(row.line): '\(text)' in the time column '\(timeColumn)' is not a date (ISO 8601, YYYY-MM, YYYYMMDD) or a number")
                }
                if let kind, kind != time.kind {
                    throw SequentError.malformedFile(path, "line \(row.line): '\(text)' in '\(timeColumn)' is a \(time.kind.rawValue), but earlier rows hold \(kind.rawValue)s")
                }
                kind = time.kind
                times.append(time)
            }
        } else {
            times = table.rows.indices.map { TimeStamp(kind: .number, value: Double($0)) }
        }

        // Numbers, nil where missing.
        let missingMarks: Set<String> = ["", "na", "n/a", "nan", "null", "none", "?", "-"]
        func numbers(_ index: Int) throws -> [Double?] {
            try table.rows.map { row in
                let text = row.fields[index]
                if missingMarks.contains(text.lowercased()) { return nil }
                guard let value = Double(text) ?? Double(text.replacingOccurrences(of: "_", with: "")) else {
                    throw SequentError.malformedFile(path, "line \(row.line): '\(text)' in column '\(table.header[index])' is not a number")
                }
                guard value.isFinite else {
                    throw SequentError.malformedFile(path, "line \(row.line): '\(text)' in column '\(table.header[index])' is not finite")
                }
                return value
            }
        }
        let used = targetIndices + covariateIndices
        var raw = try used.map(numbers)
        var lines = table.rows.map(\.line)
        for (k, index) in used.enumerated() where raw[k].allSatisfy({ $0 == nil }) {
            throw SequentError.malformedFile(path, "column '\(table.header[index])' has no values at all (every row is empty or NA)")
        }

        // Sort by time, then refuse duplicates.
        if timeColumn != nil {
            let order = times.indices.sorted { times[$0] < times[$1] || (times[$0] == times[$1] && $0 < $1) }
            if order != Array(times.indices) {
                notes.append("the rows were not in time order: sorted by '\(timeColumn!)'")
                times = order.map { times[$0] }
                lines = order.map { lines[$0] }
                raw = raw.map { column in order.map { column[$0] } }
            }
            for i in 1..<max(times.count, 1) where times[i] == times[i - 1] {
                throw SequentError.malformedFile(
                    path, "lines \(lines[i - 1]) and \(lines[i]): the same timestamp '\(table.rows.first { $0.line == lines[i] }?.fields[timeIndex!] ?? "")' twice in '\(timeColumn!)'; aggregate or remove the duplicate")
            }
            // A timestamp missing from a regular series (a gap) becomes a row of missing values,
            // which --missing then fills (or drops, or refuses) like any other.
            let gaps = Self.gapRows(times, frequency: Frequency.infer(from: times))
            if !gaps.isEmpty {
                var (newTimes, newLines, newRaw) = ([TimeStamp](), [Int](), [[Double?]](repeating: [], count: raw.count))
                var gapIndex = 0
                for i in times.indices {
                    while gapIndex < gaps.count, gaps[gapIndex].before == i {
                        newTimes.append(gaps[gapIndex].time)
                        newLines.append(-lines[i])  // no line of its own: the gap before this line
                        for k in raw.indices { newRaw[k].append(nil) }
                        gapIndex += 1
                    }
                    newTimes.append(times[i])
                    newLines.append(lines[i])
                    for k in raw.indices { newRaw[k].append(raw[k][i]) }
                }
                (times, lines, raw) = (newTimes, newLines, newRaw)
                notes.append("inserted \(gaps.count) row\(gaps.count == 1 ? "" : "s") for timestamps missing from the \(Frequency.infer(from: times)) series (gaps), their values missing")
            }
        }

        // Missing values.
        var filled: [String: Int] = [:]
        let names = used.map { table.header[$0] }
        switch missing {
        case .error:
            for (k, column) in raw.enumerated() {
                if let i = column.firstIndex(where: { $0 == nil }) {
                    let place = lines[i] > 0 ? "line \(lines[i]):" : "before line \(-lines[i]): no row for \(times[i].formatted(for: Frequency.infer(from: times))) (a gap), so"
                    throw SequentError.malformedFile(path, "\(place) no value in column '\(names[k])' (--missing error); use --missing interpolate|ffill|drop")
                }
            }
        case .drop:
            let keep = times.indices.filter { i in raw.allSatisfy { $0[i] != nil } }
            if keep.count < times.count {
                notes.append("dropped \(times.count - keep.count) rows with a missing value (--missing drop)")
                times = keep.map { times[$0] }
                raw = raw.map { column in keep.map { column[$0] } }
            }
        case .interpolate, .ffill:
            for k in raw.indices {
                let gaps = raw[k].filter { $0 == nil }.count
                guard gaps > 0 else { continue }
                raw[k] = missing == .interpolate ? interpolated(raw[k], times: times) : forwardFilled(raw[k])
                filled[names[k]] = gaps
                notes.append("filled \(gaps) missing value\(gaps == 1 ? "" : "s") in '\(names[k])' (--missing \(missing.rawValue))")
            }
        }
        guard !times.isEmpty else { throw SequentError.malformedFile(path, "no row is left after dropping the rows with missing values") }
        let values = raw.map { $0.map { $0 ?? 0 } }

        // Frequency and irregular steps.
        let frequency = Frequency.infer(from: times)
        var irregular = 0
        for i in 1..<max(times.count, 1) where !frequency.isOneStep(from: times[i - 1], to: times[i]) { irregular += 1 }
        if irregular > 0 {
            notes.append("\(irregular) of \(times.count - 1) steps are not \(frequency) (gaps or irregular timestamps); the models treat rows as equally spaced")
        }
        let targetCount = targetIndices.count
        return SeriesTable(
            path: path, timeColumn: timeColumn, times: times, frequency: frequency,
            columns: (0..<targetCount).map { Column(name: names[$0], values: values[$0]) },
            covariates: (targetCount..<names.count).map { Column(name: names[$0], values: values[$0]) },
            notes: notes, filledCounts: filled, irregularSteps: irregular)
    }

    /// Linear interpolation in time between the nearest known values; the ends take the nearest.
    static func interpolated(_ values: [Double?], times: [TimeStamp]) -> [Double?] {
        let known = values.indices.filter { values[$0] != nil }
        guard let first = known.first, let last = known.last else { return values }
        var result = values
        for i in values.indices where values[i] == nil {
            if i < first { result[i] = values[first]; continue }
            if i > last { result[i] = values[last]; continue }
            let before = known.last { $0 < i }!, after = known.first { $0 > i }!
            let span = times[after].value - times[before].value
            let w = span > 0 ? (times[i].value - times[before].value) / span : 0.5
            result[i] = values[before]! + w * (values[after]! - values[before]!)
        }
        return result
    }

    /// Each missing value takes the last value before it; leading ones the first value.
    static func forwardFilled(_ values: [Double?]) -> [Double?] {
        var last = values.first { $0 != nil } ?? nil
        return values.map { value in
            if let value { last = value }
            return last
        }
    }

    /// The calendar features of `time`: month, weekday and hour each as the sine and cosine
    /// of its place in its cycle (month of year, day of week, hour of day, UTC; zeros for a
    /// numeric time axis), `year` as one value, the time as a number scaled by `yearScale`
    /// (0 without one).
    public static func calendarFeatures(_ kinds: [CalendarFeature], at time: TimeStamp, yearScale: YearScale? = nil) -> [Double] {
        let parts = time.calendarParts
        return kinds.flatMap { kind -> [Double] in
            let (position, period): (Double, Double)
            switch kind {
            case .year: return [yearScale?.scaled(time) ?? 0]
            case .month: (position, period) = (Double((parts?.month ?? 1) - 1), 12)
            case .weekday: (position, period) = (Double((parts?.weekday ?? 1) - 1), 7)
            case .hour: (position, period) = (Double(parts?.hour ?? 0), 24)
            }
            guard parts != nil else { return [0, 0] }
            let angle = 2 * Double.pi * position / period
            return [sin(angle), cos(angle)]
        }
    }
}

/// A feature of the calendar that a model can read beside the series: the month, weekday
/// or hour (a sine and a cosine each), or the year (the time as a number, a trend).
public enum CalendarFeature: String, Sendable, Codable, CaseIterable {
    case month, weekday, hour, year

    /// The values it adds to a time step.
    public var width: Int { self == .year ? 1 : 2 }
}

/// The `year` calendar feature's scaling: the time as a number (`TimeStamp.years`) mapped
/// linearly so that the first and last times of a training part become 0 and 1; later times
/// extrapolate the same line (above 1), so no value after the training part is read.
public struct YearScale: Sendable, Equatable, Codable {
    /// `TimeStamp.years` of the first and last times it was fitted on.
    public var first: Double
    public var last: Double

    /// The scale of `times` (the training part's), from its first and last time.
    public init?(fittedOn times: some Collection<TimeStamp>) {
        guard let a = times.first, let b = times.max() else { return nil }
        first = a.years
        last = b.years
    }

    public init(first: Double, last: Double) {
        self.first = first
        self.last = last
    }

    /// (years(t) - first) / (last - first); 0 when the part spans no time.
    public func scaled(_ time: TimeStamp) -> Double {
        last > first ? (time.years - first) / (last - first) : 0
    }
}
