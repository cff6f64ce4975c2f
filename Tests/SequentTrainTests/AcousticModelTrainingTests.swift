import SequentNN
import SequentTensor
import SequentTrain
import XCTest

/// A CTC acoustic model learns a tiny synthetic task: each label is a run of frames with its
/// own pattern, separated by silence of random length; after training, greedy decoding
/// gives every label sequence back, without any alignment given.
final class AcousticModelTrainingTests: XCTestCase {
    /// B sequences of 2-4 labels in 1...3, as (T, B, 4) frames: label c lights feature c
    /// (with noise) for 2-3 frames, pauses light feature 0.
    private func batch(_ generator: inout RandomGenerator, size B: Int) -> (Tensor, [Int], [[Int]]) {
        var sequences: [[Float]] = [], targets: [[Int]] = []
        for _ in 0..<B {
            let count = 2 + Int(generator.next() % 3)
            var frames: [Float] = [], labels: [Int] = []
            func frame(_ c: Int) { frames += (0..<4).map { $0 == c ? 1 + 0.1 * generator.nextNormal() : 0.1 * generator.nextNormal() } }
            for _ in 0..<count {
                let label = 1 + Int(generator.next() % 3)
                for _ in 0..<(1 + Int(generator.next() % 2)) { frame(0) }
                for _ in 0..<(2 + Int(generator.next() % 2)) { frame(label) }
                labels.append(label)
            }
            frame(0)
            sequences.append(frames)
            targets.append(labels)
        }
        let lengths = sequences.map { $0.count / 4 }
        let T = lengths.max()!
        var x = [Float](repeating: 0, count: T * B * 4)
        for b in 0..<B { for t in 0..<lengths[b] { for f in 0..<4 { x[(t * B + b) * 4 + f] = sequences[b][t * 4 + f] } } }
        return (Tensor(shape: [T, B, 4], scalars: x), lengths, targets)
    }

    func testCTCModelLearnsToTranscribeWithoutAlignments() throws {
        var generator = RandomGenerator(seed: 1)
        let model = try AcousticModel(cell: .gru, bidirectional: true, inputSize: 4, hiddenSize: 16, layerCount: 1,
                                      classCount: 4, dropout: 0, generator: &generator)
        let optimizer = try Adam(namedParameters: model.namedParameters(), learningRate: 0.02)
        var data = RandomGenerator(seed: 2)
        var losses: [Float] = []
        for _ in 0..<120 {
            let (x, lengths, targets) = batch(&data, size: 12)
            optimizer.zeroGradients()
            let loss = try Loss.ctc(logProbabilities: try model(x, lengths: lengths), targets: targets, inputLengths: lengths)
            loss.backward()
            optimizer.step()
            losses.append(loss.item)
        }
        model.setTraining(false)
        let (x, lengths, targets) = batch(&data, size: 32)
        let decoded = try Tensor.ctcGreedyDecode(logProbabilities: try withoutGradients { try model(x, lengths: lengths) }, inputLengths: lengths)
        let correct = zip(decoded, targets).filter { $0 == $1 }.count
        XCTAssertGreaterThanOrEqual(correct, 30, "\(correct) of 32 transcribed exactly; losses \(losses.prefix(3)) ... \(losses.suffix(3))")
    }
}
