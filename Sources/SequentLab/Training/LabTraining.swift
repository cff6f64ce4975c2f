import Foundation
import SequentData
import SequentNN
import SequentTensor
import SequentTrain

/// Batches of a generated task, drawn fresh from the source's own generator at every step:
/// the lab's synthetic tasks (adding problem, copy memory, reversal pairs) as the
/// `TrainingData` the `Trainer` consumes.
///
/// `position` carries the generator's state before the next draw, so `seek(to:)` replays
/// the same batches from there.
struct GeneratedBatches<Batch>: TrainingData {
    /// Draws one batch.
    let draw: (inout RandomGenerator) throws -> Batch
    private var generator: RandomGenerator
    private var index = 0

    init(generator: RandomGenerator, draw: @escaping (inout RandomGenerator) throws -> Batch) {
        self.generator = generator
        self.draw = draw
    }

    var position: DataPosition {
        DataPosition(epoch: 0, index: index, generator: RandomGeneratorState(words: generator.stateWords))
    }

    mutating func nextBatch() throws -> Batch {
        index += 1
        return try draw(&generator)
    }

    mutating func seek(to position: DataPosition) throws {
        guard let state = position.generator else {
            throw SequentError.invalidArgument("GeneratedBatches.seek", "the position has no generator state")
        }
        generator = try RandomGenerator(stateWords: state.words)
        index = position.index
    }
}

/// The module the `Trainer` sees: any lab model, its keys and mode passed through.
final class LabModule: Module {
    let wrapped: any Module

    init(_ wrapped: any Module) { self.wrapped = wrapped }

    var localParameters: [(key: String, parameter: Parameter)] { wrapped.localParameters }
    var submodules: [(key: String, module: any Module)] { wrapped.submodules }
    var isTraining: Bool {
        get { wrapped.isTraining }
        set { wrapped.isTraining = newValue }
    }
}

/// How every lab model is trained: Adam on the `Trainer`, the gradient norm clipped (to 1
/// unless said otherwise), no files written, no progress bar, and signals left to the lab
/// (which writes its partial report on Ctrl-C).
struct LabTraining {
    /// Adam's learning rate.
    var learningRate: Float
    /// The step budget.
    var steps: Int
    /// The global gradient norm is clipped to this.
    var maxGradientNorm: Float = 1
    /// Evaluate every this many steps (and at the last); nil for the last step only.
    var evaluationInterval: Int?

    /// One evaluation: the step (0 before training) and the metrics.
    typealias Evaluation = (step: Int, metrics: [String: Double])

    /// What a run produced.
    struct Outcome {
        /// The evaluation before training (when `evaluatesAtStart`) and those of the Trainer.
        var evaluations: [Evaluation]
        /// Steps trained (the budget, or fewer when `stop` ended the run).
        var steps: Int
        /// The training losses of every step.
        var losses: [Float]
        /// Wall-clock seconds of the training (evaluations included).
        var seconds: Double
        /// Wall-clock seconds of each step (batch, forward, backward, clipping, update).
        var stepSeconds: [Double]
        /// This process's CPU seconds of each step, all threads together (the first from the
        /// start of `fit`, so it includes the Trainer's set-up).
        var stepCPUSeconds: [Double] = []
    }

    /// Trains `model` on `data` with the loss of a batch.
    ///
    /// - Parameters:
    ///   - validation: metrics on held-out data, run in evaluation mode without gradients.
    ///   - evaluatesAtStart: also evaluate before the first step (step 0 of the curve).
    ///   - stop: after each evaluation, true ends the run (for instance a solved task).
    ///   - timeLimit: seconds of training after which the run ends (equal-time comparisons).
    ///   - loss: the loss of a batch and the tokens (or examples) it covered.
    func run<Data: TrainingData>(
        _ model: any Module, data: Data, validation: (() throws -> [String: Double])? = nil, evaluatesAtStart: Bool = false,
        stop: (([String: Double]) -> Bool)? = nil, timeLimit: Double? = nil,
        loss: @escaping (Data.Batch) throws -> (loss: Tensor, tokenCount: Int)
    ) throws -> Outcome {
        let module = LabModule(model)
        var configuration = TrainerConfiguration(totalSteps: steps)
        configuration.maxGradientNorm = maxGradientNorm
        configuration.evaluationInterval = evaluationInterval
        configuration.progress = nil
        configuration.stopsOnSignals = false
        let optimizer = try Adam(namedParameters: module.namedParameters(), learningRate: learningRate)
        let evaluate = validation.map { body in { (_: LabModule) throws -> [String: Double] in try withoutGradients { try body() } } }
        let trainer = try Trainer(model: module, optimizer: optimizer, data: data, configuration: configuration,
                                  validation: evaluate) { _, batch in try loss(batch) }
        var evaluations: [Evaluation] = []
        var stepSeconds: [Double] = []
        var stepCPUSeconds: [Double] = []
        var lastCPU = ProcessCPUTime.seconds
        if evaluatesAtStart, let evaluate {
            module.setTraining(false)
            evaluations.append((0, try evaluate(module)))
            module.setTraining(true)
        }
        trainer.callbacks.append(ClosureCallback(
            onStepEnd: { report, control in
                stepSeconds.append(report.tokensPerSecond > 0 ? Double(report.tokenCount) / report.tokensPerSecond : 0)
                let cpu = ProcessCPUTime.seconds
                stepCPUSeconds.append(cpu - lastCPU)
                lastCPU = cpu
                if let timeLimit, report.elapsedSeconds >= timeLimit { control.requestStop() }
            },
            onEvaluation: { report, control in
                evaluations.append((report.step, report.metrics))
                if let stop, stop(report.metrics) { control.requestStop() }
            }))
        lastCPU = ProcessCPUTime.seconds
        let (result, seconds) = try timed { try trainer.fit() }
        // A run stopped between evaluations (time limit) is evaluated once more at its end.
        if let evaluate, evaluations.last?.step != trainer.step {
            module.setTraining(false)
            evaluations.append((trainer.step, try evaluate(module)))
        }
        module.setTraining(false)
        return Outcome(evaluations: evaluations, steps: trainer.step, losses: result.losses, seconds: seconds, stepSeconds: stepSeconds,
                       stepCPUSeconds: stepCPUSeconds)
    }
}
