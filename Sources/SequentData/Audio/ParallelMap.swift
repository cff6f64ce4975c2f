import Foundation
import SequentTensor

/// Work on independent items spread over `Parallelism.threadCount` threads, each thread with
/// its own scratch state (an FFT plan, buffers): item i goes to thread i mod threads.
public enum ParallelMap {
    /// `[body(&state, i) for i in 0..<count]`, where each thread's state comes from `makeState`.
    public static func map<State, Result>(
        count: Int, makeState: @Sendable () -> State, _ body: @Sendable (inout State, Int) -> Result
    ) -> [Result] {
        let threads = max(1, min(Parallelism.threadCount, count))
        let results = ResultSlots<Result>(count: count)
        DispatchQueue.concurrentPerform(iterations: threads) { part in
            var state = makeState()
            var mine: [(Int, Result)] = []
            for i in stride(from: part, to: count, by: threads) { mine.append((i, body(&state, i))) }
            results.store(mine)
        }
        return results.values.map { $0! }
    }
}

/// The results of a parallel map, filled under a lock.
private final class ResultSlots<Result>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Result?]

    init(count: Int) { values = [Result?](repeating: nil, count: count) }

    func store(_ items: [(Int, Result)]) {
        lock.lock()
        for (i, value) in items { values[i] = value }
        lock.unlock()
    }
}
