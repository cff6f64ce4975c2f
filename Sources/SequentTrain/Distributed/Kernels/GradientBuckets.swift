import CMPILoader
import Foundation
import SequentTensor

/// The gradient buckets of a data-parallel step and the thread that reduces them while the
/// backward pass goes on (the pointer side of `Distributed.averageGradients`).
///
/// Each bucket is a buffer of floats that stays in place while its `MPI_Iallreduce` runs.
/// The main thread fills a bucket and `start`s it; the gradient thread starts the
/// non-blocking allreduce and drives every reduction in flight with `MPI_Test` until it
/// completes (Open MPI progresses a non-blocking collective only inside MPI calls, so
/// without this thread nothing would move while backward computes). The main thread
/// `waitAll`s before it reads the sums. MPI runs at `MPI_THREAD_SERIALIZED`: the main thread
/// calls MPI only when no bucket is in flight, so two threads never call it at once.
///
///     let buckets = GradientBuckets(sizes: [2_134_000, 1_188_000])
///     buckets.write(grad.scalars, bucket: 0, at: 0) ... buckets.start(bucket: 0)
///     try buckets.waitAll()
///     let summed = buckets.read(bucket: 0, at: 0, count: n, scale: 0.5)
final class GradientBuckets: @unchecked Sendable {
    /// Floats in each bucket.
    let sizes: [Int]
    private let buffers: [UnsafeMutableBufferPointer<Float>]

    // Shared with the gradient thread, under `condition`.
    private let condition = NSCondition()
    private var queued: [Int] = []
    private var startedCount = 0
    private var completedCount = 0
    private var failure: SequentError?
    private var closing = false
    private var running = false
    /// The uptimes (ns) at which the gradient thread started and completed each bucket of
    /// the current step's allreduces, in the order completed.
    private var intervals: [(started: UInt64, completed: UInt64)] = []

    /// Buckets of `sizes` floats; the gradient thread starts at once and sleeps until work comes.
    init(sizes: [Int]) {
        self.sizes = sizes
        buffers = sizes.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, $0)) }
        running = true
        let thread = Thread { [self] in reduceLoop() }
        thread.name = "sequent-allreduce"
        thread.start()
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
    }

    // MARK: - Main thread

    /// Copies `values` into `bucket` from float `offset` on.
    func write(_ values: [Float], bucket: Int, at offset: Int) {
        precondition(offset + values.count <= sizes[bucket], "GradientBuckets.write: past the end of bucket \(bucket)")
        _ = UnsafeMutableBufferPointer(rebasing: buffers[bucket][offset..<(offset + values.count)]).initialize(from: values)
    }

    /// Fills `count` floats of `bucket` from `offset` with zeros (a parameter without a gradient here).
    func writeZeros(count: Int, bucket: Int, at offset: Int) {
        UnsafeMutableBufferPointer(rebasing: buffers[bucket][offset..<(offset + count)]).initialize(repeating: 0)
    }

    /// `count` floats of `bucket` from `offset`, times `scale`.
    func read(bucket: Int, at offset: Int, count: Int, scale: Float) -> [Float] {
        buffers[bucket][offset..<(offset + count)].map { $0 * scale }
    }

    /// Hands `bucket` to the gradient thread, which starts its allreduce at once. Every rank
    /// must start the same buckets in the same order (MPI matches collectives by order).
    func start(bucket: Int) {
        condition.lock()
        queued.append(bucket)
        startedCount += 1
        condition.signal()
        condition.unlock()
    }

    /// Waits until every started bucket is reduced, and returns when each was in flight:
    /// the uptimes (ns) of its start and completion in the gradient thread.
    ///
    /// - Parameter check: called every 20 ms while waiting; its error ends the wait (a
    ///   peer found dead: Open MPI would wait for it until mpirun ends the job).
    /// - Throws: `SequentError` with MPI's wording when an allreduce failed; `check`'s error.
    func waitAll(checking check: () throws -> Void) throws -> [(started: UInt64, completed: UInt64)] {
        condition.lock()
        defer { condition.unlock() }
        var lastCheck = DispatchTime.now().uptimeNanoseconds
        while completedCount < startedCount && failure == nil {
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.02))
            let now = DispatchTime.now().uptimeNanoseconds
            if now - lastCheck >= 20_000_000 {
                try check()
                lastCheck = now
            }
        }
        if let failure { throw failure }
        let times = intervals
        (startedCount, completedCount, intervals) = (0, 0, [])
        return times
    }

    /// Ends the gradient thread once its work is done (before `MPI_Finalize`).
    func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    // MARK: - Gradient thread

    /// Starts the allreduce of every bucket handed over, tests those in flight, and sleeps
    /// 50 us between tests while some are unfinished (a poll that leaves the cores to backward).
    private func reduceLoop() {
        var inFlight: [(bucket: Int, request: UnsafeMutableRawPointer?, started: UInt64)] = []
        while true {
            condition.lock()
            while queued.isEmpty && inFlight.isEmpty && !closing { condition.wait() }
            if queued.isEmpty && inFlight.isEmpty && closing {
                running = false
                condition.broadcast()
                condition.unlock()
                return
            }
            let new = queued
            queued.removeAll()
            condition.unlock()

            var error: SequentError?
            for bucket in new {
                var request: UnsafeMutableRawPointer?
                let started = DispatchTime.now().uptimeNanoseconds
                if sequent_mpi_iallreduce_sum_float(buffers[bucket].baseAddress, sizes[bucket], &request) != 0 {
                    error = SequentError(.io, String(cString: sequent_mpi_last_error()))
                    break
                }
                inFlight.append((bucket, request, started))
            }
            var finished: [(started: UInt64, completed: UInt64)] = []
            var index = 0
            while error == nil, index < inFlight.count {
                var flag: Int32 = 0
                if sequent_mpi_test(&inFlight[index].request, &flag) != 0 {
                    error = SequentError(.io, String(cString: sequent_mpi_last_error()))
                } else if flag != 0 {
                    finished.append((inFlight.remove(at: index).started, DispatchTime.now().uptimeNanoseconds))
                } else {
                    index += 1
                }
            }
            if error != nil { inFlight.removeAll() }  // the run ends; the requests are abandoned

            condition.lock()
            intervals += finished
            completedCount += finished.count
            if let error { failure = error }
            if !finished.isEmpty || error != nil { condition.broadcast() }
            if !inFlight.isEmpty && queued.isEmpty {
                _ = condition.wait(until: Date(timeIntervalSinceNow: 50e-6))
            }
            condition.unlock()
        }
    }
}
