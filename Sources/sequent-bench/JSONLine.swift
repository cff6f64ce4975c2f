import SequentTrain
#if canImport(Glibc)
import Glibc
#endif

/// One result line: keys in order, written like Python's `json.dumps` (`{"a": 1, "b": 2.5}`)
/// so the lines of both benchmarks read and parse alike.
struct JSONLine: ExpressibleByDictionaryLiteral {
    enum Value {
        case string(String)
        case int(Int)
        /// A number rounded to `digits` decimals, as `round(x, digits)` in Python.
        case double(Double, digits: Int)
    }

    var fields: [(key: String, value: Value)]

    init(dictionaryLiteral elements: (String, Value)...) {
        fields = elements.map { (key: $0.0, value: $0.1) }
    }

    /// The line as JSON text.
    var text: String {
        let body = fields.map { "\(Self.quoted($0.key)): \(Self.render($0.value))" }
        return "{" + body.joined(separator: ", ") + "}"
    }

    /// Prints the line and flushes stdout, so a reader of a pipe sees each result at once.
    func emit() {
        print(text)
        fflush(nil)  // nil: every output stream (stdout is a C global Swift 6 will not touch)
    }

    private static func render(_ value: Value) -> String {
        switch value {
        case .string(let string): return quoted(string)
        case .int(let int): return String(int)
        case .double(let double, let digits):
            guard double.isFinite else { return "null" }
            var scale = 1.0
            for _ in 0..<digits { scale *= 10 }
            return String((double * scale).rounded() / scale)
        }
    }

    private static func quoted(_ string: String) -> String { JSONText.quoted(string) }
}
