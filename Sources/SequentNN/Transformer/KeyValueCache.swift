import SequentTensor

// Incremental decoding (as in Vaswani et al.'s autoregressive decoder, and every GPT since):
// a causal self-attention layer's keys and values at positions 0..<S never change once
// computed, so each new position projects only its own q, k, v, appends k and v to a
// cache, and attends over all S + 1. One token then costs O(S) attention instead of
// recomputing the O(S^2) prefix.
//
// B = batch, h = heads, S = cached positions, n = new positions, E = width, E/h = head width.

/// The per-head keys and values a `MultiheadAttention` layer has projected so far.
///
/// For causal self-attention the cache grows by the new positions at every call of
/// `MultiheadAttention.selfAttention(_:cache:)`; for attention to a fixed memory
/// (encoder-decoder attention) `crossAttention(query:memory:cache:...)` fills it once with
/// the memory's projections and reads it afterwards. One cache belongs to one layer and
/// one batch of sequences; `reset()` starts over.
public final class KeyValueCache {
    /// K, (B, h, S, E/h); nil while empty.
    public internal(set) var keys: Tensor?
    /// V, (B, h, S, E/h); nil while empty.
    public internal(set) var values: Tensor?

    /// An empty cache.
    public init() {}

    /// S, the number of cached positions.
    public var length: Int { keys?.shape[2] ?? 0 }

    /// Empties the cache.
    public func reset() {
        keys = nil
        values = nil
    }

    /// Appends the keys and values of new positions, each (B, h, n, E/h).
    func append(keys newKeys: Tensor, values newValues: Tensor) {
        if let keys, let values {
            self.keys = Tensor.concatenate([keys, newKeys], alongAxis: 2)
            self.values = Tensor.concatenate([values, newValues], alongAxis: 2)
        } else {
            keys = newKeys
            values = newValues
        }
    }
}

extension MultiheadAttention {
    /// Causal self-attention of n new positions that also attends to the S positions in
    /// `cache`, whose keys and values it does not recompute; the new keys and values are
    /// appended to the cache:
    ///
    ///     q, k, v = x W_q^T + b_q, x W_k^T + b_k, x W_v^T + b_v      (n new positions)
    ///     K = [K_cache; k],  V = [V_cache; v]                        (S + n positions)
    ///     head_i = softmax(q_i K_i^T / sqrt(E/h) + M) V_i,  M masks key j for new query r
    ///              when j > S + r
    ///     out = concat(head_1, ..., head_h) W_o^T + b_o
    ///
    /// Called on positions 0..<T in any number of pieces, this gives the rows of
    /// `self(query: x, key: x, value: x, causal: true)` on the whole sequence. Decoding runs
    /// as in evaluation mode: no dropout on the attention weights.
    ///
    /// - Parameters:
    ///   - x: the new positions, (B, n, E) if `batchFirst` else (n, B, E).
    ///   - cache: this layer's cache for this batch; grows by n.
    /// - Returns: out, the shape of x.
    /// - Throws: `SequentError` when x does not fit the layer or the cache's batch.
    public func selfAttention(_ x: Tensor, cache: KeyValueCache) throws(SequentError) -> Tensor {
        try validate(query: x, key: x, value: x, keyPaddingMask: nil, keyLengths: nil, attentionMask: nil)
        let input = toBatchFirst(x)  // (B, n, E)
        let (batch, n) = (input.shape[0], input.shape[1])
        if let cached = cache.keys, cached.shape[0] != batch {
            throw .shapeMismatch("MultiheadAttention", "the key/value cache holds a batch of \(cached.shape[0]), the input \(x.shape) a batch of \(batch)")
        }
        let start = cache.length
        let (q, k, v) = projectQueryKeyValue(input)  // each (B, h, n, E/h)
        cache.append(keys: k, values: v)
        // New query r sits at position start + r and sees keys 0...start + r. With an empty
        // cache that is the top-left causal mask; one new query sees every key.
        var mask: Tensor? = nil
        if n > 1 && start > 0 {
            let total = start + n
            mask = Tensor(shape: [n, total], scalars: (0..<(n * total)).map { index in
                index % total > start + index / total ? 1 : 0
            })
        }
        let heads = Tensor.scaledDotProductAttention(query: q, key: cache.keys!, value: cache.values!, mask: mask,
                                                     causal: start == 0 && n > 1)
        return toBatchFirst(mergeHeads(heads))
    }

    /// Attention from new query positions to a fixed memory whose keys and values are
    /// projected once, at the first call with an empty `cache`, and read from the cache at
    /// every later call (the memory passed then is only checked for its shape). Equal to
    /// `self(query:key: memory, value: memory, ...)` without cache; no dropout.
    ///
    /// - Parameters:
    ///   - query: (B, n, E) if `batchFirst` else (n, B, E).
    ///   - memory: (B, S, E) or (S, B, E), the same at every call with one cache.
    ///   - cache: the memory's projections for this layer and batch.
    ///   - keyPaddingMask: (B, S), nonzero = padding (`memory_key_padding_mask`).
    ///   - keyLengths: (B) valid memory lengths, an alternative to `keyPaddingMask`.
    /// - Throws: `SequentError` when the shapes do not fit the layer or the cache.
    public func crossAttention(
        query: Tensor, memory: Tensor, cache: KeyValueCache, keyPaddingMask: Tensor? = nil, keyLengths: [Int]? = nil
    ) throws(SequentError) -> Tensor {
        try validate(query: query, key: memory, value: memory, keyPaddingMask: keyPaddingMask, keyLengths: keyLengths,
                     attentionMask: nil)
        let source = toBatchFirst(memory)  // (B, S, E)
        if let cached = cache.keys {
            guard cached.shape[0] == source.shape[0], cached.shape[2] == source.shape[1] else {
                throw .shapeMismatch("MultiheadAttention", "the memory cache holds batch \(cached.shape[0]) and length \(cached.shape[2]), the memory \(memory.shape) differs; reset the cache for a new memory")
            }
        } else {
            cache.append(keys: projectHeads(source, part: .key), values: projectHeads(source, part: .value))
        }
        let q = projectHeads(toBatchFirst(query), part: .query)
        let heads = Tensor.scaledDotProductAttention(query: q, key: cache.keys!, value: cache.values!,
                                                     keyPaddingMask: keyPaddingMask, keyLengths: keyLengths)
        return toBatchFirst(mergeHeads(heads))
    }
}
