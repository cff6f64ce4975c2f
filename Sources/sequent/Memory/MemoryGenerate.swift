import ArgumentParser
import Foundation
import SequentData

/// `sequent memory generate`: writes generated bAbI-style stories in the bAbI text format.
struct MemoryGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Print generated bAbI-style stories (tasks 1, 2, 3, 6, 7, 8) in the bAbI text format.",
        discussion: """
            Example:
              sequent memory generate --babi-task 2 --stories 200 --seed 7 > qa2_generated.txt
            """)

    @Option(name: .customLong("babi-task"), help: "The task: 1, 2, 3, 6, 7 or 8.")
    var babiTask: Int

    @Option(help: "Stories to write (each has 5 questions).")
    var stories = 100

    @Option(help: "The seed of the stories.")
    var seed: UInt64 = 1

    func validate() throws {
        if stories < 1 || stories > 1_000_000 { throw ValidationError("--stories must be in 1...1000000; got \(stories)") }
    }

    func run() throws {
        var generator = try BAbIGenerator(task: babiTask, seed: seed)
        print(BAbIFormat.format(generator.stories(stories)), terminator: "")
    }
}
