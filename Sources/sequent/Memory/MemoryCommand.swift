import ArgumentParser
import Foundation

extension Sequent {
    /// `sequent memory`: memory-augmented networks (the Neural Turing Machine, end-to-end
    /// memory networks) on the NTM paper's bit-sequence tasks and on bAbI stories.
    struct MemoryCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "memory",
            abstract: "Neural Turing Machines and end-to-end memory networks: copy, repeat copy, associative recall, bAbI.",
            discussion: """
                Train the NTM on copy (lengths 1-20), then score it on longer sequences:

                  sequent memory train --task copy --out ntm-copy --threads 1 --time-limit 15m
                  sequent memory eval ntm-copy --lengths 10,20,40,60,80,120

                Memory networks on generated bAbI-style stories (tasks 1, 2, 3, 6, 7, 8), or on a real \
                bAbI file with --babi:

                  sequent memory train --task babi --out memn2n --threads 1
                  sequent memory eval memn2n

                --model lstm trains the LSTM baseline on the same data.
                """,
            subcommands: [MemoryTrain.self, MemoryEval.self, MemoryPredict.self, MemoryGenerate.self])
    }
}
