import Foundation
import XCTest

/// Data-parallel `sequent lm train` under Open MPI's `mpirun` on this machine (loopback):
/// 2 ranks x batch B against 1 process x batch 2B, resumption with another number of ranks,
/// a rank killed mid-run, and the refusals. Skipped with a message where `mpirun` is absent.
final class DistributedTrainingTests: XCTestCase {
    private var folder: URL!

    /// The `sequent` binary next to this test bundle's build products.
    private static let binary: URL? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = ["release", "debug"].map { root.appendingPathComponent(".build/\($0)/sequent") }
        return candidates.filter { FileManager.default.isExecutableFile(atPath: $0.path) }
            .max { (modified($0) ?? .distantPast) < (modified($1) ?? .distantPast) }
    }()

    private static func modified(_ url: URL) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date
    }

    /// Open MPI's launcher on PATH.
    private static let mpirun: URL? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent("mpirun") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// What Open MPI needs to run as root in CI, and quiet, local-only transports.
    private static let mpiEnvironment = [
        "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        "OMPI_MCA_btl": "self,vader,tcp", "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
        "OMPI_MCA_rmaps_base_oversubscribe": "1", "PMIX_MCA_gds": "hash",
    ]

    override func setUpWithError() throws {
        guard Self.binary != nil else { throw XCTSkip("the sequent binary is not built") }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("DistributedTrainingTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    private func requireMPI() throws -> URL {
        guard let mpirun = Self.mpirun else {
            throw XCTSkip("mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev, as scripts/bootstrap.sh does): the data-parallel tests are skipped")
        }
        return mpirun
    }

    private struct Run {
        var status: Int32
        var output: String
        var seconds: Double
    }

    /// Runs `executable` with `arguments` in the test folder, standard output and error together.
    private func launch(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.merging(Self.mpiEnvironment) { $1 }.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let started = Date()
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                   seconds: Date().timeIntervalSince(started))
    }

    private func sequent(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        try launch(Self.binary!, arguments, environment: environment)
    }

    /// `mpirun -np ranks sequent arguments` on this machine.
    private func mpi(_ ranks: Int, _ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        try launch(try requireMPI(), ["-np", String(ranks), "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                                      Self.binary!.path] + arguments, environment: environment)
    }

    /// Trains `arguments` twice, as the equivalence tests compare them: by 2 ranks of
    /// `batchPerRank` each into `outs.two`, and by 1 process with the whole batch (twice
    /// that) into `outs.one`; both must succeed.
    private func trainTwoRanksAndOne(_ arguments: [String], batchPerRank: Int, outs: (two: String, one: String) = ("two", "one"))
        throws -> (two: Run, one: Run) {
        let two = try mpi(2, arguments + ["--out", outs.two, "--batch-size", String(batchPerRank)])
        XCTAssertEqual(two.status, 0, two.output)
        let one = try sequent(arguments + ["--out", outs.one, "--batch-size", String(2 * batchPerRank)])
        XCTAssertEqual(one.status, 0, one.output)
        return (two, one)
    }

    private static let corpus: String = {
        let lines = ["First Citizen:", "Before we proceed any further, hear me speak.", "All:", "Speak, speak.",
                     "You are all resolved rather to die than to famish?", "Resolved. resolved."]
        return (0..<80).map { lines[$0 % lines.count] }.joined(separator: "\n") + "\n"
    }()

    /// A tiny LSTM (without dropout unless asked), evaluated and checkpointed every 3 steps.
    private func options(_ text: String, steps: Int = 6, evalInterval: Int = 3, dropout: Float = 0) -> [String] {
        ["lm", "train", "--text", text, "--steps", String(steps), "--hidden", "16", "--layers", "2", "--embedding", "8",
         "--context", "16", "--dropout", String(dropout), "--eval-interval", String(evalInterval), "--threads", "1", "--quiet"]
    }

    private func corpusFile() throws -> String {
        let url = folder.appendingPathComponent("corpus.txt")
        try Data(Self.corpus.utf8).write(to: url)
        return url.path
    }

    /// The loss of every step in `run/metrics.jsonl`.
    private func losses(_ run: String) throws -> [Int: Double] {
        let text = try String(contentsOf: folder.appendingPathComponent("\(run)/metrics.jsonl"), encoding: .utf8)
        var byStep: [Int: Double] = [:]
        for line in text.split(separator: "\n") {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = object["step"] as? Int, let loss = object["loss"] as? Double else { continue }
            byStep[step] = loss
        }
        return byStep
    }

    /// The tensors of the latest checkpoint's model.safetensors (float32 only), by name.
    private func checkpointWeights(_ run: String) throws -> [String: [Float]] {
        let root = folder.appendingPathComponent("\(run)/checkpoints")
        let name = try String(contentsOf: root.appendingPathComponent("latest"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let bytes = [UInt8](try Data(contentsOf: root.appendingPathComponent("\(name)/model.safetensors")))
        let headerLength = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as? [String: Any])
        var tensors: [String: [Float]] = [:]
        for (key, value) in header where key != "__metadata__" {
            guard let entry = value as? [String: Any], entry["dtype"] as? String == "F32",
                  let offsets = entry["data_offsets"] as? [Int] else { continue }
            let start = 8 + headerLength + offsets[0], end = 8 + headerLength + offsets[1]
            tensors[key] = stride(from: start, to: end, by: 4).map { i in
                Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
            }
        }
        return tensors
    }

    /// |a - b| <= 1e-5 * max(|a|, |b|) + 1e-7 for every pair, and whether all are bitwise equal.
    @discardableResult
    private func assertClose(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        var worst = 0.0
        for (x, y) in zip(a, b) {
            let difference = Double(abs(x - y)), scale = Double(max(abs(x), abs(y)))
            if difference > 1e-5 * scale + 1e-7 { worst = max(worst, difference / max(scale, 1e-30)) }
        }
        XCTAssertEqual(worst, 0, "\(what): relative difference \(worst) above 1e-5", file: file, line: line)
        return a == b
    }

    /// The runs in folders `two` and `one` trained alike: `steps` losses (nil: the same
    /// steps, at least one), equal step by step, and every weight of the last checkpoint,
    /// within 1e-5 relative (but the scalars in `skipping`, by tensor).
    private func assertSameTraining(_ two: String, _ one: String, steps: Int?, skipping: [String: Set<Int>] = [:],
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let twoLosses = try losses(two), oneLosses = try losses(one)
        if let steps {
            XCTAssertEqual(twoLosses.count, steps, file: file, line: line)
        } else {
            XCTAssertFalse(twoLosses.isEmpty, file: file, line: line)
        }
        // (A step missing from `one` would compare with NaN, which assertClose lets pass.)
        XCTAssertEqual(Set(twoLosses.keys), Set(oneLosses.keys), file: file, line: line)
        let keys = twoLosses.keys.sorted()
        assertClose(keys.map { Float(twoLosses[$0]!) }, keys.map { Float(oneLosses[$0] ?? .nan) }, "losses", file: file, line: line)
        let twoWeights = try checkpointWeights(two), oneWeights = try checkpointWeights(one)
        XCTAssertEqual(Set(twoWeights.keys), Set(oneWeights.keys), file: file, line: line)
        XCTAssertFalse(twoWeights.isEmpty, file: file, line: line)
        for key in twoWeights.keys.sorted() {
            let kept = { (values: [Float]) in values.indices.filter { !(skipping[key]?.contains($0) ?? false) }.map { values[$0] } }
            assertClose(kept(twoWeights[key]!), kept(oneWeights[key] ?? []), key, file: file, line: line)
        }
    }

    /// 2 ranks x batch 2 compute what 1 process x batch 4 computes: the losses of every step
    /// and the final weights within 1e-5 relative (not bitwise: the allreduce sums the two
    /// halves' averages where one process averages all rows at once). A run of 2 ranks
    /// stopped at step 3 and resumed by 1 process (the same global batch) continues it; one
    /// resumed by 2 ranks continues it bitwise.
    func testTwoRanksEqualOneProcessWithTheWholeBatch() throws {
        _ = try requireMPI()
        let text = try corpusFile()
        _ = try trainTwoRanksAndOne(options(text), batchPerRank: 2)

        try assertSameTraining("two", "one", steps: 6)
        let twoLosses = try losses("two")
        let steps = twoLosses.keys.sorted()
        let config = try String(contentsOf: folder.appendingPathComponent("two/config.json"), encoding: .utf8)
        XCTAssertTrue(config.contains("\"batch_size\" : 4") || config.contains("\"batchSize\" : 4") || config.contains("4"), "the config keeps the global batch")

        // Stopped by 2 ranks after step 3, resumed by 1 process.
        let stopped = try mpi(2, options(text) + ["--out", "parts", "--batch-size", "2"], environment: ["SEQUENT_STOP_AT_STEP": "3"])
        XCTAssertEqual(stopped.status, 0, stopped.output)
        let resumed = try sequent(["lm", "train", "--out", "parts", "--resume", "--threads", "1", "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        let partLosses = try losses("parts")
        assertClose(steps.map { Float(partLosses[$0] ?? .nan) }, steps.map { Float(twoLosses[$0]!) }, "resumed losses")

        // Stopped and resumed by 2 ranks: bitwise the uninterrupted 2-rank run.
        let again = try mpi(2, options(text) + ["--out", "again", "--batch-size", "2"], environment: ["SEQUENT_STOP_AT_STEP": "3"])
        XCTAssertEqual(again.status, 0, again.output)
        let resumedByTwo = try mpi(2, ["lm", "train", "--out", "again", "--resume", "--threads", "1", "--quiet"])
        XCTAssertEqual(resumedByTwo.status, 0, resumedByTwo.output)
        XCTAssertEqual(try losses("again"), twoLosses)
    }

    /// `sequent classify train` through the same `--distributed` (from `TrainingOptions`):
    /// 2 ranks x batch 4 equal 1 process x batch 8 (losses and final weights within 1e-5
    /// relative) over an epoch of 63 training texts (8 steps), whose last batch (7 texts)
    /// splits 3 + 4. Then with `--class-weights balanced` on unbalanced classes (each rank's
    /// weighted mean weighted by its share's sum of class weights) and dropout on (0.25 on
    /// the token vectors and the pooled vector). Mean pooling: with attention pooling one
    /// scalar of `attn.proj.bias` ends 3.2e-7 apart (2.1e-5 relative; 1.8e-5 in the balanced
    /// run under ONEDNN_MAX_CPU_ISA=AVX2), every other weight within 1e-5: Adam amplifies the
    /// rounding of the allreduce at a step where that gradient is near 0.
    func testClassifyTwoRanksEqualOneProcess() throws {
        _ = try requireMPI()
        let positive = ["good fun film", "a great , warm story", "wonderful and witty", "great acting", "fun , good and moving"]
        let negative = ["bad dull film", "a boring , flat story", "awful and tedious", "bad acting", "dull , bad and slow"]
        var lines = ["label\tsentence"]
        for i in 0..<84 { lines.append(i % 3 == 0 ? "0\t\(negative[i % 5])" : "1\t\(positive[i % 5])") }
        let data = folder.appendingPathComponent("train.tsv")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: data)
        let options = ["classify", "train", "--train", data.path, "--val-fraction", "0.25", "--hidden", "8", "--embedding", "8", "--pooling", "mean",
                       "--steps", "8", "--eval-interval", "4", "--threads", "1", "--quiet",
                       "--text-column", "sentence", "--label-column", "label"]
        let plain = ["--dropout", "0", "--embedding-dropout", "0"]
        let two = try trainTwoRanksAndOne(options + plain, batchPerRank: 4).two
        try assertSameTraining("two", "one", steps: 8)
        XCTAssertEqual(two.output.components(separatedBy: "best validation").count, 2, "one final summary (rank 0's): \(two.output)")

        let balanced = ["--class-weights", "balanced"]
        _ = try trainTwoRanksAndOne(options + balanced, batchPerRank: 4, outs: ("two-balanced", "one-balanced"))
        try assertSameTraining("two-balanced", "one-balanced", steps: 8)
    }

    /// With dropout (between the LSTM layers and before the head), 2 ranks x batch 2 still
    /// equal 1 process x batch 4 within 1e-5: every rank draws the same keys and applies its
    /// rows of the global batch's masks.
    func testTwoRanksEqualOneProcessWithDropout() throws {
        _ = try requireMPI()
        let text = try corpusFile()
        _ = try trainTwoRanksAndOne(options(text, dropout: 0.3), batchPerRank: 2)
        try assertSameTraining("two", "one", steps: 6)
        // Without the shared masks the losses would differ in the second decimal.
        let plain = try sequent(options(text, dropout: 0) + ["--out", "plain", "--batch-size", "4"])
        XCTAssertEqual(plain.status, 0, plain.output)
        XCTAssertNotEqual(try losses("plain")[2], try losses("one")[2], "dropout changes the loss")
    }

    /// 37 sentence pairs of 1 to 6 words (so the ranks' shares hold different numbers of
    /// target tokens), and 6 validation pairs, as parallel files.
    private func translationFiles() throws -> [String] {
        let source = ["eins", "zwei", "drei", "vier", "fuenf", "sechs"], target = ["one", "two", "three", "four", "five", "six"]
        func sentences(_ words: [String], count: Int, shift: Int) -> String {
            (0..<count).map { i in (0..<(1 + (i * 5 + shift) % 6)).map { words[(i + $0 * 2) % 6] }.joined(separator: " ") }
                .joined(separator: "\n") + "\n"
        }
        var paths: [String] = []
        for (name, words, count, shift) in [("train.de", source, 37, 0), ("train.en", target, 37, 0), ("val.de", source, 6, 3), ("val.en", target, 6, 3)] {
            let url = folder.appendingPathComponent(name)
            try Data(sentences(words, count: count, shift: shift).utf8).write(to: url)
            paths.append(url.path)
        }
        return ["--source", paths[0], "--target", paths[1], "--val-source", paths[2], "--val-target", paths[3]]
    }

    /// `sequent translate train`, whose loss is the mean over a batch's target tokens and
    /// whose length-bucketed batches do not all divide among the ranks: 2 ranks x batch 3
    /// equal 1 process x batch 6 (losses of all 7 steps of an epoch and the final weights
    /// within 1e-5 relative), each rank weighted by its share's tokens. The epoch's last
    /// batch holds 1 pair (37 = 6 x 6 + 1), so one rank's share is empty that step. For the
    /// GRU with attention, and for a Transformer with dropout 0.3 (each rank pads its share
    /// as the whole batch and applies its rows of the batch's masks).
    func testTranslateTwoRanksEqualOneProcess() throws {
        _ = try requireMPI()
        let files = try translationFiles()
        let common = files + ["--steps", "7", "--eval-interval", "7", "--warmup", "1", "--threads", "1", "--quiet"]
        let models = [
            ("gru", ["--hidden", "8", "--embedding", "8"]),
            ("transformer", ["--model", "transformer", "--hidden", "8", "--heads", "2", "--layers", "1", "--feed-forward", "16", "--dropout", "0.3"]),
        ]
        for (name, flags) in models {
            let two = try trainTwoRanksAndOne(["translate", "train"] + common + flags, batchPerRank: 3, outs: ("\(name)-two", "\(name)-one")).two
            // The keys' bias (the middle third of in_proj_bias) does not change the attention
            // (softmax is invariant to it), so its exact gradient is 0: what it gets is rounding
            // noise, which Adam turns into steps of the learning rate's size, and two reduction
            // orders give two different noises. The rest is compared.
            let keysBias = try checkpointWeights("\(name)-two").filter { $0.key.hasSuffix("in_proj_bias") && $0.value.count % 3 == 0 }
                .mapValues { Set(($0.count / 3)..<(2 * $0.count / 3)) }
            try assertSameTraining("\(name)-two", "\(name)-one", steps: 7, skipping: keysBias)
            XCTAssertEqual(two.output.components(separatedBy: "best validation").count, 2, "one final summary (rank 0's): \(two.output)")
        }
    }

    /// `sequent speech train`, whose CTC loss is a mean over a batch's utterances, with
    /// SpecAugment on: 2 ranks x batch 4 equal 1 process x batch 8 (losses of 6 steps, two
    /// epochs, and the final weights within 1e-5 relative). Every rank draws the whole
    /// batch's SpecAugment masks in one process's order and keeps its rows'; the epoch's
    /// last batch is smaller than 8 and splits unevenly between the ranks.
    /// Dropout is the default 0.2, between the 2 LSTM layers and before the head, on the
    /// time-major (T, B, H) tensors: each rank applies its rows of one process's masks
    /// (`BatchShard.with(firstRow:rows:of:batchAxis:)`).
    func testSpeechTwoRanksEqualOneProcess() throws {
        _ = try requireMPI()
        let audio = folder.appendingPathComponent("audio")
        try FileManager.default.createDirectory(at: audio, withIntermediateDirectories: true)
        let words = ["lo", "mid", "hi"]
        var tsv = "path\ttext\n"
        for i in 0..<21 {
            let said = (0...(i % 3)).map { words[(i * 7 + $0 * 5 + i / 3) % 3] }
            try SpeechCommandTests.wav(SpeechCommandTests.utterance(said, seed: i)).write(to: audio.appendingPathComponent("u\(i).wav"))
            tsv += "u\(i).wav\t\(said.joined(separator: " "))\n"
        }
        try Data(tsv.utf8).write(to: audio.appendingPathComponent("transcripts.tsv"))
        let common = ["speech", "train", "--audio", audio.path, "--transcripts", audio.appendingPathComponent("transcripts.tsv").path,
                      "--val-fraction", "0.2", "--hidden", "8", "--layers", "2", "--mel-bins", "16", "--stack", "3", "--units", "words",
                      "--steps", "6", "--threads", "1", "--quiet"]
        let two = try trainTwoRanksAndOne(common, batchPerRank: 4).two
        try assertSameTraining("two", "one", steps: 6)
        XCTAssertEqual(two.output.components(separatedBy: "best validation").count, 2, "one final summary (rank 0's): \(two.output)")
        // Without the shared masks the ranks would not match: dropout changes the losses.
        let plain = try sequent(common + ["--dropout", "0", "--out", "plain", "--batch-size", "8"])
        XCTAssertEqual(plain.status, 0, plain.output)
        XCTAssertNotEqual(try losses("plain")[2], try losses("one")[2], "dropout changes the loss")
    }

    /// `sequent forecast train`: every training it runs (one per differencing candidate,
    /// then the member) is data-parallel in turn, its loss (the MSE over a batch's windows)
    /// weighted by each rank's rows. 2 ranks x batch 8 equal 1 process x batch 16: the
    /// member's losses and final weights within 1e-5 relative, and the same differencing
    /// chosen (the candidates' validation MAEs are in config.json).
    func testForecastTwoRanksEqualOneProcess() throws {
        _ = try requireMPI()
        var lines = ["month,sales"]
        for t in 0..<96 {
            lines.append(String(format: "%04d-%02d,%.3f", 2000 + t / 12, t % 12 + 1, 100 + Double(t) + 10 * sin(2 * Double.pi * Double(t) / 12)))
        }
        let csv = folder.appendingPathComponent("sales.csv")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: csv)
        let common = ["forecast", "train", "--csv", csv.path, "--column", "sales", "--horizon", "6", "--steps", "12",
                      "--hidden", "8", "--ensemble", "1", "--threads", "1", "--quiet"]
        _ = try trainTwoRanksAndOne(common, batchPerRank: 8)
        try assertSameTraining("two", "one", steps: nil)
        let config = { (run: String) throws -> String in
            try String(contentsOf: self.folder.appendingPathComponent("\(run)/config.json"), encoding: .utf8)
        }
        let chosen = { (text: String) in text.split(separator: "\n").filter { $0.contains("\"differencing\"") }.joined() }
        XCTAssertEqual(chosen(try config("two")), chosen(try config("one")))
    }

    /// `sequent memory train` on a bit task (the NTM on copy, time-major batches sharded
    /// along their batch axis): 2 ranks x batch 2 equal 1 process x batch 4 (losses of 4
    /// steps and the final weights within 1e-5 relative).
    func testMemoryBitTaskTwoRanksEqualOneProcess() throws {
        _ = try requireMPI()
        let common = ["memory", "train", "--task", "copy", "--steps", "4", "--threads", "1", "--quiet",
                      "--max-length", "3", "--memory-slots", "8", "--memory-width", "4", "--hidden", "8"]
        let two = try trainTwoRanksAndOne(common, batchPerRank: 2).two
        try assertSameTraining("two", "one", steps: 4)
        XCTAssertEqual(two.output.components(separatedBy: "model: ").count, 2, "one final summary (rank 0's): \(two.output)")
    }

    /// `sequent memory train --task babi` (the memory network, with its random noise: empty
    /// memories drawn for the whole batch by every rank in one process's order): 2 ranks x
    /// batch 3 equal 1 process x batch 6 (losses of 6 steps and the final weights within 1e-5
    /// relative) on a small bAbI file whose epoch ends in a batch of 1 question (rank 1's
    /// share is empty: it counts for nothing); only rank 0 writes and reports.
    ///
    /// Left out of the weights: the scalars whose exact gradient is 0 (in one dimension of
    /// the first embedding, the rows of "where" and "is", which every question holds at the
    /// same places, so their gradients are batch sums that cancel). Adam's first step moves
    /// every other scalar by about the learning rate, 0.01, and these by 1e-5 or less: it
    /// turns the rounding of a 1e-11 gradient into steps, whose sign differs between 2 ranks
    /// and 1 process. They are found as the scalars that a 1-step run moves by less than a
    /// tenth of the learning rate but not 0 (a run at learning rate 1e-12 gives the start;
    /// the padding rows, which never move, are compared), and at most 2 x 8 are allowed.
    func testMemoryBAbITwoRanksEqualOneProcess() throws {
        _ = try requireMPI()
        let generated = try sequent(["memory", "generate", "--babi-task", "1", "--stories", "3", "--seed", "7"])
        XCTAssertEqual(generated.status, 0, generated.output)
        let file = folder.appendingPathComponent("qa1.txt")
        try Data(generated.output.utf8).write(to: file)
        let common = ["memory", "train", "--task", "babi", "--babi", file.path, "--steps", "6", "--threads", "1", "--quiet",
                      "--hidden", "8", "--hops", "2"]
        let two = try trainTwoRanksAndOne(common, batchPerRank: 3).two
        for (out, steps, rate) in [("start", "1", "1e-12"), ("first", "1", "0.01")] {
            let run = try sequent(common + ["--out", out, "--batch-size", "6", "--steps", steps, "--learning-rate", rate])
            XCTAssertEqual(run.status, 0, run.output)
        }
        let start = try checkpointWeights("start"), first = try checkpointWeights("first")
        var still: [String: Set<Int>] = [:]
        for (key, values) in first {
            still[key] = Set(values.indices.filter { (Float(0)..<1e-3).contains(abs(values[$0] - start[key]![$0])) && values[$0] != start[key]![$0] })
        }
        XCTAssertLessThanOrEqual(still.values.reduce(0) { $0 + $1.count }, 16, "scalars without a gradient: \(still)")
        try assertSameTraining("two", "one", steps: 6, skipping: still)
        XCTAssertEqual(two.output.components(separatedBy: "model: ").count, 2, "one final summary (rank 0's): \(two.output)")
    }

    /// The global batch prints, and only rank 0 writes the progress and the folder.
    func testRunSaysTheGlobalBatch() throws {
        let text = try corpusFile()
        var arguments = options(text, steps: 2).filter { $0 != "--quiet" }
        arguments += ["--out", "said", "--batch-size", "3"]
        let run = try mpi(2, arguments)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("2 ranks (Open MPI) x 3 per rank = global batch 6"), run.output)
        XCTAssertEqual(run.output.components(separatedBy: "best validation").count, 2, "one final summary (rank 0's): \(run.output)")
    }

    /// A rank killed with SIGKILL ends the job within a bounded time, non-zero; the surviving
    /// rank names it in its own message; the last checkpoint loads and a resume (here by 1
    /// process) finishes the run.
    func testKilledRankEndsTheJobAndTheCheckpointResumes() throws {
        let mpirun = try requireMPI()
        guard FileManager.default.fileExists(atPath: "/proc/self/environ") else { throw XCTSkip("needs /proc to find rank 1") }
        let text = try corpusFile()
        let process = Process()
        process.executableURL = mpirun
        process.arguments = ["-np", "2", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", Self.binary!.path]
            + options(text, steps: 1000, evalInterval: 250) + ["--out", "killed", "--batch-size", "2"]
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.merging(Self.mpiEnvironment) { $1 }
        let log = folder.appendingPathComponent("killed.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()

        // Wait for the first checkpoint (every 100 steps), then kill rank 1.
        let latest = folder.appendingPathComponent("killed/checkpoints/latest")
        var deadline = Date().addingTimeInterval(120)
        while process.isRunning, !FileManager.default.fileExists(atPath: latest.path), Date() < deadline { usleep(20_000) }
        XCTAssertTrue(process.isRunning, "the run ended before its first checkpoint")
        let rankOne = try XCTUnwrap(Self.childProcess(of: process.processIdentifier, rank: 1), "rank 1's process")
        kill(rankOne, SIGKILL)
        let killed = Date()
        deadline = killed.addingTimeInterval(60)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try handle.close()
        let output = try String(contentsOf: log, encoding: .utf8)
        let seconds = Date().timeIntervalSince(killed)
        XCTAssertLessThan(seconds, 30, "the job outlived its killed rank by \(seconds) s")
        XCTAssertNotEqual(process.terminationStatus, 0)
        // The survivor's own line, besides mpirun's.
        XCTAssertTrue(output.contains("rank 0 of 2: rank 1 (process \(rankOne) on this machine) died during training"), output)

        // The last checkpoint loads: a single process resumes it (only a few steps more).
        let checkpoint = try String(contentsOf: latest, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let step = try XCTUnwrap(Int(checkpoint.replacingOccurrences(of: "checkpoint-", with: "")))
        let resumed = try sequent(["lm", "train", "--out", "killed", "--resume", "--threads", "1", "--quiet"],
                                  environment: ["SEQUENT_STOP_AT_STEP": String(step + 2)])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("step \(step + 2)"), resumed.output)
    }

    /// `scripts/mpi-two-hosts.sh`: rank 1 in another network namespace, over TCP on a veth
    /// pair, gives the losses of one process (the script skips where namespaces cannot be made).
    func testTwoNetworkNamespacesGiveTheSameLosses() throws {
        _ = try requireMPI()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let run = try launch(URL(fileURLWithPath: "/bin/bash"), [root.appendingPathComponent("scripts/mpi-two-hosts.sh").path, Self.binary!.path])
        if run.output.contains("SKIPPED") { throw XCTSkip(run.output.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("OK: 6 steps agree within 1e-5 relative"), run.output)
    }

    /// The child of `parent` whose environment says it is rank `rank` of an Open MPI job.
    private static func childProcess(of parent: Int32, rank: Int) -> Int32? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == parent,
                  let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
        }
        return nil
    }

    /// Ranks started with different flags stop before training, naming the rank and the
    /// setting; a global batch that the ranks do not divide, --distributed none under
    /// mpirun, and a missing MPI library are refused with one clear message.
    func testRefusals() throws {
        let mpirun = try requireMPI()
        let text = try corpusFile()
        let seeds = try launch(mpirun, ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                                        "-np", "1", Self.binary!.path] + options(text) + ["--out", "a", "--seed", "1"]
                                  + [":", "-np", "1", Self.binary!.path] + options(text) + ["--out", "a", "--seed", "2"])
        XCTAssertNotEqual(seeds.status, 0)
        XCTAssertTrue(seeds.output.contains("rank 1 disagrees with rank 0 on the configuration"), seeds.output)
        XCTAssertTrue(seeds.output.contains("\"seed\" : 1") && seeds.output.contains("\"seed\" : 2"), seeds.output)

        // A run with a global batch of 3 cannot resume on 2 ranks.
        XCTAssertEqual(try sequent(options(text, steps: 2) + ["--out", "three", "--batch-size", "3"]).status, 0)
        let odd = try mpi(2, ["lm", "train", "--out", "three", "--resume", "--threads", "1", "--quiet"])
        XCTAssertNotEqual(odd.status, 0)
        XCTAssertTrue(odd.output.contains("global batch of 3, which does not divide among 2 ranks"), odd.output)

        let none = try mpi(2, options(text) + ["--out", "n", "--distributed", "none"])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.output.contains("--distributed"), none.output)

        let missing = try sequent(options(text) + ["--out", "m", "--distributed", "mpi", "--mpi-library", "/nonexistent/libmpi.so.40"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.output.contains("cannot load Open MPI's library") && missing.output.contains("openmpi-bin"), missing.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("m").path), "nothing written")
    }

    /// Without mpirun and without --distributed, nothing of MPI is loaded (the run is the
    /// single-process one even where no MPI is installed): a bogus library path is never read.
    func testSingleProcessDoesNotLoadMPI() throws {
        let text = try corpusFile()
        let run = try sequent(options(text, steps: 1) + ["--out", "single", "--mpi-library", "/nonexistent/libmpi.so.40"])
        XCTAssertEqual(run.status, 0, run.output)
    }
}
