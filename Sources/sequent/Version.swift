import ArgumentParser
import SequentTensor

extension Sequent {
    /// `sequent version`: the version, and with --verbose what `sequent info` prints.
    struct Version: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the version of sequent (--verbose: and the CPU path, as `sequent info`).")

        @Flag(name: .shortAndLong, help: "Also print the CPU, its instruction sets, oneDNN and the kernels Sequent picked.")
        var verbose = false

        func run() {
            print("sequent \(Sequent.version)")
            if verbose { Info.printReport() }
        }
    }

    /// `sequent info`: what this machine offers and which kernels run on it.
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the CPU, its instruction sets, oneDNN's version and ISA, the threads, and the kernels Sequent picked.",
            discussion: """
                SEQUENT_MAX_CPU_ISA=avx2 makes Sequent's own kernels (and its bfloat16 path) run as on an \
                AVX2-only CPU; ONEDNN_MAX_CPU_ISA=AVX2 does the same for oneDNN's. Other values: baseline, \
                avx512_core, avx512_core_bf16, all.
                """)

        func run() {
            print("sequent \(Sequent.version)")
            Self.printReport()
        }

        static func printReport() {
            let lines = CPUSupport.report
            let width = lines.map(\.0.count).max() ?? 0
            for (key, value) in lines {
                print("  \(key + ":" + String(repeating: " ", count: width - key.count))  \(value)")
            }
        }
    }
}
