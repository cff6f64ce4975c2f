import ArgumentParser
import Foundation
import SequentTensor

/// `sequent`: the command-line tool. Each subcommand is one file here; the work itself
/// lives in the library targets.
@main
struct Sequent: ParsableCommand {
    /// The version printed by `sequent version` and `sequent --version`.
    static let version = "0.1.0-dev"

    static let configuration = CommandConfiguration(
        commandName: "sequent",
        abstract: "Sequence models (RNN, LSTM, GRU, attention, Transformers) in Swift, on oneDNN.",
        version: version,
        subcommands: [Demo.self, Lab.self, LM.self, Forecast.self, Translate.self, Classify.self, Speech.self, MemoryCommand.self, Info.self, Version.self])

    /// Parses and runs, after refusing `sequent help NAME` for a NAME that is no subcommand
    /// (ArgumentParser would print the general help and exit 0).
    static func main() {
        StandardError.bufferLines()
        // Every command allocates tensors of the same shapes step after step (training) or
        // batch after batch (decoding): kept for reuse, they cost no fresh pages.
        Memory.keepFreedMemoryForReuse()
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "help", arguments.count > 1 {
            let known = Set(configuration.subcommands.map { $0._commandName } + ["help"])
            if let unknown = arguments.dropFirst().first(where: { !$0.hasPrefix("-") }), !known.contains(unknown) {
                exit(withError: ValidationError("'\(unknown)' is not a sequent command; the commands are \(configuration.subcommands.map { $0._commandName }.joined(separator: ", "))"))
            }
        }
        main(nil)
    }
}
