import Foundation
import XCTest

/// `sequent demo`, run as the user runs it (the built binary in a child process): the
/// hidden size and cell of the command line are those of the model it trains, and a flag
/// out of range is a clear error.
final class DemoTests: XCTestCase {
    func testTrainsTheModelItsFlagsName() throws {
        let run = try BuiltTool.run(["demo", "--steps", "3", "--hidden", "12", "--cell", "gru", "--threads", "1", "--quick"],
                                    timeout: 120)
        XCTAssertEqual(run.status, 0, run.stderr)
        // V = 13 symbols (digits, "+", "=", ";"), E = 32.
        XCTAssertTrue(run.stdout.contains("model: Embedding(13, 32) -> GRU(32, 12) -> Linear(12, 13)"), run.stdout)
        XCTAssertTrue(run.stdout.contains("trained 3 steps"), run.stdout)
    }

    func testHiddenSizeOutOfRangeIsAClearError() throws {
        for hidden in ["0", "5000"] {
            assertClearError(try BuiltTool.run(["demo", "--hidden", hidden]), mentions: ["--hidden must be in 1...4096"], hidden)
        }
    }
}
