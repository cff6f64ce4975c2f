// Inverted dropout (Srivastava et al., 2014) with a mask drawn from an explicit generator.

extension Tensor {
    /// Inverted dropout: each scalar is zeroed with probability p and the rest are scaled
    /// so that the expectation is unchanged,
    ///
    ///     y_i = x_i * m_i / (1 - p),   m_i ~ Bernoulli(1 - p)
    ///
    /// The mask is a hash of a key drawn from `generator` (one draw per call) and of the
    /// scalar's index (see `DropoutKernels`), so the same generator state gives the same
    /// mask on any thread count. Gradient: dx_i = dy_i * m_i / (1 - p), with the mask
    /// recomputed from the key rather than stored. p = 0 returns x and draws nothing.
    ///
    /// - Parameters:
    ///   - probability: p in [0, 1).
    ///   - generator: the source of the mask's key.
    public func dropout(probability p: Float, using generator: inout RandomGenerator) -> Tensor {
        Tensor.require {
            if !(p >= 0 && p < 1) {
                throw SequentError.invalidArgument("dropout", "probability must be in [0, 1), got \(p)")
            }
        }
        if p == 0 { return self }
        let key = generator.next()
        let result = Tensor.droppedOut(self, probability: p, key: key)
        // Saved for the backward pass: only the key.
        return Tensor.recorded(result, operation: "dropout", inputs: [self]) { dy, _ in
            [Tensor.droppedOut(dy, probability: p, key: key)]
        }
    }

    /// x with the dropout mask of `key` applied; records nothing.
    private static func droppedOut(_ x: Tensor, probability p: Float, key: UInt64) -> Tensor {
        DropoutKernels.apply(x, probability: p, key: key)
    }
}
