import Foundation
import SequentNN
import SequentTensor
import SequentTrain

/// What a task command keeps as `config.json`'s `config`: everything that rebuilds its
/// model. `eval`, `predict` and `train --resume` read it back with
/// `ModelFolder.open(_:task:config:)`; `ModelFolder.loadTrainedModel(_:hint:)` rebuilds the
/// model from it with the folder's best weights.
protocol TaskConfig: Codable {
    /// The model the config builds: a `Module`, or a task's own wrapper of one.
    associatedtype Model
    /// The seed of the run; the model's initial weights are drawn from it.
    var seed: UInt64 { get }
    /// Builds the model this config describes, its initial weights drawn from `generator`.
    func makeModel(generator: inout RandomGenerator) throws -> Model
    /// The module whose parameters `model.safetensors` holds.
    static func parameters(of model: Model) -> any Module
}

extension TaskConfig where Model: Module {
    static func parameters(of model: Model) -> any Module { model }
}

extension ModelFolder {
    /// Opens the model folder at `url` that `sequent TASK train` wrote, refusing a folder of
    /// another task, and reads its config.
    ///
    /// - Throws: `SequentError` as `open(_:task:)` and `readConfig(as:)`.
    static func open<Config: Codable>(_ url: URL, task: String, config: Config.Type) throws -> (folder: ModelFolder, config: Config) {
        let folder = try open(url, task: task)
        return (folder, try folder.readConfig(as: Config.self))
    }

    /// The model `config` describes, built as training built it (from `config.seed`), with
    /// this folder's best weights (`model.safetensors`) loaded, in evaluation mode.
    ///
    /// - Parameter hint: appended to the error when the weights are missing (how to get them).
    func loadTrainedModel<Config: TaskConfig>(_ config: Config, hint: String = "") throws -> Config.Model {
        var generator = RandomGenerator(seed: config.seed)
        let model = try config.makeModel(generator: &generator)
        try loadTrainedWeights(into: Config.parameters(of: model), hint: hint)
        return model
    }
}
