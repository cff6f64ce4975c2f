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

    /// The most threads `withThreads` uses; larger requests are lowered to it.
    public static let maximumThreadCount = 1024

    /// How many blocks work is cut into wherever the cut changes the bits of a result
    /// (matrix products per block of rows, partial sums per block of a batch): fixed by the
    /// machine, never by the thread count in force, so that the same inputs give bitwise the
    /// same results on 1, 2 or N threads. Threads then take whole blocks.
    public static let splitCount: Int = min(coreCount, 64)

    /// A thread count a user asked for, checked: at least 1 and at most 4 times the cores
    /// (more only oversubscribes them); nil gives all cores.
    ///
    /// - Throws: `SequentError.invalidArgument` naming `--threads`, the range and the value.
    public static func checkedThreadCount(_ requested: Int?) throws(SequentError) -> Int {
        guard let requested else { return coreCount }
        let limit = 4 * coreCount
        guard requested >= 1, requested <= limit else {
            throw .invalidArgument("--threads", "must be in 1...\(limit) (this machine has \(coreCount) cores); got \(requested)")
        }
        return requested
    }

    /// Runs `body` with kernels and oneDNN limited to `threads` threads (at most
    /// `maximumThreadCount`). Results do not depend on `threads` (see `splitCount`).
    public static func withThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        precondition(threads >= 1, "Parallelism.withThreads: thread count must be at least 1, got \(threads)")
        let threads = min(threads, maximumThreadCount)
        let previous = omp_get_max_threads()
        omp_set_num_threads(Int32(threads))
        defer { omp_set_num_threads(previous) }
        return try $threadLimit.withValue(threads, operation: body)
    }

    /// Runs `body` with oneDNN's calls on the calling thread alone (outside a parallel
    /// region oneDNN would share a product out between the threads, in a way that changes
    /// its sums with their count).
    @inline(__always)
    static func onCallingThread<R>(_ body: () throws -> R) rethrows -> R {
        if omp_in_parallel() != 0 { return try body() }
        let previous = omp_get_max_threads()
        if previous == 1 { return try body() }
        omp_set_num_threads(1)
        defer { omp_set_num_threads(previous) }
        return try body()
    }

    /// Runs `body(range)` over `0..<count` split into contiguous chunks, on up to
    /// `threadCount` threads when there is enough work (`count * costPerItem` large) and no
    /// parallel region is running already (inside one, on the calling thread).
    @inline(__always)
    static func forEachChunk(count: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        let threads = threadCount
        let minimumWorkPerThread = 1 << 15
        let chunks = min(threads, count, max(1, count * costPerItem / minimumWorkPerThread))
        if chunks <= 1 || count < 2 || omp_in_parallel() != 0 {
            body(0..<count)
            return
        }
        // Each thread of the team takes every n-th chunk.
        forEachPhase(1, parts: chunks) { _, chunk in body((count * chunk / chunks)..<(count * (chunk + 1) / chunks)) }
    }
}

extension Parallelism {
    /// Runs `body(phase, part)` for every phase in order and every part of each phase, the
    /// parts of a phase spread over the OpenMP team: one fork and join for all phases, with
    /// a barrier between phases (a part of phase p + 1 may read what any part of phase p
    /// wrote). On the calling thread alone when there is one part or thread, or a parallel
    /// region is running already.
    static func forEachPhase(_ phases: Int, parts: Int, _ body: (_ phase: Int, _ part: Int) -> Void) {
        let threads = min(threadCount, parts)
        if threads <= 1 || omp_in_parallel() != 0 {
            for phase in 0..<phases {
                for part in 0..<parts { body(phase, part) }
            }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            var job = PhasedJob(phases: phases, parts: parts, body: escapable)
            withUnsafeMutablePointer(to: &job) { pointer in
                GOMP_parallel({ context in
                    let job = context!.assumingMemoryBound(to: PhasedJob.self)
                    let (thread, team) = (Int(omp_get_thread_num()), Int(omp_get_num_threads()))
                    for phase in 0..<job.pointee.phases {
                        if phase > 0 { GOMP_barrier() }
                        for part in stride(from: thread, to: job.pointee.parts, by: team) { job.pointee.body(phase, part) }
                    }
                }, pointer, UInt32(threads), 0)
            }
        }
    }

