import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a training run shows while it runs: a progress bar redrawn in place on a terminal,
/// plain log lines elsewhere (a file, a pipe, a CI log).
///
/// On a terminal one line is rewritten with `\r` (and cleared to its end) after each step:
///
///     step   120/1000 [###.........................]  12% loss 2.3104 lr 1.00e-03 5321 tok/s ETA 0:01:23
///
/// At most every `minimumRedrawInterval` seconds, and always for the last step. Elsewhere a
/// line is written every `logInterval` steps (and for the first and last):
///
///     step 120/1000 loss 2.3104 lr 1.000e-03 tokens/s 5321 elapsed 14.2s ETA 0:01:23
///
/// Evaluations and messages are lines of their own in both cases (on a terminal the bar is
/// cleared first and redrawn at the next step). The sink and the terminal flag are injected,
/// so tests see exactly what a user would.
public struct ProgressPrinter {
    /// Whether the output is a terminal (in-place bar) or not (log lines).
    public let isTerminal: Bool
    /// Steps between two log lines when not on a terminal.
    public let logInterval: Int
    /// The shortest time between two redraws of the bar, in seconds.
    public let minimumRedrawInterval: Double
    /// Characters of the bar between the brackets.
    public let barWidth: Int

    /// Where the text goes (written as given: no newline is added).
    private let write: (String) -> Void
    /// When the bar was last drawn, nil before the first.
    private var lastDraw: Double?
    /// Whether the bar is on screen, unterminated.
    private var barShown = false

    /// A printer writing to `write`.
    ///
    /// - Parameters:
    ///   - isTerminal: draw a bar in place (true) or write log lines (false).
    ///   - logInterval: steps between log lines when not on a terminal, >= 1.
    ///   - minimumRedrawInterval: seconds between redraws of the bar.
    ///   - barWidth: characters of the bar.
    ///   - write: receives the text.
    public init(
        isTerminal: Bool, logInterval: Int = 10, minimumRedrawInterval: Double = 0.1, barWidth: Int = 30,
        write: @escaping (String) -> Void
    ) {
        self.isTerminal = isTerminal
        self.logInterval = max(1, logInterval)
        self.minimumRedrawInterval = minimumRedrawInterval
        self.barWidth = max(1, barWidth)
        self.write = write
    }

    /// A printer to standard output: a bar if it is a terminal (`isatty`), lines otherwise.
    public static func standardOutput(logInterval: Int = 10) -> ProgressPrinter {
        ProgressPrinter(isTerminal: isatty(STDOUT_FILENO) == 1, logInterval: logInterval, write: writeToStandardOutput)
    }

    /// Shows the state after a step.
    ///
    /// - Parameters:
    ///   - step: steps done; `totalSteps` is the last.
    ///   - tokensPerSecond: the recent throughput.
    ///   - elapsed: seconds since this run (or resumption) began; `stepsThisRun` steps
    ///     took them, which gives the ETA.
    public mutating func stepEnded(
        step: Int, totalSteps: Int, loss: Float, learningRate: Float, tokensPerSecond: Double,
        elapsed: Double, stepsThisRun: Int
    ) {
        let last = step >= totalSteps
        let eta = stepsThisRun > 0 ? elapsed / Double(stepsThisRun) * Double(max(0, totalSteps - step)) : nil
        if isTerminal {
            if !last, let lastDraw, elapsed - lastDraw < minimumRedrawInterval { return }
            lastDraw = elapsed
            let fraction = totalSteps > 0 ? min(1, Double(step) / Double(totalSteps)) : 1
            let filled = Int((fraction * Double(barWidth)).rounded(.down))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled)
            let digits = String(totalSteps).count
            let text = "step \(Self.padded(step, digits))/\(totalSteps) [\(bar)] \(Self.padded(Int(fraction * 100), 3))%"
                + " loss \(Self.fixed(loss, 4)) lr \(Self.scientific(learningRate, 2)) \(Self.fixed(tokensPerSecond, 0)) tok/s"
                + " ETA \(eta.map(Self.clock) ?? "--:--")"
            write("\r" + text + "\u{1B}[K" + (last ? "\n" : ""))
            barShown = !last
        } else {
            guard last || step % logInterval == 0 || stepsThisRun == 1 else { return }
            write("step \(step)/\(totalSteps) loss \(Self.fixed(loss, 4)) lr \(Self.scientific(learningRate, 3))"
                + " tokens/s \(Self.fixed(tokensPerSecond, 0)) elapsed \(Self.fixed(elapsed, 1))s"
                + " ETA \(eta.map(Self.clock) ?? "--:--")\n")
        }
    }

    /// Shows an evaluation's metrics on a line of their own.
    public mutating func evaluated(step: Int, metrics: [String: Double]) {
        let values = metrics.keys.sorted().map { "\($0) \(Self.fixed(metrics[$0]!, 4))" }
        message("eval step \(step): " + values.joined(separator: " "))
    }

    /// Shows a line of text (a saved checkpoint, an interruption, a warning).
    public mutating func message(_ text: String) {
        if barShown {
            write("\r\u{1B}[K")
            barShown = false
            lastDraw = nil
        }
        write(text + "\n")
    }

    /// Ends the bar's line if one is on screen.
    public mutating func finish() {
        if barShown {
            write("\n")
            barShown = false
        }
    }

    // MARK: - Formatting

    /// `value` right-aligned in `width` characters.
    static func padded(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }

    /// `value` with `decimals` digits after the point (nan, inf as such).
    static func fixed<Value: BinaryFloatingPoint>(_ value: Value, _ decimals: Int) -> String {
        let number = Double(value)
        guard number.isFinite else { return number.isNaN ? "nan" : (number < 0 ? "-inf" : "inf") }
        return String(format: "%.\(decimals)f", number)
    }

    /// `value` as `1.00e-03`.
    static func scientific(_ value: Float, _ decimals: Int) -> String {
        String(format: "%.\(decimals)e", Double(value))
    }

    /// Seconds as `m:ss` or `h:mm:ss`.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let total = Int(seconds.rounded())
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        let twoDigits = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        return hours > 0 ? "\(hours):\(twoDigits(minutes)):\(twoDigits(secs))" : "\(minutes):\(twoDigits(secs))"
    }
}

/// Writes `text` to file descriptor 1 unbuffered, so a bar drawn with `\r` shows at once.
private func writeToStandardOutput(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        bytes = bytes.dropFirst(written)
    }
}
