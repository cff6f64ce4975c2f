import SequentTensor

/// One line of a `MetricsLog`: the named scalars of one training step with when they were taken.
///
/// On disk it is one flat JSON object: the three fixed keys first, then the scalars sorted by
/// name, so that `pandas.read_json(path, lines=True)` gives one column per metric.
///
///     {"step":120,"elapsed_s":31.5,"unix_time":1718000000.25,"learning_rate":0.001,"loss":2.31}
///
/// Non-finite values are written `NaN`, `Infinity` and `-Infinity`, as Python's `json` module
/// writes and reads them: a diverged loss stays visible instead of turning into `null`.
public struct MetricsRecord: Equatable, Sendable {
    /// The keys of the fixed fields; scalars may not use them.
    public static let reservedKeys: Set<String> = ["step", "elapsed_s", "unix_time"]

    /// The optimizer step the scalars belong to.
    public var step: Int
    /// Seconds of the run so far (key `elapsed_s`): monotonic, and continued across resumes.
    public var elapsedSeconds: Double
    /// When the record was taken, in seconds since 1970 (key `unix_time`).
    public var unixTime: Double
    /// The named values: `loss`, `learning_rate`, `tokens_per_s`, `eval/accuracy`, ...
    public var scalars: [String: Double]

    /// A record of `scalars` at `step`.
    public init(step: Int, elapsedSeconds: Double, unixTime: Double, scalars: [String: Double]) {
        self.step = step
        self.elapsedSeconds = elapsedSeconds
        self.unixTime = unixTime
        self.scalars = scalars
    }

    /// Checks that every scalar has a usable name.
    func validate(_ context: String) throws(SequentError) {
        for name in scalars.keys {
            if name.isEmpty { throw SequentError.invalidArgument(context, "a scalar has an empty name") }
            if MetricsRecord.reservedKeys.contains(name) {
                throw SequentError.invalidArgument(
                    context, "scalar name \"\(name)\" is reserved (step, elapsed_s and unix_time are written by the log)")
            }
        }
    }

    /// The record as one JSON line, newline included.
    func jsonLine() -> [UInt8] {
        var line = "{\"step\":\(step),\"elapsed_s\":\(JSONLine.number(elapsedSeconds)),\"unix_time\":\(JSONLine.number(unixTime))"
        for name in scalars.keys.sorted() {
            line += ",\(JSONLine.string(name)):\(JSONLine.number(scalars[name]!))"
        }
        line += "}\n"
        return Array(line.utf8)
    }

    /// Parses one line (without its newline) written by `jsonLine()` or by another tool
    /// writing the same flat object; string, boolean and null values are ignored.
    ///
    /// - Parameter location: `path:line`, for error messages.
    init(jsonLine bytes: ArraySlice<UInt8>, location: String) throws(SequentError) {
        var parser = JSONLine(bytes: bytes, location: location)
        let fields = try parser.parseFlatObject()
        guard let stepValue = fields["step"] else { throw parser.error("no \"step\"") }
        guard let step = Int(exactly: stepValue) else { throw parser.error("step \(stepValue) is not an integer") }
        guard let elapsed = fields["elapsed_s"] else { throw parser.error("no \"elapsed_s\"") }
        guard let unixTime = fields["unix_time"] else { throw parser.error("no \"unix_time\"") }
        var scalars = fields
        for key in MetricsRecord.reservedKeys { scalars[key] = nil }
        self.init(step: step, elapsedSeconds: elapsed, unixTime: unixTime, scalars: scalars)
    }
}

/// Writing and reading the flat JSON objects of a metrics log.
struct JSONLine {
    /// The line being parsed.
    let bytes: ArraySlice<UInt8>
    /// `path:line`, for error messages.
    let location: String
    /// The next byte to read.
    var index: Int

    init(bytes: ArraySlice<UInt8>, location: String) {
        self.bytes = bytes
        self.location = location
        self.index = bytes.startIndex
    }

    // MARK: Writing

