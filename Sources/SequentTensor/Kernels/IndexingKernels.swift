// The copies behind `Tensor+Indexing.swift`: selecting slices of one axis by index (the
// embedding lookup) and adding their gradients back.
// x is (outer, n, inner) around the indexed axis; the selection is (outer, m, inner) for
// m indices, each in 0..<n.

enum IndexingKernels {
    /// out (shape) = x[:, indices, :].
    static func indexSelect(_ x: Tensor, indices: [Int], outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor {
        Tensor(shape: shape) { out in
            x.withUnsafeBufferPointer { xp in
                for o in 0..<outer {
                    for (j, index) in indices.enumerated() {
                        (out.baseAddress! + (o * indices.count + j) * inner).update(
                            from: xp.baseAddress! + (o * n + index) * inner, count: inner)
                    }
                }
            }
        }
    }

    /// dx (shape, (outer, n, inner)) with dx[:, indices[j], :] += g[:, j, :], in order of j.
    static func indexSelectBackward(_ g: Tensor, indices: [Int], outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor {
        var dx = [Float](repeating: 0, count: outer * n * inner)
        g.withUnsafeBufferPointer { gp in
            dx.withUnsafeMutableBufferPointer { dp in
                for o in 0..<outer {
                    for (j, index) in indices.enumerated() {
                        let source = gp.baseAddress! + (o * indices.count + j) * inner
                        let target = dp.baseAddress! + (o * n + index) * inner
                        ElementwiseKernels.zip(UnsafePointer(target), source, target, count: inner) { $0 + $1 }
                    }
                }
            }
        }
        return Tensor(shape: shape, scalars: dx)
    }
}
