import Foundation
import SequentNN
import SequentTensor

/// Data-parallel training across processes (ranks) over Open MPI, loaded at run time.
///
/// N ranks each compute the gradients of their own share of the global batch; the gradients
/// are summed by allreduce and divided by N, so every rank takes the same optimizer step a
/// single process would take with the whole batch (PyTorch's DistributedDataParallel,
/// Horovod). The `Trainer` consults a `Distributed` given in its configuration:
///
///     start of fit:    broadcastState(model, optimizer) from rank 0, checked
///     after backward:  averageGradients(parameters, loss:tokenCount:)   (bucketed allreduce)
///     end of a step:   agreeOnStop(...): a stop on any rank stops every rank after that step
///     checkpoints, logs, progress: rank 0 only
///
/// A `Distributed` exists only where MPI does: `sequent` without MPI never loads it.
///
///     let distributed = try Distributed.start()          // under mpirun -np 2
///     print(distributed.rank, distributed.size)          // 0 2 / 1 2
public final class Distributed {
    /// This process's rank, 0..<size; rank 0 writes.
    public let rank: Int
    /// The number of ranks.
    public let size: Int
    /// Floats per gradient bucket (one allreduce each): 25 MiB by default, DDP's
    /// `bucket_cap_mb`. Without overlap with backward, small buckets only add latency; Open
    /// MPI's shared-memory allreduce of 13 MB took 30 ms in one call and 100 ms in 4 MiB
    /// pieces (docs/distributed.md).
    public var bucketElements = 25 << 18

    /// Seconds spent in gradient allreduce since the start (the header and every bucket).
    public private(set) var gradientSeconds = 0.0
    /// Seconds of the latest `averageGradients`' allreduces (after every rank arrived).
    public private(set) var lastGradientSeconds = 0.0
    /// Seconds the latest `averageGradients` waited for the slowest rank to finish its
    /// backward pass (a barrier before the allreduces, so that `lastGradientSeconds` is the
    /// communication alone): load imbalance, not communication.
    public private(set) var lastWaitSeconds = 0.0
    /// Bytes of gradients each rank contributed to allreduce in the latest `averageGradients`.
    public private(set) var lastGradientBytes = 0
    /// `averageGradients` calls since the start.
    public private(set) var gradientReductions = 0

    /// The environment variable Open MPI's launcher sets in every rank: the world's size.
    public static let launcherSizeVariable = "OMPI_COMM_WORLD_SIZE"

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    /// Whether this process was started by Open MPI's `mpirun` (or `mpiexec`, `orterun`).
    public static func isLaunchedByMPI(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        environment[launcherSizeVariable] != nil
    }

    /// Loads Open MPI's library and initialises MPI.
    ///
    /// - Parameter library: the path of libmpi; nil looks up `libmpi.so.40`, then `libmpi.so`.
    /// - Throws: `SequentError.io` saying why the library cannot be loaded (with what to
    ///   install) or MPI cannot start.
    public static func start(library: String? = nil) throws -> Distributed {
        do {
            try MPILibrary.load(path: library)
        } catch let error as SequentError {
            throw SequentError(.io, """
                \(error.message). Distributed training needs Open MPI 4 or newer: on Debian/Ubuntu \
                `apt-get install openmpi-bin libopenmpi-dev` (scripts/bootstrap.sh does it), then start \
                with `mpirun -np N sequent ...`
                """)
        }
        let (rank, size) = try MPILibrary.initialize()
        return Distributed(rank: rank, size: size)
    }

    /// Whether this rank writes checkpoints, logs and progress (rank 0).
    public var isRoot: Bool { rank == 0 }

    // MARK: - Gradients

    /// Replaces every parameter's gradient with its average over the ranks, and returns the
    /// average loss and the total token count of the step.
    ///
    /// One small allreduce carries the losses, token counts and which parameters have a
    /// gradient on which rank; then the gradients go in buckets of at most `bucketElements`
    /// floats, last parameters first (the order backward finishes them, as DDP buckets).
    /// A parameter without a gradient on a rank counts as zeros there; one without a gradient
    /// on every rank keeps none.
    ///
    /// - Throws: `SequentError` when MPI fails (for instance a rank has died).
    public func averageGradients(_ parameters: [Parameter], loss: Float, tokenCount: Int) throws
        -> (loss: Float, tokenCount: Int) {
        let arrived = DispatchTime.now().uptimeNanoseconds
        try MPILibrary.barrier()
        let started = DispatchTime.now().uptimeNanoseconds
        lastWaitSeconds = Double(started - arrived) / 1e9
        var header = [Double(loss), Double(tokenCount)] + parameters.map { $0.grad == nil ? 0 : 1 }
        try MPILibrary.allreduce(&header, operation: .sum)
        let scale = 1 / Float(size)
        var bytes = 0
        var bucket: [Float] = []
        var members: [Int] = []
        func flush() throws {
            guard !members.isEmpty else { return }
            try MPILibrary.allreduceSum(&bucket)
            bytes += bucket.count * MemoryLayout<Float>.stride
            var offset = 0
            for index in members {
                let parameter = parameters[index]
                let count = parameter.value.count
                let averaged = bucket[offset..<(offset + count)].map { $0 * scale }
                parameter.grad = Tensor(shape: parameter.shape, scalars: averaged)
                offset += count
            }
            bucket.removeAll(keepingCapacity: true)
            members.removeAll(keepingCapacity: true)
        }
        for index in parameters.indices.reversed() where header[2 + index] > 0 {
            let parameter = parameters[index]
            let count = parameter.value.count
            if !bucket.isEmpty, bucket.count + count > bucketElements { try flush() }
            if let grad = parameter.grad {
                bucket.append(contentsOf: grad.scalars)
            } else {
                bucket.append(contentsOf: repeatElement(0, count: count))
            }
            members.append(index)
        }
        try flush()
        lastGradientSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        gradientSeconds += lastGradientSeconds
        lastGradientBytes = bytes
        gradientReductions += 1
        return (Float(header[0] / Double(size)), Int(header[1]))
    }