    /// Runs `body` with `signals` blocked on the calling thread and on every thread of the
    /// OpenMP team (threads the team starts meanwhile inherit the calling thread's mask), then
    /// gives each thread its previous mask back. A process-directed signal is then delivered
    /// to some other thread, never to one running a kernel.
    ///
    /// Why: oneDNN's JIT sgemm kernels (2.x, up to 3.11) point `rsp` into a heap buffer while
    /// they run; a signal frame the kernel pushes there corrupts the heap (oneDNN issue 4845,
    /// fixed upstream in 2026 by PR 4855, not in Debian's 2.6).
    public static func withSignalsBlocked<R>(_ signals: [Int32], _ body: () throws -> R) rethrows -> R {
        #if canImport(Glibc)
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        // The whole pool, not only the team in force: a thread outside it may run a kernel later.
        let team = max(threadCount, Int(omp_get_max_threads()))
        let previous = UnsafeMutableBufferPointer<sigset_t>.allocate(capacity: team)
        defer { previous.deallocate() }
        onEachThread(ofTeam: team) { [set] thread in
            withUnsafePointer(to: set) { _ = pthread_sigmask(SIG_BLOCK, $0, previous.baseAddress! + thread) }
        }
        defer { onEachThread(ofTeam: team) { thread in _ = pthread_sigmask(SIG_SETMASK, previous.baseAddress! + thread, nil) } }
        #endif
        return try body()
    }

    /// Runs `body` with subnormal Float results flushed to zero (and subnormal inputs read
    /// as zero) on the calling thread and on every thread of the OpenMP team (oneDNN's and
    /// Sequent's kernels), then restores the caller's mode on all of them.
    ///
    /// Networks whose gradients vanish produce values below 1.2e-38, on which x86 cores
    /// compute up to a hundred times slower; flushing changes only those values. Scoped,
    /// like every setting here. A no-op off x86-64 Linux.
    public static func withSubnormalsFlushedToZero<R>(_ body: () throws -> R) rethrows -> R {
        #if canImport(Glibc) && arch(x86_64)
        var saved = fenv_t()
        fegetenv(&saved)
        var flushing = saved
        flushing.__mxcsr |= 0x8040  // FTZ (bit 15) and DAZ (bit 6)
        onEachThread(ofTeam: threadCount) { [flushing] _ in withUnsafePointer(to: flushing) { _ = fesetenv($0) } }
        defer { onEachThread(ofTeam: threadCount) { [saved] _ in withUnsafePointer(to: saved) { _ = fesetenv($0) } } }
        #endif
        return try body()
    }

    /// Runs `body(thread)` once on each thread of an OpenMP team of `team` threads, all at
    /// once (thread 0 is the caller): for state each thread keeps for itself, such as its
    /// signal mask or floating-point mode. Inside a running parallel region, on the calling
    /// thread alone.
    private static func onEachThread(ofTeam team: Int, _ body: (_ thread: Int) -> Void) {
        if team <= 1 || omp_in_parallel() != 0 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { escapable in
            var job = PerThreadJob(body: escapable)
            withUnsafeMutablePointer(to: &job) { pointer in
                GOMP_parallel({ context in
                    context!.assumingMemoryBound(to: PerThreadJob.self).pointee.body(Int(omp_get_thread_num()))
                }, pointer, UInt32(team), 0)
            }
        }
    }
}

/// The work `onEachThread` hands to the OpenMP team.
private struct PerThreadJob {
    let body: (Int) -> Void
}

/// The work `forEachPhase` hands to the OpenMP team.
private struct PhasedJob {
    let phases: Int
    let parts: Int
    let body: (Int, Int) -> Void
}

/// Carries a value that is safe to share by construction (disjoint writes) across threads.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
