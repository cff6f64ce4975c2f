import CMPILoader
import Dispatch
import SequentTensor

/// The calls into Open MPI (through CMPILoader, which dlopen()s libmpi): the only place
/// where `Distributed` touches pointers. Each throws `SequentError` with MPI's own wording
/// of a failure.
enum MPILibrary {
    /// Loads libmpi from `path`, or from the default sonames when nil.
    static func load(path: String?) throws {
        let code = path.map { sequent_mpi_load($0) } ?? sequent_mpi_load(nil)
        if code != 0 { throw SequentError(.io, lastError) }
    }

    /// Initialises MPI (funnelled threads) and returns this process's rank and the world size.
    static func initialize() throws -> (rank: Int, size: Int) {
        var rank: Int32 = 0, size: Int32 = 0
        try check(sequent_mpi_initialize(&rank, &size))
        return (Int(rank), Int(size))
    }

    /// Sums `values` element by element over every rank, in place.
    static func allreduceSum(_ values: inout [Float]) throws {
        let count = values.count
        try values.withUnsafeMutableBufferPointer { buffer in
            try check(sequent_mpi_allreduce_sum_float(buffer.baseAddress, count))
        }
    }

    /// The operations of `allreduce(_:operation:)` on doubles.
    enum Operation: Int32 {
        case sum = 0, maximum = 1, minimum = 2
    }

    /// Reduces `values` element by element over every rank, in place.
    static func allreduce(_ values: inout [Double], operation: Operation) throws {
        let count = values.count
        try values.withUnsafeMutableBufferPointer { buffer in
            try check(sequent_mpi_allreduce_double(buffer.baseAddress, count, operation.rawValue))
        }
    }

    /// Reduces `values` element by element over every rank, in place, calling `probe` every
    /// 20 ms while it waits (its error ends the wait: a rank found dead), where a blocking
    /// allreduce would wait for a dead rank until mpirun ends the job.
    static func allreduce(_ values: inout [Double], operation: Operation, checking probe: () throws -> Void) throws {
        let count = values.count
        try values.withUnsafeMutableBufferPointer { buffer in
            var request: UnsafeMutableRawPointer?
            try check(sequent_mpi_iallreduce_double(buffer.baseAddress, count, operation.rawValue, &request))
            var lastCheck = DispatchTime.now().uptimeNanoseconds
            while true {
                var done: Int32 = 0
                try check(sequent_mpi_test(&request, &done))
                if done != 0 { return }
                let now = DispatchTime.now().uptimeNanoseconds
                if now - lastCheck > 20_000_000 {
                    try probe()
                    lastCheck = now
                }
            }
        }
    }

    /// Replaces `bytes` on every rank with those of `root` (every rank passes the same count).
    static func broadcast(_ bytes: inout [UInt8], root: Int) throws {
        let count = bytes.count
        try bytes.withUnsafeMutableBytes { buffer in
            try check(sequent_mpi_broadcast_bytes(buffer.baseAddress, count, Int32(root)))
        }
    }

    /// Replaces `values` on every rank with those of `root`.
    static func broadcast(_ values: inout [Float], root: Int) throws {
        let count = values.count * MemoryLayout<Float>.stride
        try values.withUnsafeMutableBytes { buffer in
            try check(sequent_mpi_broadcast_bytes(buffer.baseAddress, count, Int32(root)))
        }
    }

    /// Replaces `values` on every rank with those of `root`.
    static func broadcast(_ values: inout [Double], root: Int) throws {
        let count = values.count * MemoryLayout<Double>.stride
        try values.withUnsafeMutableBytes { buffer in
            try check(sequent_mpi_broadcast_bytes(buffer.baseAddress, count, Int32(root)))
        }
    }

    /// Waits for every rank.
    static func barrier() throws { try check(sequent_mpi_barrier()) }

    /// Ends every rank of the job with `code`.
    static func abort(code: Int32) { sequent_mpi_abort(code) }

    /// Shuts MPI down.
    static func finalize() throws { try check(sequent_mpi_finalize()) }

    private static var lastError: String { String(cString: sequent_mpi_last_error()) }

    private static func check(_ code: Int32) throws {
        if code != 0 { throw SequentError(.io, lastError) }
    }
}