    // MARK: - Starting from the same state

    /// Makes every rank's parameters and optimizer state those of rank 0, then checks that
    /// they are bitwise equal everywhere.
    ///
    /// - Throws: `SequentError` naming the ranks whose parameter names, shapes or optimizer
    ///   state keys differ from rank 0's (nothing is copied then), or whose values still
    ///   differ after the broadcast.
    public func broadcastState(parameters named: [(key: String, parameter: Parameter)], optimizer: any Optimizer) throws {
        let layout = named.map { "\($0.key) \($0.parameter.shape)" }.joined(separator: "\n")
        try checkAgreement(layout, on: "the model's parameters (names and shapes)")
        var values = named.flatMap { $0.parameter.value.scalars }
        try MPILibrary.broadcast(&values, root: 0)
        var offset = 0
        for (_, parameter) in named {
            let count = parameter.value.count
            try parameter.assign(Tensor(shape: parameter.shape, scalars: Array(values[offset..<(offset + count)])))
            offset += count
        }

        let state = optimizer.stateDictionary()
        let keys = state.keys.sorted()
        try checkAgreement(keys.map { "\($0) \(state[$0]!.shape)" }.joined(separator: "\n"), on: "the optimizer's state (keys and shapes)")
        if !keys.isEmpty {
            var stateValues = keys.flatMap { state[$0]!.scalars }
            try MPILibrary.broadcast(&stateValues, root: 0)
            var restored: [String: Tensor] = [:]
            var position = 0
            for key in keys {
                let shape = state[key]!.shape
                let count = state[key]!.count
                restored[key] = Tensor(shape: shape, scalars: Array(stateValues[position..<(position + count)]))
                position += count
            }
            try optimizer.loadStateDictionary(restored)
        }

        var fingerprint = Fingerprint()
        for (_, parameter) in named { fingerprint.add(parameter.value.scalars) }
        let after = optimizer.stateDictionary()
        for key in after.keys.sorted() { fingerprint.add(after[key]!.scalars) }
        let differing = try ranksDiffering(from: fingerprint.value)
        if !differing.isEmpty {
            throw SequentError(.invalidValue, "rank \(rank): after the broadcast from rank 0, the parameters or optimizer state of \(Self.list(differing)) still differ from rank 0's")
        }
    }

    // MARK: - Agreement

    /// Checks that every rank has the same `value` (a configuration, a layout) as rank 0.
    ///
    /// - Parameters:
    ///   - value: this rank's text; compared by a 52-bit hash, and line by line on a mismatch.
    ///   - what: what the text describes, for the message ("the configuration").
    /// - Throws: on every rank when any rank differs: `SequentError.invalidArgument` naming
    ///   the ranks; on a rank that differs, also rank 0's and its own first differing line.
    public func checkAgreement(_ value: String, on what: String) throws {
        var fingerprint = Fingerprint()
        fingerprint.add(Array(value.utf8))
        let differing = try ranksDiffering(from: fingerprint.value)
        guard !differing.isEmpty else { return }
        // Every rank knows of the mismatch: send rank 0's text to say where it lies.
        let length = try broadcast(isRoot ? value.utf8.count : 0)
        var bytes = isRoot ? Array(value.utf8) : [UInt8](repeating: 0, count: length)
        try MPILibrary.broadcast(&bytes, root: 0)
        let reference = String(decoding: bytes, as: UTF8.self)
        var message = "\(Self.list(differing)) \(differing.count == 1 ? "disagrees" : "disagree") with rank 0 on \(what)"
        if differing.contains(rank) {
            let mine = value.split(separator: "\n", omittingEmptySubsequences: false)
            let theirs = reference.split(separator: "\n", omittingEmptySubsequences: false)
            let line = (0..<min(mine.count, theirs.count)).first { mine[$0] != theirs[$0] } ?? min(mine.count, theirs.count)
            let show = { (lines: [Substring]) in line < lines.count ? "`\(lines[line].trimmingCharacters(in: .whitespaces))`" : "nothing more" }
            message += ": rank 0 has \(show(theirs)) where rank \(rank) has \(show(mine)); start every rank with the same flags and data"
        } else {
            message += "; start every rank with the same flags and data (the differing ranks print where)"
        }
        throw SequentError(.invalidArgument, message)
    }

