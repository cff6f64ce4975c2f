/// What a window-to-forecast model reads: the rows of its input sequence, F features each.
///
/// The window that ends before origin o has one row for each time t in o - W ..< o:
///
///     [u_t, (1), c_1(t) ... c_K(t), calendar(t + lead)]          lead = 1 with `calendarAhead`, else 0
///
/// and, with `futureSteps` S > 0 (the direct strategy with future calendar covariates), S more
/// rows for the times s in o ..< o + S, whose series and covariate values are not known yet:
///
///     [0, (0), 0 ... 0, calendar(s + 1)]
///
/// The (1)/(0) feature, present only when S > 0, marks the rows whose value is known. With
/// `calendarAhead` each row carries the calendar of the step predicted after it, as Darts'
/// RNNModel reads its future covariates (the target at t with the covariates at t + 1): the
/// last window row holds the calendar of the first step forecast (o), and the S future rows
/// those of o + 1 ... o + S; a direct model of horizon H (S = H - 1) reads all H. Calendars
/// are functions of the timestamps alone (known in advance); the year is scaled by the
/// training part's times (`YearScale`), so no value after it is read.
///
/// W = window, K = covariates, S = future steps, F = features per row.
public struct ForecastWindow: Sendable, Equatable {
    public var window: Int
    public var covariateCount: Int
    public var calendar: [CalendarFeature]
    /// Whether each row carries the calendar of the step after it (false: its own time's, as
    /// folders written before future calendars existed read it).
    public var calendarAhead: Bool
    public var futureSteps: Int
    public var yearScale: YearScale?

    public init(window: Int, covariateCount: Int, calendar: [CalendarFeature], calendarAhead: Bool, futureSteps: Int = 0, yearScale: YearScale? = nil) {
        self.window = window
        self.covariateCount = covariateCount
        self.calendar = calendar
        self.calendarAhead = calendarAhead
        self.futureSteps = futureSteps
        self.yearScale = yearScale
    }

    /// F, the values of a row.
    public var featureCount: Int { 1 + (futureSteps > 0 ? 1 : 0) + covariateCount + calendar.reduce(0) { $0 + $1.width } }
    /// The rows of the sequence, W + S.
    public var length: Int { window + futureSteps }

    /// Appends the length x F values of the sequence that ends before `end`, row by row.
    ///
    /// - Parameters:
    ///   - values: the scaled series u (at least `end` values; a recursive forecast's own
    ///     steps appended beyond the data).
    ///   - covariates: scaled covariates, [covariate][t]; held at their last value beyond the data.
    ///   - time: the timestamp of row t (also beyond the data's end).
    public func append(to scalars: inout [Float], values: [Double], end: Int, covariates: [[Double]], time: (Int) -> TimeStamp) {
        let lead = calendarAhead ? 1 : 0
        for t in (end - window)..<(end + futureSteps) {
            let known = t < end
            scalars.append(known ? Float(values[t]) : 0)
            if futureSteps > 0 { scalars.append(known ? 1 : 0) }
            for column in covariates {
                scalars.append(known ? Float(column[min(t, column.count - 1)]) : 0)
            }
            for value in SeriesTable.calendarFeatures(calendar, at: time(t + lead), yearScale: yearScale) {
                scalars.append(Float(value))
            }
        }
    }
}
