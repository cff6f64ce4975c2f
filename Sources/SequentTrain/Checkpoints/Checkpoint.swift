import Foundation
import SequentNN
import SequentTensor

/// A saved training run: model weights, the config that rebuilds the model, the optimizer's
/// state and the training state, in one directory, switched into place atomically.
///
/// Layout of a checkpoint root (the `directory` given to `save`):
///
///     latest                     "checkpoint-1200\n": the newest complete checkpoint
///     checkpoint-1000/           an older one, kept by `keepLast`
///     checkpoint-1200/
///         model.safetensors      the model's parameters under PyTorch's state_dict keys
///         config.json            the caller's config, enough to rebuild the model
///         optimizer.safetensors  the optimizer's state dictionary (absent without optimizer)
///         training_state.json    step, epoch, data position, generator states, best metric
///     .tmp-...                   a save in progress, or one cut off by a crash (removed by the next)
///
/// A save writes everything into a fresh `.tmp-` directory (each file written, fsynced and
/// renamed into place, see `AtomicFile`), renames that directory to `checkpoint-<step>`,
/// and only then replaces `latest`, atomically. Whenever the process dies, `latest` names
/// a complete checkpoint: the previous one until the new one is entirely on disk. Older
/// checkpoints are removed only after that switch. One process saves into a root at a time.
public struct Checkpoint {
    /// The model's parameters.
    public static let modelFileName = "model.safetensors"
    /// The config that rebuilds the model.
    public static let configFileName = "config.json"
    /// The optimizer's state dictionary.
    public static let optimizerFileName = "optimizer.safetensors"
    /// Counters, data position, generator states.
    public static let trainingStateFileName = "training_state.json"
    /// The pointer to the newest complete checkpoint in a root.
    public static let latestFileName = "latest"

    /// The checkpoint's own directory (`.../checkpoint-<step>`).
    public let directory: URL
    /// The model's parameters and the metadata saved with them.
    public let model: SafeTensors
    /// The optimizer's state dictionary, nil if the checkpoint was saved without one.
    public let optimizerState: [String: Tensor]?
    /// The bytes of `config.json`; decode them with `config(as:)`.
    public let configData: Data
    /// The training state.
    public let trainingState: TrainingState

    /// Decodes `config.json` as `Config`.
    ///
    /// - Throws: `SequentError` (`.malformedFile`) naming the file and the failing key.
    public func config<Config: Decodable>(as type: Config.Type) throws -> Config {
        let url = directory.appendingPathComponent(Self.configFileName)
        do {
            return try JSONDecoder().decode(Config.self, from: configData)
        } catch let error as DecodingError {
            throw SequentError(.malformedFile, "\(url.path): \(Self.describe(error))")
        }
    }

    /// Loads the saved weights into `model`.
    ///
    /// - Throws: `SequentError` naming `model.safetensors` and every missing, unexpected or
    ///   mis-shaped tensor; `model` is unchanged then.
    public func loadWeights(into model: some Module) throws {
        let path = directory.appendingPathComponent(Self.modelFileName).path
        let named = model.namedParameters()
        let saved = self.model.tensors
        let expected = Set(named.map(\.key))
        let missing = named.map(\.key).filter { saved[$0] == nil }
        let unexpected = saved.keys.filter { !expected.contains($0) }.sorted()
        if !missing.isEmpty || !unexpected.isEmpty {
            var problems: [String] = []
            if !missing.isEmpty { problems.append("missing \(Self.list(missing)) (the model has them)") }
            if !unexpected.isEmpty { problems.append("unexpected \(Self.list(unexpected)) (the model has no such parameters)") }
            throw SequentError(.invalidArgument, "\(path): \(problems.joined(separator: "; "))")
        }
        for (key, parameter) in named where saved[key]!.shape != parameter.shape {
            throw SequentError.shapeMismatch(path, "tensor '\(key)' has shape \(saved[key]!.shape), the model expects \(parameter.shape)")
        }
        try model.loadStateDictionary(saved)
    }