    /// A Double in JSON, shortest form that reads back exactly; NaN and infinities as Python writes them.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        return value.description
    }

    /// A JSON string literal.
    static func string(_ text: String) -> String { JSONText.quoted(text) }

    // MARK: Reading

    /// An error at the current position.
    func error(_ detail: String) -> SequentError {
        SequentError(.malformedFile, "\(location): \(detail)")
    }

    /// Parses `{"key": number, ...}`; keys whose value is a string, boolean or null are left out.
    mutating func parseFlatObject() throws(SequentError) -> [String: Double] {
        var fields: [String: Double] = [:]
        skipSpace()
        try expect(UInt8(ascii: "{"))
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                skipSpace()
                let key = try parseString()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                if let value = try parseValue() {
                    if fields[key] != nil { throw error("key \"\(key)\" appears twice") }
                    fields[key] = value
                }
                skipSpace()
                guard let next = peek() else { throw error("unterminated object") }
                index += 1
                if next == UInt8(ascii: "}") { break }
                if next != UInt8(ascii: ",") { throw error("expected ',' or '}' at column \(column)") }
            }
        }
        skipSpace()
        if index != bytes.endIndex { throw error("unexpected text after the object at column \(column)") }
        return fields
    }

    /// 1-based column of the current position.
    private var column: Int { index - bytes.startIndex + 1 }

    private func peek() -> UInt8? { index < bytes.endIndex ? bytes[index] : nil }

    private mutating func skipSpace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A { index += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws(SequentError) {
        guard peek() == byte else {
            throw error("expected '\(Character(Unicode.Scalar(byte)))' at column \(column)")
        }
        index += 1
    }

    private mutating func consume(_ word: String) -> Bool {
        let utf8 = Array(word.utf8)
        guard bytes.endIndex - index >= utf8.count, Array(bytes[index..<(index + utf8.count)]) == utf8 else { return false }
        index += utf8.count
        return true
    }

    /// A number, `NaN`/`Infinity`/`-Infinity`, or nil for a string, boolean or null.
    private mutating func parseValue() throws(SequentError) -> Double? {
        guard let first = peek() else { throw error("missing value") }
        switch first {
        case UInt8(ascii: "\""): _ = try parseString(); return nil
        case UInt8(ascii: "n"): if consume("null") { return nil }
        case UInt8(ascii: "t"): if consume("true") { return nil }
        case UInt8(ascii: "f"): if consume("false") { return nil }
        case UInt8(ascii: "N"): if consume("NaN") { return .nan }
        case UInt8(ascii: "I"): if consume("Infinity") { return .infinity }
        case UInt8(ascii: "-") where consume("-Infinity"): return -.infinity
        case UInt8(ascii: "{"), UInt8(ascii: "["): throw error("nested objects and arrays are not metrics (column \(column))")
        default: break
        }
        let start = index
        while let byte = peek(), (0x30...0x39).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            index += 1
        }
        guard index > start, let value = Double(String(decoding: bytes[start..<index], as: UTF8.self)) else {
            throw error("invalid value at column \(start - bytes.startIndex + 1)")
        }
        return value
    }

    /// A string literal with JSON escapes.
    private mutating func parseString() throws(SequentError) -> String {
        try expect(UInt8(ascii: "\""))
        var scalars = String.UnicodeScalarView()
        var pendingHighSurrogate: UInt32?
        var runStart = index
        func flushRun(_ end: Int) { scalars.append(contentsOf: String(decoding: bytes[runStart..<end], as: UTF8.self).unicodeScalars) }
        while true {
            guard let byte = peek() else { throw error("unterminated string") }
            if byte == UInt8(ascii: "\"") {
                flushRun(index)
                index += 1
                return String(scalars)
            }
            if byte != UInt8(ascii: "\\") { index += 1; continue }
            flushRun(index)
            index += 1
            guard let escape = peek() else { throw error("unterminated string") }
            index += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                guard bytes.endIndex - index >= 4,
                      let code = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16) else {
                    throw error("invalid \\u escape at column \(column)")
                }
                index += 4
                if (0xD800..<0xDC00).contains(code) {
                    pendingHighSurrogate = code
                } else if (0xDC00..<0xE000).contains(code), let high = pendingHighSurrogate {
                    scalars.append(Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00))!)
                    pendingHighSurrogate = nil
                } else if let scalar = Unicode.Scalar(code) {
                    scalars.append(scalar)
                } else {
                    throw error("invalid \\u escape at column \(column)")
                }
            default:
                throw error("invalid escape at column \(column - 1)")
            }
            runStart = index
        }
    }
}
