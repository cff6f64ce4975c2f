import CDNNL
#if canImport(Glibc)
import Glibc
#endif

/// How many threads Sequent's kernels and oneDNN use, scoped to a task.
///
/// There is no global setting: `Parallelism.withThreads(_:_:)` sets the count for the code
/// it runs, and everything else uses all cores.
public enum Parallelism {
    @TaskLocal static var threadLimit: Int? = nil

    /// The number of cores of this machine.
    public static let coreCount: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// The thread count in force for the current task.
    public static var threadCount: Int { threadLimit ?? coreCount }

    /// Runs `body` with kernels and oneDNN limited to `threads` threads.
    public static func withThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        precondition(threads >= 1, "Parallelism.withThreads: thread count must be at least 1, got \(threads)")
        let previous = omp_get_max_threads()
        omp_set_num_threads(Int32(threads))
        defer { omp_set_num_threads(previous) }
        return try $threadLimit.withValue(threads, operation: body)
    }

    /// Runs `body(range)` over `0..<count` split into contiguous chunks, on up to
    /// `threadCount` threads when there is enough work (`count * costPerItem` large).
    @inline(__always)
    static func forEachChunk(count: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        let threads = threadCount
        let minimumWorkPerThread = 1 << 15
        let chunks = min(threads, count, max(1, count * costPerItem / minimumWorkPerThread))
        if chunks <= 1 || count < 2 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { escapable in
            var job = ChunkedJob(count: count, chunks: chunks, body: escapable)
            withUnsafeMutablePointer(to: &job) { pointer in
                // One OpenMP team (oneDNN's): each thread takes every n-th chunk.
                GOMP_parallel({ context in
                    let job = context!.assumingMemoryBound(to: ChunkedJob.self)
                    let (thread, team) = (Int(omp_get_thread_num()), Int(omp_get_num_threads()))
                    for chunk in stride(from: thread, to: job.pointee.chunks, by: team) {
                        let start = job.pointee.count * chunk / job.pointee.chunks
                        let end = job.pointee.count * (chunk + 1) / job.pointee.chunks
                        job.pointee.body(start..<end)
                    }
                }, pointer, UInt32(chunks), 0)
            }
        }
    }
}

/// The work `forEachChunk` hands to the OpenMP team.
private struct ChunkedJob {
    let count: Int
    let chunks: Int
    let body: (Range<Int>) -> Void
}

/// Carries a value that is safe to share by construction (disjoint writes) across threads.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
