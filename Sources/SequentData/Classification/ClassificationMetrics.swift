import Foundation

/// The scores of a classifier on labelled data, as scikit-learn computes them.
///
/// - accuracy: the share of predictions equal to the label.
/// - per class c: precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R), each 0 when its
///   denominator is 0 (scikit-learn's `zero_division=0`); support = records labelled c.
/// - macro F1: the unweighted mean of the classes' F1 (`f1_score(average="macro")`).
/// - confusion[i][j]: records of true class i predicted as class j (`confusion_matrix`).
/// - expected calibration error: the records put in `bins` equal-width bins of their top
///   probability; sum over bins of |accuracy - mean confidence| weighted by the bin's share
///   (Guo et al., 2017). A probability of exactly 1 falls in the last bin.
///
///     let m = ClassificationMetrics(truth: [0, 1, 1], predicted: [0, 1, 0], classCount: 2)
///     m.accuracy   // 2/3
public struct ClassificationMetrics: Equatable, Sendable {
    public var classCount: Int
    public var count: Int
    public var accuracy: Double
    public var precision: [Double]
    public var recall: [Double]
    public var f1: [Double]
    public var support: [Int]
    public var macroF1: Double
    public var confusion: [[Int]]
    /// Nil when no probabilities were given.
    public var expectedCalibrationError: Double?

    /// Scores `predicted` against `truth` (class ids in 0..<classCount), and calibration from
    /// `confidence` (the predicted class's probability, one a record) if given.
    public init(truth: [Int], predicted: [Int], classCount: Int, confidence: [Double]? = nil, bins: Int = 15) {
        precondition(truth.count == predicted.count && classCount >= 1, "ClassificationMetrics: internal misuse")
        self.classCount = classCount
        count = truth.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
        for (t, p) in zip(truth, predicted) { confusion[t][p] += 1 }
        self.confusion = confusion
        let correct = (0..<classCount).reduce(0) { $0 + confusion[$1][$1] }
        accuracy = count > 0 ? Double(correct) / Double(count) : 0
        var precision: [Double] = [], recall: [Double] = [], f1: [Double] = [], support: [Int] = []
        for c in 0..<classCount {
            let tp = Double(confusion[c][c])
            let predictedC = Double((0..<classCount).reduce(0) { $0 + confusion[$1][c] })
            let actualC = confusion[c].reduce(0, +)
            let p = predictedC > 0 ? tp / predictedC : 0
            let r = actualC > 0 ? tp / Double(actualC) : 0
            precision.append(p)
            recall.append(r)
            f1.append(p + r > 0 ? 2 * p * r / (p + r) : 0)
            support.append(actualC)
        }
        self.precision = precision
        self.recall = recall
        self.f1 = f1
        self.support = support
        macroF1 = f1.reduce(0, +) / Double(classCount)
        if let confidence, !confidence.isEmpty {
            var binCount = [Int](repeating: 0, count: bins)
            var binCorrect = [Double](repeating: 0, count: bins), binConfidence = [Double](repeating: 0, count: bins)
            for i in confidence.indices {
                let bin = min(bins - 1, max(0, Int(confidence[i] * Double(bins))))
                binCount[bin] += 1
                binConfidence[bin] += confidence[i]
                if truth[i] == predicted[i] { binCorrect[bin] += 1 }
            }
            var ece = 0.0
            for b in 0..<bins where binCount[b] > 0 {
                let n = Double(binCount[b])
                ece += n / Double(confidence.count) * abs(binCorrect[b] / n - binConfidence[b] / n)
            }
            expectedCalibrationError = ece
        } else {
            expectedCalibrationError = nil
        }
    }
}
