// Creating tensors: constants, ranges and seeded random values.

extension Tensor {
    /// A tensor of `shape` filled with `value`.
    public static func full(_ shape: [Int], value: Float) -> Tensor {
        Tensor(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of `shape` filled with zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, value: 0) }

    /// A tensor of `shape` filled with ones.
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, value: 1) }

    /// Zeros of the same shape as `other`.
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }

    /// The values start, start + step, ... below end, as a rank-1 tensor.
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        precondition(step != 0, "arange: step must not be zero")
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<count).map { start + Float($0) * step })
    }

    /// Normally distributed values from `generator`.
    public static func randomNormal(
        _ shape: [Int], mean: Float = 0, standardDeviation: Float = 1, using generator: inout RandomGenerator
    ) -> Tensor {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = mean + standardDeviation * generator.nextNormal() }
        return Tensor(shape: shape, scalars: values)
    }

    /// Uniformly distributed values in [lower, upper) from `generator`.
    public static func randomUniform(
        _ shape: [Int], lower: Float = 0, upper: Float = 1, using generator: inout RandomGenerator
    ) -> Tensor {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = lower + (upper - lower) * generator.nextUniform() }
        return Tensor(shape: shape, scalars: values)
    }
}
