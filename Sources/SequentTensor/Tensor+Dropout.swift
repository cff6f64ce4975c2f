// Inverted dropout (Srivastava et al., 2014) with a mask drawn from an explicit generator.

extension Tensor {
    /// Inverted dropout: each scalar is zeroed with probability p and the rest are scaled
    /// so that the expectation is unchanged,
    ///
    ///     y_i = x_i * m_i / (1 - p),   m_i ~ Bernoulli(1 - p)
    ///
    /// The mask comes from `generator` (which advances by one draw per chunk of
    /// `DropoutKernels.chunkSize` scalars), so the same generator state gives the same
    /// mask. Gradient: dx_i = dy_i * m_i / (1 - p). p = 0 returns x unchanged.
    ///
    /// - Parameters:
    ///   - probability: p in [0, 1).
    ///   - generator: the source of the mask.
    public func dropout(probability p: Float, using generator: inout RandomGenerator) -> Tensor {
        Tensor.require {
            if !(p >= 0 && p < 1) {
                throw SequentError.invalidArgument("dropout", "probability must be in [0, 1), got \(p)")
            }
        }
        if p == 0 { return self }
        let chunks = (count + DropoutKernels.chunkSize - 1) / DropoutKernels.chunkSize
        let seeds = (0..<chunks).map { _ in generator.next() }
        let mask = Tensor(shape: shape) { out in
            guard out.count > 0 else { return }
            DropoutKernels.fillMask(out.baseAddress!, count: out.count, probability: p, seeds: seeds)
        }
        return multipliedByMask(mask)
    }

    /// x * mask for a mask of the same shape that is not differentiated (dropout with a
    /// given mask); gradient dx = dy * mask.
    func multipliedByMask(_ mask: Tensor) -> Tensor {
        let result = Tensor.zipped(self, mask) { $0 * $1 }
        return Tensor.recorded(result, operation: "dropout", inputs: [self]) { dy, _ in
            [Tensor.zipped(dy, mask) { $0 * $1 }]
        }
    }
}
