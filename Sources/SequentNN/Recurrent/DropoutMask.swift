import SequentTensor

extension Tensor {
    /// Inverted dropout: each scalar is zeroed with `probability` and the rest are scaled by
    /// 1 / (1 - probability), with the mask drawn from `generator`.
    func droppingOut(probability: Float, using generator: inout RandomGenerator) -> Tensor {
        let keep = 1 - probability
        let mask = Tensor(shape: shape, scalars: (0..<count).map { _ in generator.nextUniform() < keep ? 1 / keep : 0 })
        return self * mask
    }
}
