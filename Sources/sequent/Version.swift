import ArgumentParser
import SequentTensor

extension Sequent {
    /// `sequent version`: the version and what this machine offers.
    struct Version: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the version of sequent.")

        func run() {
            print("sequent \(Sequent.version) (Float32 on oneDNN, \(Parallelism.coreCount) cores available)")
        }
    }
}