    /// Loads the saved optimizer state into `optimizer` (built over the same parameters).
    ///
    /// - Throws: `SequentError` naming `optimizer.safetensors` and the offending tensor, or
    ///   saying that the checkpoint has no optimizer state.
    public func loadOptimizerState(into optimizer: some Optimizer) throws {
        let path = directory.appendingPathComponent(Self.optimizerFileName).path
        guard let optimizerState else {
            throw SequentError(.invalidArgument, "\(path): the checkpoint was saved without an optimizer")
        }
        do {
            try optimizer.loadStateDictionary(optimizerState)
        } catch let error as SequentError {
            throw SequentError(error.kind, "\(path): \(error.message)")
        }
    }

    // MARK: - Saving

    /// Saves a checkpoint into the root `directory` and makes it the latest.
    ///
    /// - Parameters:
    ///   - directory: the checkpoint root; created if missing.
    ///   - model: its `stateDictionary()` goes to `model.safetensors`.
    ///   - optimizer: its `stateDictionary()` goes to `optimizer.safetensors`; nil for none.
    ///   - config: encoded as `config.json`; it should rebuild the model on its own.
    ///   - trainingState: goes to `training_state.json`; `step` names the directory.
    ///   - metadata: stored in `model.safetensors`' `__metadata__` (with `"format": "pt"`
    ///     unless given, which Hugging Face's loaders expect).
    ///   - keepLast: if set, only the newest `keepLast` checkpoints are kept afterwards.
    /// - Returns: the new checkpoint's directory.
    /// - Throws: `SequentError` naming the path and the failing step; the previous
    ///   checkpoint and `latest` are then untouched.
    @discardableResult
    public static func save(
        to directory: URL, model: some Module, optimizer: (any Optimizer)?, config: some Encodable,
        trainingState: TrainingState, metadata: [String: String] = [:], keepLast: Int? = nil
    ) throws -> URL {
        try save(to: directory, model: model, optimizer: optimizer, config: config, trainingState: trainingState,
                 metadata: metadata, keepLast: keepLast, interrupt: { _ in })
    }

    /// `save` with a hook called before every durable step (see `AtomicFile.write`), so
    /// tests can fail or snapshot the directory at each point.
    static func save(
        to directory: URL, model: some Module, optimizer: (any Optimizer)?, config: some Encodable,
        trainingState: TrainingState, metadata: [String: String], keepLast: Int?,
        interrupt: (String) throws -> Void
    ) throws -> URL {
        if let keepLast, keepLast < 1 {
            throw SequentError.invalidArgument("Checkpoint.save", "keepLast must be at least 1, got \(keepLast)")
        }
        // Everything is encoded before anything touches the disk.
        var modelMetadata = metadata
        if modelMetadata["format"] == nil { modelMetadata["format"] = "pt" }
        var files: [(name: String, bytes: [UInt8])] = [
            (modelFileName, try SafeTensors(tensors: model.stateDictionary(), metadata: modelMetadata).encoded()),
            (configFileName, try encodeJSON(config, what: "config")),
            (trainingStateFileName, try encodeJSON(trainingState, what: "training state")),
        ]
        if let optimizer {
            files.insert((optimizerFileName, try SafeTensors(tensors: optimizer.stateDictionary()).encoded()), at: 1)
        }

        let fileManager = FileManager.default
        if !isDirectory(directory) {
            try io(directory, "cannot create the checkpoint directory") {
                try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
            }
            try AtomicFile.synchronizeDirectory(directory.deletingLastPathComponent())  // the new root's entry
        }
        try removeLeftovers(in: directory)
        let existing = Set(try contents(of: directory))
        var name = "checkpoint-\(trainingState.step)"
        var suffix = 0
        while existing.contains(name) {
            suffix += 1
            name = "checkpoint-\(trainingState.step)-\(suffix)"
        }
        let temporary = directory.appendingPathComponent(".tmp-\(name)-\(UUID().uuidString)")
        let final = directory.appendingPathComponent(name)

        do {
            try interrupt("create temporary directory")
            try io(temporary, "cannot create the temporary checkpoint directory") {
                try fileManager.createDirectory(at: temporary, withIntermediateDirectories: false)
            }
            for (fileName, bytes) in files {
                try AtomicFile.write(bytes, to: temporary.appendingPathComponent(fileName), interrupt: interrupt)
            }
            try interrupt("fsync temporary directory")
            try AtomicFile.synchronizeDirectory(temporary)
            try interrupt("rename checkpoint directory")
            try AtomicFile.rename(temporary, to: final)
        } catch {
            try? fileManager.removeItem(at: temporary)
            throw error
        }
        try interrupt("fsync checkpoint root")
        try AtomicFile.synchronizeDirectory(directory)
        try AtomicFile.write(Array("\(name)\n".utf8), to: directory.appendingPathComponent(latestFileName), interrupt: interrupt)

        if let keepLast {
            let all = try checkpointNames(in: directory)
            for old in all.dropLast(keepLast) where old != name {
                try interrupt("remove \(old)")
                try remove(directory.appendingPathComponent(old), in: directory)
            }
        }
        return final
    }

