import SequentTensor

/// A decoder-only Transformer language model (GPT; Radford et al., 2018, 2019): token and
/// learned position embeddings, a stack of causal pre-norm self-attention layers, a final
/// LayerNorm and a linear head,
///
///     h_0 = emb(tokens) + pos(0..<T)           tokens (B, T) -> (B, T, D)
///     h_N = enc(h_0, causal)                   N pre-norm layers, gelu, F = 4 D
///     logits = head(ln(h_N))                   (B, T, V)
///
/// B = batch, T = time (at most `maxLength`), D = d_model, V = vocabulary, N = layers.
///
/// The structure and keys of the `GPT` module of `shared/bench/torch_rnn_bench.py`, so its
/// `state_dict()` loads as it is: `emb.weight` (V, D), `pos.weight` (maxLength, D),
/// `enc.layers.{i}.self_attn.in_proj_weight`, ... (see `TransformerEncoderLayer`),
/// `ln.weight`, `ln.bias`, `head.weight` (V, D), `head.bias`. The layers are
/// `nn.TransformerEncoderLayer(D, h, 4 D, dropout, batch_first=True, norm_first=True,
/// activation="gelu")`; the encoder has no final norm of its own (`ln` is it).
/// Initialisation as PyTorch's modules, except that each layer is drawn afresh (PyTorch
/// copies one layer N times).
///
/// Incremental decoding with a key/value cache: `Stepper` and `generate`
/// (`TransformerLanguageModel+Decoding.swift`).
public final class TransformerLanguageModel: Module {
    /// Token vectors, (V, D); key `emb`.
    public let embedding: Embedding
    /// Position vectors, (maxLength, D); key `pos`.
    public let positions: LearnedPositionalEmbedding
    /// The causal layers; key `enc`.
    public let encoder: TransformerEncoder
    /// The final normalization; key `ln`.
    public let finalNorm: LayerNorm
    /// D -> V; key `head`.
    public let head: Linear
    public var isTraining = true

    /// V: the number of distinct tokens.
    public var vocabularySize: Int { embedding.vocabularySize }
    /// The longest sequence the position table covers.
    public var maxLength: Int { positions.maxLength }
    /// D: the model width.
    public var dModel: Int { embedding.embeddingSize }

    /// A model drawn from `generator` in PyTorch's order (emb, pos, layers, ln, head).
    ///
    /// - Parameters:
    ///   - vocabularySize: V.
    ///   - dModel: D.
    ///   - layerCount: N.
    ///   - headCount: h; must divide D.
    ///   - maxLength: the number of learned positions (the `T` of `GPT(V, D, L, nh, T)`).
    ///   - dimFeedforward: F; nil for 4 D.
    ///   - dropout: the layers' dropout in training mode (0 in torch_rnn_bench.py).
    ///   - generator: the source of the initial values and dropout generators.
    /// - Throws: `SequentError` for sizes that are not positive or do not fit.
    public init(
        vocabularySize: Int, dModel: Int, layerCount: Int, headCount: Int, maxLength: Int,
        dimFeedforward: Int? = nil, dropout: Float = 0, generator: inout RandomGenerator
    ) throws(SequentError) {
        guard vocabularySize > 0, dModel > 0, maxLength > 0 else {
            throw .invalidArgument("TransformerLanguageModel", "vocabularySize, dModel and maxLength must be positive, got \(vocabularySize), \(dModel), \(maxLength)")
        }
        embedding = Embedding(vocabularySize: vocabularySize, embeddingSize: dModel, generator: &generator)
        positions = LearnedPositionalEmbedding(maxLength: maxLength, width: dModel, generator: &generator)
        let configuration = TransformerLayerConfiguration(
            dModel: dModel, headCount: headCount, dimFeedforward: dimFeedforward ?? 4 * dModel, dropout: dropout,
            activation: .gelu, batchFirst: true, normFirst: true)
        encoder = try TransformerEncoder(configuration, layerCount: layerCount, generator: &generator)
        finalNorm = LayerNorm(featureCount: dModel)
        head = Linear(inputSize: dModel, outputSize: vocabularySize, generator: &generator)
    }

    public var submodules: [(key: String, module: any Module)] {
        [("emb", embedding), ("pos", positions), ("enc", encoder), ("ln", finalNorm), ("head", head)]
    }

    /// The next-token logits at every position of a batch of token sequences.
    ///
    /// - Parameters:
    ///   - tokens: B * T token ids in 0..<V, row-major (B, T).
    ///   - batchSize: B.
    ///   - time: T, at most `maxLength`.
    /// - Returns: logits (B, T, V); position t sees tokens 0...t only.
    /// - Throws: `SequentError` for a token out of range, a count that is not B * T, or
    ///   T > maxLength.
    public func callAsFunction(_ tokens: [Int], batchSize: Int, time: Int) throws(SequentError) -> Tensor {
        let h = try embedding(tokens, shape: [batchSize, time]) + positions(positions: 0..<time)  // (B, T, D)
        return head(finalNorm(try encoder(h, causal: true)))
    }
}
