import Foundation

/// Corpus BLEU (Papineni et al., 2002) exactly as sacrebleu computes it by default
/// (`sacrebleu.corpus_bleu(hyps, [refs])`: the 13a tokenizer, case kept, n-grams 1...4,
/// `exp` smoothing, no effective order, one reference a sentence):
///
///     p_n = 100 * sum_s matched_n(s) / sum_s total_n(s)        (clipped n-gram matches)
///           (an order with no match: 100 / (2^k * total_n), k counting such orders)
///     BP  = 1 if c >= r else exp(1 - r / c)                    c, r: corpus token counts
///     BLEU = BP * exp(sum_{n=1..4} log p_n / 4)                (0 if no n-gram matches)
///
/// Scores are on sacrebleu's 0...100 scale. Use it on detokenised text, as sacrebleu
/// expects: it tokenises itself.
public struct BLEU: Sendable, Equatable {
    /// The score, 0...100.
    public let score: Double
    /// p_1...p_4, 0...100.
    public let precisions: [Double]
    /// The brevity penalty.
    public let brevityPenalty: Double
    /// c: tokens in the hypotheses.
    public let hypothesisLength: Int
    /// r: tokens in the references.
    public let referenceLength: Int
    /// Matched n-grams per order.
    public let matches: [Int]
    /// Hypothesis n-grams per order.
    public let totals: [Int]

    /// The highest n-gram order (sacrebleu's `MAX_NGRAM_ORDER`).
    public static let maxOrder = 4

    /// Scores `hypotheses` against `references`, line i against line i.
    ///
    /// - Precondition-free: lists of different lengths are scored over the shorter one;
    ///   callers check the counts and report them (see `sequent translate eval`).
    public init(hypotheses: [String], references: [String]) {
        var matches = [Int](repeating: 0, count: Self.maxOrder), totals = matches
        var c = 0, r = 0
        for (hypothesis, reference) in zip(hypotheses, references) {
            let hyp = Self.tokenize13a(Self.stripTrailingWhitespace(hypothesis))
            let ref = Self.tokenize13a(Self.stripTrailingWhitespace(reference))
            c += hyp.count
            r += ref.count
            for n in 1...Self.maxOrder {
                let hypCounts = Self.ngrams(hyp, n), refCounts = Self.ngrams(ref, n)
                for (gram, count) in hypCounts {
                    totals[n - 1] += count
                    matches[n - 1] += min(count, refCounts[gram] ?? 0)
                }
            }
        }
        self.init(matches: matches, totals: totals, hypothesisLength: c, referenceLength: r)
    }

    /// BLEU from its sufficient statistics (sacrebleu's `compute_bleu` with `exp` smoothing).
    public init(matches: [Int], totals: [Int], hypothesisLength c: Int, referenceLength r: Int) {
        self.matches = matches
        self.totals = totals
        self.hypothesisLength = c
        self.referenceLength = r
        brevityPenalty = c < r ? (c > 0 ? exp(1 - Double(r) / Double(c)) : 0) : 1
        var precisions = [Double](repeating: 0, count: Self.maxOrder)
        guard matches.contains(where: { $0 != 0 }) else {
            self.precisions = precisions
            score = 0
            return
        }
        var smooth = 1.0
        for n in 0..<Self.maxOrder {
            if totals[n] == 0 { break }
            if matches[n] == 0 {
                smooth *= 2
                precisions[n] = 100 / (smooth * Double(totals[n]))
            } else {
                precisions[n] = 100 * Double(matches[n]) / Double(totals[n])
            }
        }
        self.precisions = precisions
        // sacrebleu's my_log: log(0) is floored to -9999999999.
        let logSum = precisions.reduce(0.0) { $0 + ($1 == 0 ? -9_999_999_999 : log($1)) }
        score = brevityPenalty * exp(logSum / Double(Self.maxOrder))
    }

    /// The counts of each n-gram of `tokens`.
    static func ngrams(_ tokens: [String], _ n: Int) -> [ArraySlice<String>: Int] {
        var counts: [ArraySlice<String>: Int] = [:]
        guard tokens.count >= n else { return counts }
        for i in 0...(tokens.count - n) { counts[tokens[i..<(i + n)], default: 0] += 1 }
        return counts
    }

    /// Whether Python's `str.isspace` holds for `scalar` (what `str.split()` splits at).
    static func isPythonSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }

    /// Python's `str.rstrip()`.
    static func stripTrailingWhitespace(_ text: String) -> String {
        var scalars = Array(text.unicodeScalars)
        while let last = scalars.last, isPythonSpace(last) { scalars.removeLast() }
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars)
        return String(result)
    }

    /// Python's `str.split()`: runs of whitespace separate, none at the ends.
    static func splitWhitespace(_ scalars: [Unicode.Scalar]) -> [String] {
        var words: [String] = [], current = String.UnicodeScalarView()
        for scalar in scalars {
            if isPythonSpace(scalar) {
                if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() }
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { words.append(String(current)) }
        return words
    }

    /// sacrebleu's `13a` tokenizer (mteval-v13a's): unescape four XML entities, then put
    /// spaces around the ASCII symbols and around periods and commas not inside numbers,
    /// and after a dash that follows a digit.
    public static func tokenize13a(_ line: String) -> [String] {
        var text = line.replacingOccurrences(of: "<skipped>", with: "")
            .replacingOccurrences(of: "-\n", with: "")
            .replacingOccurrences(of: "\n", with: " ")
        if text.contains("&") {
            text = text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
        }
        let space: Unicode.Scalar = " "
        var s: [Unicode.Scalar] = [space] + Array(text.unicodeScalars) + [space]
        func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 48 && c.value <= 57 }
        func isPeriodOrComma(_ c: Unicode.Scalar) -> Bool { c == "." || c == "," }
        // 1. ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> " \1 "
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count * 2)
        for c in s {
            let v = c.value
            let symbol = (0x7B...0x7E).contains(v) || (0x5B...0x60).contains(v) || (0x20...0x26).contains(v)
                || (0x28...0x2B).contains(v) || (0x3A...0x40).contains(v) || v == 0x2F
            if symbol { out += [space, c, space] } else { out.append(c) }
        }
        s = out
        // A regular expression of two characters (a, b) replaced left to right, matches not
        // overlapping, as Python's re.sub does.
        func substitutePairs(_ s: [Unicode.Scalar], _ matches: (Unicode.Scalar, Unicode.Scalar) -> Bool,
                             _ replacement: (Unicode.Scalar, Unicode.Scalar) -> [Unicode.Scalar]) -> [Unicode.Scalar] {
            var out: [Unicode.Scalar] = []
            out.reserveCapacity(s.count * 2)
            var i = 0
            while i < s.count {
                if i + 1 < s.count, matches(s[i], s[i + 1]) {
                    out += replacement(s[i], s[i + 1])
                    i += 2
                } else {
                    out.append(s[i])
                    i += 1
                }
            }
            return out
        }
        // 2. ([^0-9])([\.,]) -> "\1 \2 "
        s = substitutePairs(s, { !isDigit($0) && isPeriodOrComma($1) }, { [$0, space, $1, space] })
        // 3. ([\.,])([^0-9]) -> " \1 \2"
        s = substitutePairs(s, { isPeriodOrComma($0) && !isDigit($1) }, { [space, $0, space, $1] })
        // 4. ([0-9])(-) -> "\1 \2 "
        s = substitutePairs(s, { isDigit($0) && $1 == "-" }, { [$0, space, $1, space] })
        return splitWhitespace(s)
    }
}
