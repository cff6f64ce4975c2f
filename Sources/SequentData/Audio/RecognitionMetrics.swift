/// Word and character error rates and utterance accuracy of transcripts against references,
/// as `jiwer` and Kaldi's `compute-wer` count them: the Levenshtein distance (substitutions +
/// deletions + insertions) summed over utterances, divided by the reference's units summed.
public struct RecognitionMetrics: Equatable, Sendable {
    public var wordErrors: Int
    public var referenceWords: Int
    public var characterErrors: Int
    public var referenceCharacters: Int
    public var correctUtterances: Int
    public var utterances: Int

    /// WER (words split on whitespace).
    public var wordErrorRate: Double { Double(wordErrors) / Double(max(1, referenceWords)) }
    /// CER (characters of the whitespace-normalised text, spaces included).
    public var characterErrorRate: Double { Double(characterErrors) / Double(max(1, referenceCharacters)) }
    /// The share of utterances transcribed exactly (after whitespace normalisation).
    public var accuracy: Double { Double(correctUtterances) / Double(max(1, utterances)) }

    /// The metrics of `hypotheses[i]` against `references[i]`.
    public init(references: [String], hypotheses: [String]) {
        wordErrors = 0; referenceWords = 0; characterErrors = 0; referenceCharacters = 0; correctUtterances = 0
        utterances = min(references.count, hypotheses.count)
        for (reference, hypothesis) in zip(references, hypotheses) {
            let rw = reference.split(whereSeparator: \.isWhitespace).map(String.init)
            let hw = hypothesis.split(whereSeparator: \.isWhitespace).map(String.init)
            wordErrors += Self.editDistance(rw, hw)
            referenceWords += rw.count
            let rc = Array(rw.joined(separator: " ")), hc = Array(hw.joined(separator: " "))
            characterErrors += Self.editDistance(rc, hc)
            referenceCharacters += rc.count
            if rw == hw { correctUtterances += 1 }
        }
    }

    /// The Levenshtein distance between two sequences (unit costs).
    public static func editDistance<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count), current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
