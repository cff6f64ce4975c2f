import Foundation
import SequentData
import SequentNN
import SequentTensor

/// The folder a task command (`sequent lm|forecast|translate|classify|speech|memory train`)
/// writes, readable without Sequent (`shared/design/APPS.md`):
///
///     DIR/config.json          {"task", "sequent_version", "command", "created", "config": {...}}
///     DIR/model.safetensors    the best weights by validation (PyTorch's names)
///     DIR/tokenizer.json       or the task's own preprocessing state, beside it
///     DIR/checkpoints/         the Trainer's resumable checkpoints
///     DIR/metrics.jsonl, DIR/events.out.tfevents.*, DIR/report.md and its SVG plots
///
/// `create` checks that the folder can be written before any work starts, and `open` refuses
/// a folder of another task by name. Every file goes through `AtomicFile`, so a failed or
/// interrupted run leaves the previous version of each file whole.
public struct ModelFolder: Sendable {
    /// The folder.
    public let url: URL
    /// The task that wrote it (`"lm"`, `"forecast"`, ...).
    public let task: String

    public static let configFileName = "config.json"
    public static let weightsFileName = "model.safetensors"
    public static let tokenizerFileName = "tokenizer.json"
    public static let checkpointsFolderName = "checkpoints"
    public static let reportFileName = "report.md"

    public var configURL: URL { url.appendingPathComponent(Self.configFileName) }
    public var weightsURL: URL { url.appendingPathComponent(Self.weightsFileName) }
    public var tokenizerURL: URL { url.appendingPathComponent(Self.tokenizerFileName) }
    public var checkpointsURL: URL { url.appendingPathComponent(Self.checkpointsFolderName) }
    public var reportURL: URL { url.appendingPathComponent(Self.reportFileName) }

