import ArgumentParser
import SequentTensor

/// `sequent`: the command-line tool. Each subcommand is one file here; the work itself
/// lives in the library targets.
@main
struct Sequent: ParsableCommand {
    /// The version printed by `sequent version` and `sequent --version`.
    static let version = "0.1.0-dev"

    static let configuration = CommandConfiguration(
        commandName: "sequent",
        abstract: "Sequence models (RNN, LSTM, GRU) in Swift, on oneDNN.",
        version: version,
        subcommands: [Demo.self, Lab.self, LM.self, Version.self],
        defaultSubcommand: Demo.self)

    /// Checks that this CPU runs the kernels' instructions, then parses and runs.
    static func main() {
        CPUSupport.exitIfUnsupported()
        main(nil)
    }
}
