// Connectionist temporal classification: the loss of an unsegmented label sequence given
// per-step class log-probabilities (speech recognition, handwriting), PyTorch's
// `F.ctc_loss`, and greedy decoding. The recursions are in Kernels/CTCKernels.swift.

extension Tensor {
    /// The CTC loss: the negative log-probability of each target over all its alignments
    /// (label sequences of the input's length that give the target once repeats are merged
    /// and blanks removed), as PyTorch's `F.ctc_loss`:
    ///
    ///     nll_b = -log sum_{pi in B^-1(target_b)} prod_{t < T_b} y_t(pi_t),   y_t(c) = exp(lp[t, b, c])
    ///     mean:  (1/B) sum_b nll_b / max(L_b, 1)      sum: sum_b nll_b      none: (B)
    ///
    /// A target that no alignment of its input length reaches (e.g. longer than the input)
    /// has an infinite loss and NaN gradients, unless `zeroInfinity`, which sets both to 0.
    /// Gradient: d nll_b / d lp[t, b, c] = -(probability of the alignments through class c at
    /// step t) / p_b, for t < T_b, zero after. PyTorch returns this plus exp(lp),
    /// which gives the same gradient once it passes back through the `logSoftmax` that
    /// normally produces `logProbabilities`.
    ///
    /// - Parameters:
    ///   - logProbabilities: (T, B, C) log-probabilities, time first as in PyTorch (usually
    ///     `logSoftmax()` of the logits); -infinity is allowed, NaN and +infinity are not.
    ///   - targets: B label sequences, labels in 0..<C other than `blank`; may be empty.
    ///   - inputLengths: each sequence's number of valid steps T_b in 0...T (nil: all T).
    ///   - blank: the blank class.
    ///   - reduction: mean (over the batch, of each loss divided by its target length), sum
    ///     or none.
    /// - Throws: `SequentError` naming the shape, length, label or value that does not fit.
    public static func ctcLoss(
        logProbabilities: Tensor, targets: [[Int]], inputLengths: [Int]? = nil, blank: Int = 0,
        reduction: LossReduction = .mean, zeroInfinity: Bool = false
    ) throws(SequentError) -> Tensor {
        let op = "ctcLoss"
        let (T, B, C, lengths) = try validateCTCInput(op, logProbabilities, inputLengths: inputLengths, blank: blank)
        guard targets.count == B else {
            throw .shapeMismatch(op, "log-probabilities \(logProbabilities.shape) need \(B) targets (one per sequence), got \(targets.count)")
        }
        for (b, target) in targets.enumerated() {
            if let label = target.first(where: { $0 < 0 || $0 >= C || $0 == blank }) {
                throw .invalidArgument(op, "target \(b) holds label \(label); labels must be in 0..<\(C) and not the blank (\(blank))")
            }
        }

        // One pass per sequence computes its loss and, when a backward pass will follow, the
        // gradient of its loss (unscaled: the backward pass scales each sequence's rows).
        let willRecord = GradientMode.isRecording && logProbabilities.requiresGrad
        let perSequence = CTCKernels.negativeLogLikelihoods(
            logProbabilities: logProbabilities, targets: targets, inputLengths: lengths, blank: blank,
            zeroInfinity: zeroInfinity, keepingGradient: willRecord)
        var losses = perSequence.losses
        if zeroInfinity { for b in 0..<B where !losses[b].isFinite { losses[b] = 0 } }
        // Each sequence's weight in the reduced loss.
        let weights: [Double] = (0..<B).map { b in
            switch reduction {
            case .none, .sum: 1
            case .mean: 1 / (Double(Swift.max(targets[b].count, 1)) * Double(B))
            }
        }
        let result = reduction == .none
            ? Tensor(shape: [B], scalars: losses.map(Float.init))
            : Tensor(Float(zip(losses, weights).reduce(0.0) { $0 + $1.0 * $1.1 }))

        let savedGradient = perSequence.gradient, shape = logProbabilities.shape
        return recorded(result, operation: op, inputs: [logProbabilities]) { g, _ in
            // dL/dlp[t, b, :] = (dL/dnll_b) * (d nll_b / dlp[t, b, :])
            let sequenceScale = (0..<B).map { b in Float(weights[b]) * (reduction == .none ? g.scalars[b] : g.item) }
            let scaled = CTCKernels.scaledGradient(savedGradient, sequenceScale: sequenceScale, T: T, B: B, C: C)
            return [Tensor(shape: shape, scalars: scaled)]
        }
    }

    /// Greedy (best-path) CTC decoding: the most likely class at every step, repeats merged,
    /// blanks removed, for each sequence of (T, B, C) log-probabilities (or any scores whose
    /// largest value marks the class) over its first `inputLengths[b]` steps.
    ///
    /// - Throws: `SequentError` when the shape, lengths or blank do not fit, or the scores
    ///   hold NaN or +infinity.
    public static func ctcGreedyDecode(
        logProbabilities: Tensor, inputLengths: [Int]? = nil, blank: Int = 0
    ) throws(SequentError) -> [[Int]] {
        let (_, B, C, lengths) = try validateCTCInput("ctcGreedyDecode", logProbabilities, inputLengths: inputLengths, blank: blank)
        let scores = logProbabilities.scalars
        return (0..<B).map { b in
            var decoded: [Int] = []
            var previous = blank
            for t in 0..<lengths[b] {
                let row = (t * B + b) * C
                let best = (0..<C).max { scores[row + $0] < scores[row + $1] }!
                if best != blank && best != previous { decoded.append(best) }
                previous = best
            }
            return decoded
        }
    }

