import ArgumentParser
import SequentTrain

/// A task's `train` command: its own flags, and the ones every `train` has in `training`.
protocol TaskTrainCommand: ParsableCommand {
    var training: TrainingOptions { get }
}

/// The run behind a task's `train` (`LMTraining`, `ClassifyTraining`, ...): made from the
/// parsed command on each rank of a data-parallel run, or alone, and run on --threads
/// kernel threads.
protocol TaskTraining: DataParallelTraining {
    associatedtype Command: TaskTrainCommand
    /// The parsed `train` command.
    var command: Command { get }
    init(command: Command, distributed: Distributed?)
    /// Reads the data, trains, and writes the model folder, on `threads` kernel threads.
    func run(threads: Int) throws
}

extension TaskTraining {
    var options: TrainingOptions { command.training }

    /// Runs `command`'s training in the MPI job this process belongs to, or alone
    /// (`DistributedOptions.run`), on --threads threads.
    static func run(_ command: Command) throws {
        let threads = command.training.threadCount
        try command.training.distribution.run(threads: threads) { try Self(command: command, distributed: $0).run(threads: threads) }
    }
}
