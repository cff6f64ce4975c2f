import SequentData
import SequentTensor
import XCTest

/// `ParallelMap`: every item once, in order, each thread with its own state.
final class ParallelMapTests: XCTestCase {
    func testResultsComeBackInOrderOnAnyThreadCount() {
        for threads in [1, 2, 3] {
            let squares = Parallelism.withThreads(threads) {
                ParallelMap.map(count: 37, makeState: { 0 }) { calls, i in
                    calls += 1
                    return i * i
                }
            }
            XCTAssertEqual(squares, (0..<37).map { $0 * $0 })
        }
        XCTAssertEqual(ParallelMap.map(count: 0, makeState: { 0 }) { _, i in i }, [])
    }
}
