import Foundation
import SequentTensor

/// The learning-rate sweep every compared model gets before the measured runs: the same
/// candidate rates, the same steps per trial, the same validation data; the rate with the
/// lowest validation loss is kept. A trial that diverges (a non-finite loss, or the
/// Trainer's divergence error) counts as an infinite loss.
public struct LearningRateSweep: Sendable {
    /// One trial: a rate and the validation loss it reached.
    public struct Trial: Sendable {
        public var learningRate: Float
        public var validationLoss: Double
    }

    /// What was swept (a model, and the task it was swept on).
    public var name: String
    public var trials: [Trial]

    /// The rate of the lowest validation loss (the first candidate if every trial diverged).
    public var chosen: Float {
        trials.min { ($0.validationLoss.isFinite ? $0.validationLoss : .infinity) < ($1.validationLoss.isFinite ? $1.validationLoss : .infinity) }?.learningRate
            ?? trials.first?.learningRate ?? 1e-3
    }

    /// Runs `trial` at every rate of `candidates`.
    static func run(_ name: String, candidates: [Float], trial: (Float) throws -> Double) throws -> LearningRateSweep {
        var trials: [Trial] = []
        for rate in candidates {
            let loss: Double
            do {
                loss = try trial(rate)
            } catch let error as SequentError where error.kind == .invalidValue {
                loss = .infinity  // diverged: the Trainer stops on a non-finite loss or gradient
            }
            trials.append(Trial(learningRate: rate, validationLoss: loss.isFinite ? loss : .infinity))
        }
        return LearningRateSweep(name: name, trials: trials)
    }

    /// The sweeps as a report table: one row per model, one column per rate, the chosen marked.
    static func table(_ sweeps: [LearningRateSweep], lossName: String) -> ReportTable {
        let rates = sweeps.first?.trials.map(\.learningRate) ?? []
        return ReportTable(
            header: ["Model"] + rates.map { "lr \(formatted(Double($0)))" } + ["chosen"],
            rows: sweeps.map { sweep in
                [sweep.name] + sweep.trials.map { trial in
                    let value = trial.validationLoss.isFinite ? formatted(trial.validationLoss, 4) : "diverged"
                    return trial.learningRate == sweep.chosen ? "**\(value)**" : value
                } + [formatted(Double(sweep.chosen))]
            })
    }

    var json: JSONValue {
        .object([("name", .string(name)), ("chosen", .of(Double(chosen))),
                 ("trials", .array(trials.map { .object([("learning_rate", .of(Double($0.learningRate))), ("validation_loss", .of($0.validationLoss))]) }))])
    }
}
