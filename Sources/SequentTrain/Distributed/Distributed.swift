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
    /// Floats per gradient bucket (one allreduce each): a bucket is closed once it holds at
    /// least this many (8 MiB by default). A bucket's allreduce starts when backward has
    /// finished all of its gradients, so smaller buckets start sooner and overlap more of
    /// backward, but each costs a collective's latency (docs/distributed.md measures both).
    /// DDP's `bucket_cap_mb` is 25.
    public var bucketElements = 1 << 21
    /// Whether bucket allreduces start during backward, as each bucket's gradients are
    /// final (`true`, DDP's way), or all after backward (`false`, for comparison).
    public var overlapsBackward = true

    /// Seconds the steps waited for gradient communication after their own backward pass
    /// (the exposed allreduce), since the start.
    public private(set) var gradientSeconds = 0.0
    /// Seconds the latest step waited after its backward pass for the bucket allreduces to
    /// complete, plus the small allreduce of losses and token counts: communication not
    /// hidden by backward, and the wait for a slower rank.
    public private(set) var lastGradientSeconds = 0.0
    /// Seconds the latest step's bucket allreduces were in flight while its backward pass was
    /// still running (hidden by overlap), summed over the buckets: each from its start to
    /// its completion or the end of backward, whichever came first. It includes waiting for
    /// the other ranks to start the same bucket.
    public private(set) var lastOverlapSeconds = 0.0
    /// Bytes of gradients each rank contributed to allreduce in the latest `averageGradients`.
    public private(set) var lastGradientBytes = 0
    /// `averageGradients` calls since the start.
    public private(set) var gradientReductions = 0
    /// Whether the buckets were re-formed after the first step in the order its gradients
    /// became ready (rank 0's), because that order put other gradients together, or the
    /// buckets in another order, than the reverse registration order the first step used
    /// (nil until the first step).
    public private(set) var bucketsReordered: Bool?

    /// The buckets of the parameters last averaged, and the thread that reduces them.
    private var plan: BucketPlan?
    /// Each rank's machine (a fingerprint) and process id, to tell which peer died.
    private var peers: [(machine: Double, pid: Int32)] = []

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
        let distributed = Distributed(rank: rank, size: size)
        try distributed.gatherPeers()
        return distributed
    }

    /// Learns every rank's machine and process id (an allgather by a sum of zero-padded rows).
    private func gatherPeers() throws {
        var machine = Fingerprint()
        machine.add(Array(ProcessLiveness.machine.utf8))
        var all = [Double](repeating: 0, count: 2 * size)
        all[2 * rank] = machine.value
        all[2 * rank + 1] = Double(ProcessLiveness.processID)
        try MPILibrary.allreduce(&all, operation: .sum)
        peers = (0..<size).map { (all[2 * $0], Int32(all[2 * $0 + 1])) }
    }

    /// The ranks on this machine whose processes have ended.
    func deadPeers() -> [Int] {
        guard rank < peers.count else { return [] }
        return peers.indices.filter { $0 != rank && peers[$0].machine == peers[rank].machine && ProcessLiveness.hasEnded(peers[$0].pid) }
    }

    /// Throws when a rank on this machine has died (called while waiting for the ranks in
    /// the collectives of every step: the gradients, the losses, the stop flags).
    private func checkPeersAlive() throws {
        let dead = deadPeers()
        guard !dead.isEmpty else { return }
        let pids = dead.map { String(peers[$0].pid) }.joined(separator: ", ")
        throw SequentError(.io, "\(Self.list(dead)) (process \(pids) on this machine) died during training; this rank stops too. The last checkpoint holds the state of its step: continue with --resume")
    }

    /// Whether this rank writes checkpoints, logs and progress (rank 0).
    public var isRoot: Bool { rank == 0 }

    // MARK: - Gradients

    /// Runs `backward` and replaces every parameter's gradient with its average over the
    /// ranks; returns the average loss and the total token count of the step.
    ///
    /// The parameters go into buckets of about `bucketElements` floats in reverse order
    /// (the order backward finishes them, as DDP buckets; `BucketPlan`). `backward` is given the hook to
    /// pass to `Tensor.backward(onGradientReady:)`: when the last gradient of bucket k is
    /// final and buckets 0..<k have started, bucket k's allreduce starts on the gradient
    /// thread while backward goes on. After backward the remaining buckets start; all are
    /// waited for, then one small allreduce carries the losses, token counts and which
    /// parameters have a gradient on which rank. A parameter without a gradient on a rank
    /// counts as zeros there; one without a gradient on every rank keeps none.
    ///
    ///     (loss, tokens) = try distributed.averageGradients(parameters, loss: l, tokenCount: n) { hook in
    ///         lossTensor.backward(onGradientReady: hook)
    ///     }
    ///
    /// **Weighted** (`weight`): where the ranks' shares differ in what the loss is a mean
    /// over (a mean over target tokens on batches whose rows differ in length; a mean over
    /// utterances on shares of unequal rows), the mean of the ranks' means is not the whole
    /// batch's mean. Then `backward` must seed the loss with `weight` (so the gradients are
    /// those of this rank's sum, not its mean); the sums over the ranks are divided by the
    /// total weight instead of N, and the loss returned is sum(loss_r * weight_r) /
    /// sum(weight_r): the mean over the whole batch, as one process computes it. A rank
    /// whose weight is 0 (an empty share) contributes nothing.
    ///
    /// - Throws: `SequentError` when MPI fails (for instance a rank has died).
    public func averageGradients(
        _ parameters: [Parameter], loss: Float, tokenCount: Int, weight: Double? = nil,
        backward: (_ onGradientReady: ((GradientLeaf) -> Void)?) throws -> Void
    ) throws -> (loss: Float, tokenCount: Int) {
        let plan = self.plan(for: parameters)
        var remaining = plan.buckets.map(\.count)
        var written = [Bool](repeating: false, count: parameters.count)
        var readyOrder: [Int] = []  // the parameters in the order their gradients became final
        readyOrder.reserveCapacity(parameters.count)
        var nextBucket = 0
        func write(_ index: Int) {
            readyOrder.append(index)
            let (bucket, offset) = plan.place[index]
            if let grad = parameters[index].grad {
                plan.storage.write(grad.scalars, bucket: bucket, at: offset)
            } else {
                plan.storage.writeZeros(count: parameters[index].value.count, bucket: bucket, at: offset)
            }
            written[index] = true
            remaining[bucket] -= 1
        }
        // Buckets start in index order on every rank (MPI matches collectives by order).
        func startReadyBuckets() {
            while nextBucket < plan.buckets.count, remaining[nextBucket] == 0 {
                plan.storage.start(bucket: nextBucket)
                nextBucket += 1
            }
        }
        // The first step's hook always watches, so the order is known for the rebuild.
        let watches = overlapsBackward || !plan.reordered
        try backward(watches ? { leaf in
            guard let index = plan.index[leaf], !written[index] else { return }
            write(index)
            if self.overlapsBackward { startReadyBuckets() }
        } : nil)
        let backwardEnded = DispatchTime.now().uptimeNanoseconds
        for index in parameters.indices.reversed() where !written[index] { write(index) }
        startReadyBuckets()
        let inFlight = try plan.storage.waitAll { try checkPeersAlive() }

        // A rank of weight 0 adds 0 (not 0 x a placeholder's loss, which may be anything).
        let weightedLoss = weight.map { $0 > 0 ? Double(loss) * $0 : 0 } ?? Double(loss)
        var header = [weightedLoss, Double(tokenCount), weight ?? 0] + parameters.map { $0.grad == nil ? 0 : 1 }
        try MPILibrary.allreduce(&header, operation: .sum) { try checkPeersAlive() }
        let divisor = weight == nil ? Double(size) : (header[2] > 0 ? header[2] : 1)
        let scale = Float(1 / divisor)
        for (index, parameter) in parameters.enumerated() {
            guard header[3 + index] > 0 else {
                parameter.grad = nil
                continue
            }
            let (bucket, offset) = plan.place[index]
            parameter.grad = Tensor(shape: parameter.shape, scalars: plan.storage.read(bucket: bucket, at: offset, count: parameter.value.count, scale: scale))
        }
        let ended = DispatchTime.now().uptimeNanoseconds
        lastGradientSeconds = Double(ended - backwardEnded) / 1e9
        lastOverlapSeconds = inFlight.reduce(0) { sum, bucket in
            bucket.started < backwardEnded ? sum + Double(min(backwardEnded, bucket.completed) - bucket.started) / 1e9 : sum
        }
        gradientSeconds += lastGradientSeconds
        lastGradientBytes = plan.storage.sizes.reduce(0, +) * MemoryLayout<Float>.stride
        gradientReductions += 1
        if !plan.reordered { try reorderBuckets(plan, parameters: parameters, readyOrder: readyOrder) }
        return (Float(header[0] / divisor), Int(header[1]))
    }

    /// After the first step of a plan, as DDP does: the buckets are formed again in the order
    /// the gradients became ready in that step (rank 0's order, broadcast, so that every
    /// rank starts the same buckets), if that groups the gradients otherwise than the
    /// reverse registration order the plan assumed. Then a bucket closes when its last gradient is final in fact, which
    /// registration order guesses only for models that register parameters in forward order.
    private func reorderBuckets(_ old: BucketPlan, parameters: [Parameter], readyOrder: [Int]) throws {
        var order = readyOrder.map(Double.init)
        try MPILibrary.broadcast(&order, root: 0)
        let ready = BucketPlan(parameters: parameters, leaves: old.leaves, bucketElements: bucketElements,
                               order: order.map { Int($0) }, reordered: true)
        // Only a change of which gradients share a bucket, or of the buckets' order, matters.
        let changed = ready.buckets.map(Set.init) != old.buckets.map(Set.init)
        bucketsReordered = changed
        (changed ? old : ready).storage.close()
        plan = changed ? ready : old.marked(reordered: true)
    }

    /// The buckets of `parameters` (made again when the parameters or `bucketElements` change).
    private func plan(for parameters: [Parameter]) -> BucketPlan {
        let leaves = parameters.map { $0.value.gradientLeaf }
        if let plan, plan.leaves == leaves, plan.bucketElements == bucketElements { return plan }
        plan?.storage.close()
        let made = BucketPlan(parameters: parameters, leaves: leaves, bucketElements: bucketElements, order: Array(parameters.indices.reversed()))
        plan = made
        return made
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
        try MPILibrary.allreduce(&flags, operation: .maximum) { try checkPeersAlive() }
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

    // MARK: - Ending

    /// Shuts MPI down (every rank calls it once, at the end).
    public func finish() throws {
        plan?.storage.close()
        plan = nil
        try MPILibrary.finalize()
    }

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

/// Which parameters go in which gradient bucket: in `order` (reverse registration order at
/// first, the order backward finishes them in models that register in forward order; after
/// the first step the order observed), each bucket closed once it holds at least
/// `bucketElements` floats, as DDP closes its buckets: the tensor that crosses the cap
/// stays, so a layer's gradients, which backward finishes together, are not split off into
/// the next bucket.
struct BucketPlan {
    let leaves: [GradientLeaf?]
    let bucketElements: Int
    /// Whether the order is the one observed (or checked) after a first step.
    private(set) var reordered: Bool
    /// The parameter indices of each bucket.
    let buckets: [[Int]]
    /// Each parameter's bucket and float offset in it.
    let place: [(bucket: Int, offset: Int)]
    /// Each leaf's parameter index.
    let index: [GradientLeaf: Int]
    let storage: GradientBuckets

    init(parameters: [Parameter], leaves: [GradientLeaf?], bucketElements: Int, order: [Int], reordered: Bool = false) {
        self.leaves = leaves
        self.bucketElements = bucketElements
        self.reordered = reordered
        var buckets: [[Int]] = []
        var sizes: [Int] = []
        var place = [(bucket: Int, offset: Int)](repeating: (0, 0), count: parameters.count)
        for index in order {
            let count = parameters[index].value.count
            if buckets.isEmpty || sizes[sizes.count - 1] >= bucketElements {
                buckets.append([])
                sizes.append(0)
            }
            place[index] = (buckets.count - 1, sizes[sizes.count - 1])
            buckets[buckets.count - 1].append(index)
            sizes[sizes.count - 1] += count
        }
        self.buckets = buckets
        self.place = place
        var index: [GradientLeaf: Int] = [:]
        for (position, leaf) in leaves.enumerated() { if let leaf { index[leaf] = position } }
        self.index = index
        storage = GradientBuckets(sizes: sizes)
    }

    /// The same plan, its order marked as checked.
    func marked(reordered: Bool) -> BucketPlan {
        var plan = self
        plan.reordered = reordered
        return plan
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