    /// Whether any rank stops: the largest signal number and whether any rank asked to stop.
    /// Every rank calls this at the same point of every step, so all stop after the same step.
    public func agreeOnStop(signal: Int32?, stopRequested: Bool) throws -> (signal: Int32?, stopRequested: Bool) {
        var flags = [Double(signal ?? 0), stopRequested ? 1 : 0]
        try MPILibrary.allreduce(&flags, operation: .maximum)
        return (flags[0] > 0 ? Int32(flags[0]) : nil, flags[1] > 0)
    }

    /// Rank 0's `value` on every rank.
    public func broadcast(_ value: Int) throws -> Int {
        var values = [Double(value)]
        try MPILibrary.broadcast(&values, root: 0)
        return Int(values[0])
    }

    /// Waits for every rank.
    public func barrier() throws { try MPILibrary.barrier() }

    // MARK: - Rows split over the ranks

    /// The global tensor of which every rank holds `local`, the same number of rows along
    /// `axis`: the ranks' slices side by side in rank order (an allgather, done as an
    /// exact allreduce of zero-padded copies).
    public func gatherRows(_ local: Tensor, axis: Int) throws -> Tensor {
        let (outer, rows, inner) = try Self.split(local.shape, axis: axis, op: "gatherRows")
        var global = [Float](repeating: 0, count: local.count * size)
        let scalars = local.scalars
        for o in 0..<outer {
            let source = o * rows * inner
            let destination = (o * rows * size + rank * rows) * inner
            global.replaceSubrange(destination..<(destination + rows * inner), with: scalars[source..<(source + rows * inner)])
        }
        try MPILibrary.allreduceSum(&global)
        var shape = local.shape
        shape[axis] *= size
        return Tensor(shape: shape, scalars: global)
    }

    /// This rank's slice of `global` along `axis` (rows rank * n ..< (rank + 1) * n).
    ///
    /// - Throws: `SequentError.invalidArgument` when the rows do not divide by the ranks.
    public func localRows(of global: Tensor, axis: Int) throws -> Tensor {
        let (outer, rows, inner) = try Self.split(global.shape, axis: axis, op: "localRows")
        guard rows % size == 0 else {
            throw SequentError.invalidArgument("Distributed.localRows", "\(rows) rows do not divide among \(size) ranks")
        }
        let n = rows / size
        var local: [Float] = []
        local.reserveCapacity(global.count / size)
        let scalars = global.scalars
        for o in 0..<outer {
            let start = (o * rows + rank * n) * inner
            local.append(contentsOf: scalars[start..<(start + n * inner)])
        }
        var shape = global.shape
        shape[axis] = n
        return Tensor(shape: shape, scalars: local)
    }

    // MARK: - Randomness

    /// This rank's generator derived from a generator every rank holds in the same state:
    /// rank 0 keeps `generator` itself (so one rank draws what a single process draws);
    /// rank r takes the r-th generator split off a copy of it.
    public func rankGenerator(from generator: RandomGenerator) -> RandomGenerator {
        guard rank > 0 else { return generator }
        var parent = generator
        var derived = generator
        for _ in 0..<rank { derived = parent.split() }
        return derived
    }

    // MARK: - Ending

    /// Shuts MPI down (every rank calls it once, at the end).
    public func finish() throws { try MPILibrary.finalize() }

    /// Ends every rank of the job at once with `code` (for an error seen by one rank only).
    public func abort(code: Int32) { MPILibrary.abort(code: code) }

    // MARK: - Helpers

    /// The ranks whose `fingerprint` differs from rank 0's (each rank's fingerprint is put at
    /// its index and the vectors summed).
    private func ranksDiffering(from fingerprint: Double) throws -> [Int] {
        var all = [Double](repeating: 0, count: size)
        all[rank] = fingerprint
        try MPILibrary.allreduce(&all, operation: .sum)
        return all.indices.filter { all[$0] != all[0] }
    }

    static func list(_ ranks: [Int]) -> String {
        ranks.count == 1 ? "rank \(ranks[0])" : "ranks \(ranks.map(String.init).joined(separator: ", "))"
    }

    private static func split(_ shape: [Int], axis: Int, op: String) throws -> (outer: Int, rows: Int, inner: Int) {
        guard shape.indices.contains(axis) else {
            throw SequentError.invalidArgument("Distributed.\(op)", "axis \(axis) is outside the shape \(shape)")
        }
        return (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }
}

/// FNV-1a over bytes and float bit patterns, cut to 52 bits so that it travels exactly in
/// a Double.
struct Fingerprint {
    private var hash: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: [UInt8]) {
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
    }

    mutating func add(_ values: [Float]) {
        for value in values {
            hash = (hash ^ UInt64(value.bitPattern)) &* 0x100_0000_01b3
        }
    }

    var value: Double { Double(hash & ((1 << 52) - 1)) }
}