    /// The path of `name` inside the folder.
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Creates `url` (and its parents) for `task`, or reuses it, after checking that it can
    /// be written: a probe file is created and removed, so an unwritable path fails here,
    /// before training, with a message naming it.
    ///
    /// - Throws: `SequentError.io` when the path is a file, cannot be created or written, and
    ///   `SequentError.invalidArgument` when it already holds a model of another task.
    public static func create(at url: URL, task: String) throws -> ModelFolder {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw SequentError.io(url.path, "is a file, not a folder; give --out a folder to write the model into")
            }
            if let existing = try? readTask(of: url), existing != task {
                throw SequentError.invalidArgument(
                    "--out", "\(url.path) holds a model of `sequent \(existing)`, not `sequent \(task)`; choose another folder")
            }
        } else {
            do {
                try fileManager.createDirectory(at: url, withIntermediateDirectories: true)
            } catch {
                throw SequentError.io(url.path, "cannot create the model folder (\(InputFile.describe(error)))")
            }
        }
        let probe = url.appendingPathComponent(".write-test-\(UUID().uuidString)")
        guard fileManager.createFile(atPath: probe.path, contents: Data()) else {
            throw SequentError.io(url.path, "cannot write into the model folder (permission, read-only or full file system)")
        }
        try? fileManager.removeItem(at: probe)
        return ModelFolder(url: url, task: task)
    }

    /// The folder a run writes into: created and checked as `create(at:task:)` does by the
    /// process that `writes` (rank 0 of a data-parallel run, or the only process); for the
    /// other ranks, which read its paths but write nothing, the folder at `url` without
    /// touching the disk.
    public static func create(at url: URL, task: String, writes: Bool) throws -> ModelFolder {
        writes ? try create(at: url, task: task) : ModelFolder(url: url, task: task)
    }

    /// Opens a model folder written by `sequent TASK train`.
    ///
    /// - Throws: `SequentError` when `url` is not a folder, has no readable `config.json`, or
    ///   was written by another task (named in the message).
    public static func open(_ url: URL, task: String) throws -> ModelFolder {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw SequentError.io(url.path, "no such model folder")
        }
        guard isDirectory.boolValue else {
            throw SequentError.io(url.path, "is a file, not a model folder (give the folder `sequent \(task) train --out` wrote)")
        }
        let found = try readTask(of: url)
        guard found == task else {
            throw SequentError.invalidArgument(
                "model folder", "\(url.path) holds a model of `sequent \(found)`; use `sequent \(found)` with it, or give a `sequent \(task)` model")
        }
        return ModelFolder(url: url, task: task)
    }

    /// The task named in `url/config.json`.
    private static func readTask(of url: URL) throws -> String {
        let configURL = url.appendingPathComponent(configFileName)
        guard let data = FileManager.default.contents(atPath: configURL.path) else {
            throw SequentError.io(configURL.path, "missing or unreadable: this is not a model folder written by `sequent ... train`")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let task = object["task"] as? String else {
            throw SequentError.io(configURL.path, "is not a Sequent model config (no \"task\" key)")
        }
        return task
    }

    // MARK: - Runs

    /// Whether the folder holds a training run (checkpoints or a metrics log), which a fresh
    /// run must not mix its own with.
    public var holdsARun: Bool {
        FileManager.default.fileExists(atPath: checkpointsURL.path) || FileManager.default.fileExists(atPath: file("metrics.jsonl").path)
    }

    /// Refuses to start a fresh run in a folder that holds one (`--out` without `--resume`).
    ///
    /// - Throws: `SequentError.invalidArgument` naming `--out` and `--resume`.
    public func refuseExistingRun() throws {
        if holdsARun {
            throw SequentError.invalidArgument(
                "--out", "\(url.path) holds a previous run; continue it with --resume, or choose another folder")
        }
    }

    // MARK: - config.json

    /// What `config.json` holds: the task's own configuration under `config`, with the facts
    /// every model folder records.
    public struct Envelope<Config: Codable>: Codable {
        public var task: String
        public var sequentVersion: String
        public var command: [String]
        public var created: String
        public var config: Config

        enum CodingKeys: String, CodingKey {
            case task, command, created, config
            case sequentVersion = "sequent_version"
        }
    }

    /// Writes `config.json` with `config` and the task, version, command line and time.
    public func writeConfig<Config: Codable>(_ config: Config, version: String,
                                             command: [String] = CommandLine.arguments) throws {
        let envelope = Envelope(task: task, sequentVersion: version, command: command,
                                created: ISO8601DateFormatter().string(from: Date()), config: config)
        try writeJSON(envelope, to: Self.configFileName)
    }

    /// The task's configuration from `config.json`.
    ///
    /// - Throws: `SequentError.io` naming the file and the key that does not decode.
    public func readConfig<Config: Codable>(as type: Config.Type) throws -> Config {
        try readJSON(Envelope<Config>.self, from: Self.configFileName).config
    }

    /// Encodes `value` as pretty, sorted JSON into `name`, atomically.
    public func writeJSON<Value: Encodable>(_ value: Value, to name: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(value) } catch {
            throw SequentError.invalidArgument("ModelFolder", "cannot encode \(name): \(error)")
        }
        try write(Array(data) + [10], to: name)
    }

    /// Decodes `name` as JSON.
    public func readJSON<Value: Decodable>(_ type: Value.Type, from name: String) throws -> Value {
        let fileURL = file(name)
        guard let data = FileManager.default.contents(atPath: fileURL.path) else {
            throw SequentError.io(fileURL.path, "missing or unreadable")
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw SequentError.io(fileURL.path, "has no \"\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))\"; written by another version of Sequent?")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            throw SequentError.io(fileURL.path, "cannot read \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\": \(context.debugDescription)")
        } catch {
            throw SequentError.io(fileURL.path, "cannot be read: \(error)")
        }
    }

    /// Writes `bytes` to `name` inside the folder, atomically (temporary file, fsync, rename).
    public func write(_ bytes: [UInt8], to name: String) throws {
        try AtomicFile.write(bytes, to: file(name))
    }

    /// Writes `text` (UTF-8) to `name` inside the folder, atomically.
    public func write(text: String, to name: String) throws {
        try write(Array(text.utf8), to: name)
    }

    // MARK: - Weights

    /// Saves `model`'s parameters as `model.safetensors` (PyTorch's names), atomically.
    public func saveWeights(of model: some Module, metadata: [String: String] = [:]) throws {
        var metadata = metadata
        if metadata["format"] == nil { metadata["format"] = "pt" }
        try write(try SafeTensors(tensors: model.stateDictionary(), metadata: metadata).encoded(), to: Self.weightsFileName)
    }

    /// The tokenizer in `tokenizer.json`, checked against the vocabulary size the model was
    /// built for (`config.json`).
    ///
    /// - Throws: `SequentError` naming `tokenizer.json` when it is unreadable or its size differs.
    public func loadTokenizer(vocabularySize: Int) throws -> any Tokenizer {
        let tokenizer = try SequentData.loadTokenizer(from: tokenizerURL)
        guard tokenizer.vocabularySize == vocabularySize else {
            throw SequentError.malformedFile(tokenizerURL.path, "has \(tokenizer.vocabularySize) tokens, config.json says \(vocabularySize)")
        }
        return tokenizer
    }

    /// Loads the trained weights (`model.safetensors`) into `model` and sets it to evaluation
    /// mode, for `eval` and `predict`.
    ///
    /// - Parameter hint: appended to the error when the file is missing (how to get it).
    /// - Throws: `SequentError` when the file is missing, or as `loadWeights`.
    public func loadTrainedWeights(into model: some Module, hint: String = "") throws {
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            throw SequentError.io(weightsURL.path, "missing: the training run has not saved a model yet" + hint)
        }
        try loadWeights(into: model)
        model.setTraining(false)
    }

    /// Loads `model.safetensors` into `model`.
    ///
    /// - Throws: `SequentError` naming the file, or the parameter that is missing or has
    ///   another shape.
    public func loadWeights(into model: some Module) throws {
        let weights = try SafeTensors.read(from: weightsURL)
        try model.loadStateDictionary(weights.tensors)
    }
}