    // MARK: - Loading

    /// Loads a checkpoint: `url` is either a root (its `latest` is followed) or one
    /// checkpoint's own directory.
    ///
    /// - Throws: `SequentError` naming the file that is missing, unreadable or malformed.
    public static func load(from url: URL) throws -> Checkpoint {
        let fileManager = FileManager.default
        let directory: URL
        if fileManager.fileExists(atPath: url.appendingPathComponent(latestFileName).path) {
            directory = try latest(in: url)!
        } else if fileManager.fileExists(atPath: url.appendingPathComponent(modelFileName).path) {
            directory = url
        } else {
            throw SequentError(.io, "\(url.path): no checkpoint here (neither '\(latestFileName)' nor '\(modelFileName)')")
        }

        let model = try SafeTensors.read(from: directory.appendingPathComponent(modelFileName))
        let optimizerURL = directory.appendingPathComponent(optimizerFileName)
        let optimizerState = fileManager.fileExists(atPath: optimizerURL.path) ? try SafeTensors.read(from: optimizerURL).tensors : nil
        let configURL = directory.appendingPathComponent(configFileName)
        let configData = try read(configURL)
        guard (try? JSONSerialization.jsonObject(with: configData)) != nil else {
            throw SequentError(.malformedFile, "\(configURL.path): not valid JSON")
        }
        let stateURL = directory.appendingPathComponent(trainingStateFileName)
        let trainingState: TrainingState
        do {
            trainingState = try jsonDecoder().decode(TrainingState.self, from: try read(stateURL))
        } catch let error as DecodingError {
            throw SequentError(.malformedFile, "\(stateURL.path): \(describe(error))")
        }
        return Checkpoint(directory: directory, model: model, optimizerState: optimizerState,
                          configData: configData, trainingState: trainingState)
    }

    /// The newest complete checkpoint in the root `directory`, or nil if none was ever
    /// completed there.
    ///
    /// - Throws: `SequentError` (`.malformedFile`) if `latest` exists but does not name a
    ///   checkpoint directory beside it.
    public static func latest(in directory: URL) throws -> URL? {
        let pointer = directory.appendingPathComponent(latestFileName)
        guard FileManager.default.fileExists(atPath: pointer.path) else { return nil }
        let text = String(decoding: try read(pointer), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard parseName(text) != nil else {
            throw SequentError(.malformedFile, "\(pointer.path): expected a checkpoint name like 'checkpoint-100', got '\(text.prefix(100))'")
        }
        let target = directory.appendingPathComponent(text)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: target.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SequentError(.malformedFile, "\(pointer.path): names '\(text)', which is not a directory beside it")
        }
        return target
    }