    /// Prefix beam search for CTC (Hannun et al., 2014): for each sequence, the `beamWidth`
    /// label sequences of highest probability that the search keeps, best first, each with its
    /// log-probability summed over all its alignments (merged repeats and blanks, as in the
    /// loss). Every step extends each kept prefix by every class, keeping for each prefix the
    /// probability of its alignments that end in a blank and of those that end in its last
    /// label (a repeat of that label extends the prefix only after a blank). Exact when the
    /// beam holds every prefix; greedy decoding is not, since it follows one alignment.
    ///
    /// - Parameters:
    ///   - logProbabilities: (T, B, C) log-probabilities.
    ///   - inputLengths: each sequence's number of valid steps (nil: all T).
    ///   - beamWidth: the number of prefixes kept after each step, at least 1.
    /// - Throws: `SequentError` when the shape, lengths, blank or beam width do not fit, or
    ///   the log-probabilities hold NaN or +infinity.
    public static func ctcBeamSearch(
        logProbabilities: Tensor, inputLengths: [Int]? = nil, blank: Int = 0, beamWidth: Int = 8
    ) throws(SequentError) -> [[CTCHypothesis]] {
        let op = "ctcBeamSearch"
        let (_, B, C, lengths) = try validateCTCInput(op, logProbabilities, inputLengths: inputLengths, blank: blank)
        guard beamWidth >= 1 else { throw .invalidArgument(op, "beam width must be at least 1, got \(beamWidth)") }
        let scores = logProbabilities.scalars
        return (0..<B).map { b in
            // Each kept prefix's log-probabilities of the alignments so far that end in a
            // blank and in its last label.
            var beams: [[Int]: (blank: Double, label: Double)] = [[]: (0, -.infinity)]
            for t in 0..<lengths[b] {
                let y = { (c: Int) in Double(scores[(t * B + b) * C + c]) }
                var next: [[Int]: (blank: Double, label: Double)] = [:]
                func add(_ prefix: [Int], blank: Double = -.infinity, label: Double = -.infinity) {
                    guard blank > -.infinity || label > -.infinity else { return }  // no alignment
                    let old = next[prefix] ?? (-.infinity, -.infinity)
                    next[prefix] = (CTCKernels.logAdd(old.blank, blank), CTCKernels.logAdd(old.label, label))
                }
                for (prefix, p) in beams {
                    let total = CTCKernels.logAdd(p.blank, p.label)
                    add(prefix, blank: total + y(blank))
                    for c in 0..<C where c != blank {
                        if c == prefix.last {
                            // c again: the same prefix if no blank came between, else a repeat.
                            add(prefix, label: p.label + y(c))
                            add(prefix + [c], label: p.blank + y(c))
                        } else {
                            add(prefix + [c], label: total + y(c))
                        }
                    }
                }
                beams = Dictionary(uniqueKeysWithValues: ranked(next).prefix(beamWidth).map { ($0.prefix, $0.probabilities) })
            }
            return ranked(beams).map { CTCHypothesis(labels: $0.prefix, logProbability: Float($0.total)) }
        }
    }

    /// The prefixes of a beam with their total log-probability, highest first; ties by the
    /// labels, so that the search is deterministic.
    private static func ranked(
        _ beams: [[Int]: (blank: Double, label: Double)]
    ) -> [(prefix: [Int], probabilities: (blank: Double, label: Double), total: Double)] {
        beams.map { (prefix: $0.key, probabilities: $0.value, total: CTCKernels.logAdd($0.value.blank, $0.value.label)) }
            .sorted { $0.total != $1.total ? $0.total > $1.total : $0.prefix.lexicographicallyPrecedes($1.prefix) }
    }

    /// Checks the (T, B, C) shape, the input lengths, the blank and the values (no NaN or
    /// +infinity; -infinity is log 0) of a CTC operation, and returns T, B, C and each
    /// sequence's length.
    private static func validateCTCInput(
        _ op: String, _ logProbabilities: Tensor, inputLengths: [Int]?, blank: Int
    ) throws(SequentError) -> (T: Int, B: Int, C: Int, lengths: [Int]) {
        guard logProbabilities.rank == 3, logProbabilities.shape[2] >= 1 else {
            throw .shapeMismatch(op, "log-probabilities must be (T, B, C) with at least one class, got \(logProbabilities.shape)")
        }
        let (T, B, C) = (logProbabilities.shape[0], logProbabilities.shape[1], logProbabilities.shape[2])
        guard blank >= 0 && blank < C else {
            throw .invalidArgument(op, "blank \(blank) is not one of the \(C) classes")
        }
        let lengths = inputLengths ?? [Int](repeating: T, count: B)
        guard lengths.count == B else {
            throw .shapeMismatch(op, "log-probabilities \(logProbabilities.shape) need \(B) input lengths, got \(lengths.count)")
        }
        if let b = lengths.firstIndex(where: { $0 < 0 || $0 > T }) {
            throw .invalidArgument(op, "input length \(lengths[b]) of sequence \(b) is outside 0...\(T)")
        }
        if logProbabilities.scalars.contains(where: { $0.isNaN || $0 == .infinity }) {
            throw SequentError(.invalidValue, "\(op): the log-probabilities contain NaN or +infinity")
        }
        return (T, B, C, lengths)
    }
}

/// One transcription that `Tensor.ctcBeamSearch` found.
public struct CTCHypothesis: Equatable, Sendable {
    /// The labels, repeats merged and blanks removed.
    public let labels: [Int]
    /// The log-probability of the labels, summed over all their alignments.
    public let logProbability: Float
}
