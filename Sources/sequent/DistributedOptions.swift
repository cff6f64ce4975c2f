import ArgumentParser
import Foundation
import SequentTensor
import SequentTrain

/// `--distributed` and `--mpi-library`: whether a `train` runs data-parallel over Open MPI.
/// A task includes them with `@OptionGroup var distribution: DistributedOptions` and passes
/// `start()`'s result to its `TrainerConfiguration.distributed`.
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
            return try Distributed.start(library: mpiLibrary)
        } catch let error as SequentError {
            throw SequentError(error.kind, "\(flag): \(error.message)")
        }
    }
}