    /// The checkpoint directories in the root `directory`, oldest (lowest step) first.
    public static func all(in directory: URL) throws -> [URL] {
        try checkpointNames(in: directory).map { directory.appendingPathComponent($0) }
    }

    // MARK: - Helpers

    /// (step, suffix) of "checkpoint-<step>" or "checkpoint-<step>-<suffix>", else nil.
    private static func parseName(_ name: String) -> (step: Int, suffix: Int)? {
        guard name.hasPrefix("checkpoint-") else { return nil }
        let parts = name.dropFirst("checkpoint-".count).split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
              parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let step = Int(parts[0]), let suffix = parts.count == 2 ? Int(parts[1]) : 0 else { return nil }
        return (step, suffix)
    }

    private static func checkpointNames(in directory: URL) throws -> [String] {
        try contents(of: directory)
            .compactMap { name in parseName(name).map { (name, $0) } }
            .filter { isDirectory(directory.appendingPathComponent($0.0)) }
            .sorted { ($0.1.step, $0.1.suffix) < ($1.1.step, $1.1.suffix) }
            .map(\.0)
    }

    private static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    private static func contents(of directory: URL) throws -> [String] {
        try io(directory, "cannot list the directory") { try FileManager.default.contentsOfDirectory(atPath: directory.path) }
    }

    /// Removes what earlier saves cut off by a crash left behind: unfinished checkpoint
    /// directories and temporary `latest` files, all named `.tmp-...`.
    private static func removeLeftovers(in directory: URL) throws {
        for name in try contents(of: directory) where name.hasPrefix(".tmp-") {
            let url = directory.appendingPathComponent(name)
            try io(url, "cannot remove an unfinished checkpoint") { try FileManager.default.removeItem(at: url) }
        }
    }

    /// Removes a checkpoint directory: first renamed to a `.tmp-` name (atomic), so that a
    /// crash part-way through the deletion never leaves a half checkpoint under its name.
    private static func remove(_ checkpoint: URL, in directory: URL) throws {
        let doomed = directory.appendingPathComponent(".tmp-removing-\(checkpoint.lastPathComponent)-\(UUID().uuidString)")
        try AtomicFile.rename(checkpoint, to: doomed)
        try io(doomed, "cannot remove an old checkpoint") { try FileManager.default.removeItem(at: doomed) }
    }

    private static func read(_ url: URL) throws -> Data {
        try io(url, "cannot read") { try Data(contentsOf: url) }
    }

    /// Runs a Foundation file operation, turning its error into a `SequentError` naming `url`.
    private static func io<T>(_ url: URL, _ what: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SequentError {
            throw error
        } catch {
            throw SequentError(.io, "\(url.path): \(what): \(error.localizedDescription)")
        }
    }

    private static func encodeJSON(_ value: some Encodable, what: String) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do {
            return Array(try encoder.encode(value)) + [UInt8(ascii: "\n")]
        } catch {
            throw SequentError.invalidArgument("Checkpoint.save", "the \(what) cannot be encoded as JSON: \(error)")
        }
    }

    private static func jsonDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return decoder
    }

    /// A one-line account of a decoding error: where and what.
    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.isEmpty ? "top level" : "'" + context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") + "'"
        }
        switch error {
        case let .keyNotFound(key, context):
            return "missing key '\(key.stringValue)' at \(path(context))"
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context):
            return "\(context.debugDescription) (at \(path(context)))"
        @unknown default:
            return "\(error)"
        }
    }

    /// Up to five quoted names, then how many more.
    private static func list(_ names: [String]) -> String {
        let shown = names.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
        let noun = names.count == 1 ? "tensor" : "tensors"
        return names.count > 5 ? "\(noun) \(shown) and \(names.count - 5) more" : "\(noun) \(shown)"
    }
}
