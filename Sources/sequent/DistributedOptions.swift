import ArgumentParser
import Foundation
import SequentTensor
import SequentTrain

/// `--distributed`, `--mpi-library` and the gradient buckets: whether a `train` runs
/// data-parallel over Open MPI, and how. Every task gets them through `TrainingOptions`
/// (`training.distribution`) and passes `start()`'s result to its
/// `TrainerConfiguration.distributed`.
struct DistributedOptions: ParsableArguments {
    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case auto, mpi, none
    }

    @Option(help: """
        Data-parallel training over Open MPI: auto (when started by mpirun), mpi (always; \
        a missing Open MPI is an error), none. Under `mpirun -np N`, --batch-size is per rank \
        and the global batch is N times it.
        """)
    var distributed: Mode = .auto

    @Option(name: .customLong("mpi-library"), help: "The path of Open MPI's libmpi (default: libmpi.so.40 from the library path).")
    var mpiLibrary: String?

    @Option(name: .customLong("bucket-mb"), parsing: .unconditional, help: """
        Data-parallel: gradients are averaged in buckets of this many MiB, one allreduce each \
        (default 8; PyTorch DDP's bucket_cap_mb is 25).
        """)
    var bucketMegabytes: Double = 8

    @Flag(inversion: .prefixedNo, help: """
        Data-parallel: start each bucket's allreduce during backward, as soon as its gradients \
        are final (as DDP does); --no-allreduce-overlap reduces them all after backward.
        """)
    var allreduceOverlap = true

    func validate() throws {
        if !(bucketMegabytes > 0 && bucketMegabytes <= 1024) {
            throw ValidationError("--bucket-mb must be in (0, 1024]; got \(bucketMegabytes)")
        }
    }

    /// The MPI job this process belongs to, or nil for a single-process run.
    ///
    /// - Throws: `SequentError` when MPI is asked for (or launched) but cannot be loaded or
    ///   started, and when `--distributed none` is given to several ranks of one job.
    func start(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Distributed? {
        let launched = Distributed.isLaunchedByMPI(environment: environment)
        switch distributed {
        case .none:
            if launched, let size = environment[Distributed.launcherSizeVariable].flatMap(Int.init), size > 1 {
                throw SequentError.invalidArgument(
                    "--distributed", "none was given, but mpirun started \(size) ranks of this command, which would all write the same --out; drop --distributed none to train data-parallel, or start one process without mpirun")
            }
            return nil
        case .auto:
            guard launched else { return nil }
            return try startMPI(flag: "started by mpirun (\(Distributed.launcherSizeVariable) is set)")
        case .mpi:
            return try startMPI(flag: "--distributed mpi")
        }
    }

    private func startMPI(flag: String) throws -> Distributed {
        do {
            let distributed = try Distributed.start(library: mpiLibrary)
            distributed.bucketElements = max(1, Int(bucketMegabytes * 1_048_576) / MemoryLayout<Float>.stride)
            distributed.overlapsBackward = allreduceOverlap
            return distributed
        } catch let error as SequentError {
            throw SequentError(error.kind, "\(flag): \(error.message)")
        }
    }
}

extension DistributedOptions {
    /// Runs a task's training in the MPI job this process belongs to, or alone: `body` gets
    /// the job (nil for one process). An error on one rank of several is prefixed
    /// `rank r of N:` (that rank exits non-zero and mpirun ends the others); MPI is shut
    /// down once `body` returns. With `threads`, `body` runs on that many kernel threads.
    func run(threads: Int? = nil, _ body: (Distributed?) throws -> Void) throws {
        let distributed = try start()
        do {
            if let threads {
                try Parallelism.withThreads(threads) { try body(distributed) }
            } else {
                try body(distributed)
            }
        } catch let error as SequentError where (distributed?.size ?? 1) > 1 {
            throw SequentError(error.kind, "rank \(distributed!.rank) of \(distributed!.size): \(error.message)")
        }
        try distributed?.finish()
    }
}

extension Distributed {
    /// Checks that every rank runs the same task configuration (`config` as sorted JSON),
    /// thread count and resume flag as rank 0, naming the ranks and the line that differ.
    func checkAgreement<Config: Encodable>(on config: Config, threads: Int, resume: Bool) throws {
        try checkAgreement(try Self.describe(config, threads: threads, resume: resume), on: "the configuration")
    }

    /// The text `checkAgreement(on:threads:resume:)` compares: the config's JSON, one key a
    /// line, then the thread count and whether the run resumes.
    static func describe<Config: Encodable>(_ config: Config, threads: Int, resume: Bool) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = String(decoding: try encoder.encode(config), as: UTF8.self)
        return json + "\nthreads: \(threads)\nresume: \(resume)"
    }

    /// Refuses to resume the run in `folder`, whose global batch is `globalBatch`, on
    /// `ranks` ranks that do not divide it.
    static func checkResume(globalBatch: Int, ranks: Int, folder: URL) throws {
        guard globalBatch % ranks != 0 else { return }
        throw SequentError.invalidArgument(
            "--resume", "the run in \(folder.path) has a global batch of \(globalBatch), which does not divide among \(ranks) ranks; resume with a number of ranks that divides it")
    }

    /// The line a data-parallel run prints at its start (the global batch, per rank).
    func summary(globalBatch: Int, threads: Int) -> String {
        "data-parallel: \(size) ranks (Open MPI) x \(globalBatch / size) per rank = global batch \(globalBatch); \(threads) thread\(threads == 1 ? "" : "s") per rank"
    }
}

/// The run behind a task's `train` that trains data-parallel: its rank's place in the MPI
/// job, and output from rank 0 alone.
protocol DataParallelTraining {
    /// The MPI job of a data-parallel run (rank 0 writes and prints); nil for one process.
    var distributed: Distributed? { get }
    /// The command's training flags.
    var options: TrainingOptions { get }
}

extension DataParallelTraining {
    /// The number of data-parallel ranks (1 without MPI).
    var ranks: Int { distributed?.size ?? 1 }
    /// Whether this process writes the folder and prints (rank 0, or the only process).
    var isRoot: Bool { distributed?.isRoot ?? true }

    /// Prints unless --quiet, on rank 0 alone in a data-parallel run.
    func say(_ text: String) {
        if isRoot { options.say(text) }
    }
}
