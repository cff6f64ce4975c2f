@testable import SequentTrain
import XCTest

/// The progress display as a user sees it: a bar redrawn in place on a terminal, log lines
/// elsewhere.
final class ProgressPrinterTests: XCTestCase {
    func testTerminalRedrawsOneLineInPlaceAndThrottles() {
        var output = ""
        var printer = ProgressPrinter(isTerminal: true, minimumRedrawInterval: 0.1, barWidth: 10) { output += $0 }
        printer.stepEnded(step: 1, totalSteps: 4, loss: 2.5, learningRate: 0.001, tokensPerSecond: 1234.4, elapsed: 0.5, stepsThisRun: 1)
        XCTAssertEqual(output, "\rstep 1/4 [##........]  25% loss 2.5000 lr 1.00e-03 1234 tok/s ETA 0:02\u{1B}[K")
        printer.stepEnded(step: 2, totalSteps: 4, loss: 2.4, learningRate: 0.001, tokensPerSecond: 1000, elapsed: 0.55, stepsThisRun: 2)
        XCTAssertFalse(output.contains("step 2/4"), "redrawn within 0.1 s")
        printer.evaluated(step: 2, metrics: ["loss": 2.25, "accuracy": 0.5])
        XCTAssertTrue(output.hasSuffix("\r\u{1B}[Keval step 2: accuracy 0.5000 loss 2.2500\n"), output.debugDescription)
        printer.stepEnded(step: 3, totalSteps: 4, loss: 2.3, learningRate: 0.001, tokensPerSecond: 1000, elapsed: 0.6, stepsThisRun: 3)
        XCTAssertTrue(output.hasSuffix("\rstep 3/4 [#######...]  75% loss 2.3000 lr 1.00e-03 1000 tok/s ETA 0:00\u{1B}[K"), "after a message the bar is drawn at once")
        printer.stepEnded(step: 4, totalSteps: 4, loss: 2.2, learningRate: 0.001, tokensPerSecond: 1000, elapsed: 0.61, stepsThisRun: 4)
        XCTAssertTrue(output.hasSuffix("step 4/4 [##########] 100% loss 2.2000 lr 1.00e-03 1000 tok/s ETA 0:00\u{1B}[K\n"), "the last step is always drawn and ends the line")
        XCTAssertEqual(output.filter { $0 == "\n" }.count, 2)
        printer.finish()
        XCTAssertEqual(output.filter { $0 == "\n" }.count, 2, "nothing left to end")
    }

    func testPlainOutputWritesALineEveryIntervalAndTheFirstAndLast() {
        var lines: [String] = []
        var printer = ProgressPrinter(isTerminal: false, logInterval: 10) { lines.append($0) }
        for step in 41...65 {
            printer.stepEnded(step: step, totalSteps: 65, loss: 1, learningRate: 0.01, tokensPerSecond: 500,
                              elapsed: Double(step - 40), stepsThisRun: step - 40)
        }
        XCTAssertEqual(lines.map { $0.split(separator: " ")[1] }, ["41/65", "50/65", "60/65", "65/65"])
        XCTAssertEqual(lines[1], "step 50/65 loss 1.0000 lr 1.000e-02 tokens/s 500 elapsed 10.0s ETA 0:15\n")
        XCTAssertTrue(lines.allSatisfy { !$0.contains("\r") && $0.hasSuffix("\n") })
        printer.message("saved checkpoint-65")
        XCTAssertEqual(lines.last, "saved checkpoint-65\n")
    }

    func testFormatting() {
        XCTAssertEqual(ProgressPrinter.clock(3723), "1:02:03")
        XCTAssertEqual(ProgressPrinter.clock(59.6), "1:00")
        XCTAssertEqual(ProgressPrinter.clock(.infinity), "--:--")
        XCTAssertEqual(ProgressPrinter.fixed(Float.nan, 4), "nan")
        XCTAssertEqual(ProgressPrinter.padded(7, 3), "  7")
    }
}
