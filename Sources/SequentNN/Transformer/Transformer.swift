import SequentTensor

/// The encoder-decoder Transformer (Vaswani et al., 2017), PyTorch's `nn.Transformer`:
///
///     memory = encoder(src)            N encoder layers + final LayerNorm
///     out    = decoder(tgt, memory)    N decoder layers + final LayerNorm
///
/// src is (B, S, D) if `batchFirst` else (S, B, D), tgt (B, L, D) or (L, B, D), out as tgt.
/// Embeddings, positional encodings and the output projection are the caller's, as in
/// PyTorch. Masks follow Sequent's convention (nonzero = may not attend).
///
/// Keys: `encoder.layers.{i}.*`, `encoder.norm.*`, `decoder.layers.{i}.*`, `decoder.norm.*`.
/// Initialisation as PyTorch's: after the layers are built, every parameter with two
/// dimensions is redrawn Xavier-uniform, U(-a, a) with a = sqrt(6 / (fan_in + fan_out)).
public final class Transformer: Module {
    /// The encoder stack with its final norm; key `encoder`.
    public let encoder: TransformerEncoder
    /// The decoder stack with its final norm; key `decoder`.
    public let decoder: TransformerDecoder
    public var isTraining = true

    /// A Transformer with PyTorch's arguments and defaults (`d_model` 512, `nhead` 8, 6 + 6
    /// layers, `dim_feedforward` 2048, dropout 0.1, relu, post-norm, sequence-first).
    ///
    /// - Throws: `SequentError` for sizes that are not positive or do not fit.
    public init(
        dModel: Int = 512, headCount: Int = 8, encoderLayerCount: Int = 6, decoderLayerCount: Int = 6,
        dimFeedforward: Int = 2048, dropout: Float = 0.1, activation: TransformerActivation = .relu,
        layerNormEpsilon: Float = 1e-5, batchFirst: Bool = false, normFirst: Bool = false, bias: Bool = true,
        generator: inout RandomGenerator
    ) throws(SequentError) {
        let configuration = TransformerLayerConfiguration(
            dModel: dModel, headCount: headCount, dimFeedforward: dimFeedforward, dropout: dropout, activation: activation,
            layerNormEpsilon: layerNormEpsilon, batchFirst: batchFirst, normFirst: normFirst, bias: bias)
        encoder = try TransformerEncoder(configuration, layerCount: encoderLayerCount, finalNorm: true, generator: &generator)
        decoder = try TransformerDecoder(configuration, layerCount: decoderLayerCount, finalNorm: true, generator: &generator)
        for (_, parameter) in namedParameters() where parameter.shape.count == 2 {
            let (fanOut, fanIn) = (parameter.shape[0], parameter.shape[1])
            let bound = (6 / Float(fanIn + fanOut)).squareRoot()
            try! parameter.assign(Tensor.randomUniform(parameter.shape, lower: -bound, upper: bound, using: &generator))
        }
    }

    public var submodules: [(key: String, module: any Module)] { [("encoder", encoder), ("decoder", decoder)] }

    /// Encodes src and decodes tgt against it.
    ///
    /// - Parameters:
    ///   - src: (B, S, D) if `batchFirst` else (S, B, D).
    ///   - tgt: (B, L, D) or (L, B, D).
    ///   - sourceMask: (S, S) or (B*h, S, S) (`src_mask`).
    ///   - targetMask: (L, L) or (B*h, L, L) (`tgt_mask`).
    ///   - memoryMask: (L, S) or (B*h, L, S) (`memory_mask`).
    ///   - sourceKeyPaddingMask: (B, S) (`src_key_padding_mask`).
    ///   - targetKeyPaddingMask: (B, L) (`tgt_key_padding_mask`).
    ///   - memoryKeyPaddingMask: (B, S) (`memory_key_padding_mask`), usually the source's.
    ///   - sourceCausal, targetCausal, memoryCausal: the causal masks (`*_is_causal`, but
    ///     needing no mask beside them); `targetCausal` for autoregressive training.
    /// - Returns: the decoder's output, the shape of tgt.
    /// - Throws: `SequentError` when the shapes do not fit.
    public func callAsFunction(
        source src: Tensor, target tgt: Tensor, sourceMask: Tensor? = nil, targetMask: Tensor? = nil,
        memoryMask: Tensor? = nil, sourceKeyPaddingMask: Tensor? = nil, targetKeyPaddingMask: Tensor? = nil,
        memoryKeyPaddingMask: Tensor? = nil, sourceCausal: Bool = false, targetCausal: Bool = false, memoryCausal: Bool = false
    ) throws(SequentError) -> Tensor {
        let srcBatch = src.rank == 3 ? src.shape[encoder.layers[0].configuration.batchFirst ? 0 : 1] : -1
        let tgtBatch = tgt.rank == 3 ? tgt.shape[encoder.layers[0].configuration.batchFirst ? 0 : 1] : -1
        guard srcBatch == tgtBatch else {
            throw .shapeMismatch("Transformer", "src \(src.shape) and tgt \(tgt.shape) differ in batch size")
        }
        let memory = try encoder(src, mask: sourceMask, keyPaddingMask: sourceKeyPaddingMask, causal: sourceCausal)
        return try decoder(tgt, memory: memory, targetMask: targetMask, memoryMask: memoryMask,
                           targetKeyPaddingMask: targetKeyPaddingMask, memoryKeyPaddingMask: memoryKeyPaddingMask,
                           targetCausal: targetCausal, memoryCausal: memoryCausal)
    }

    /// The causal mask of `size` positions in Sequent's convention, (size, size) with 1
    /// where j > i (may not attend) and 0 elsewhere; PyTorch's
    /// `generate_square_subsequent_mask` gives -inf and 0 at the same places. The `causal`
    /// flags do the same without a tensor.
    public static func generateSquareSubsequentMask(_ size: Int) -> Tensor {
        Tensor(shape: [size, size], scalars: (0..<(size * size)).map { $0 % size > $0 / size ? 1 : 0 })
    }
}
