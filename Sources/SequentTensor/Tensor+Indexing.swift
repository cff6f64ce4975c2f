// Gathering by index, masking and selecting.
//
// Mask convention, the same across Sequent: a mask holds 1 where the condition is true.
// `maskedFill` overwrites where the mask is 1 (PyTorch's masked_fill); attention masks
// are documented with the attention layers and follow the same rule (1 = masked out).

extension Tensor {
    /// Checks that every index is an integer in 0..<size.
    static func validatedIndices(_ indices: [Int], size: Int, op: String) throws(SequentError) {
        if let bad = indices.first(where: { $0 < 0 || $0 >= size }) {
            throw SequentError.invalidArgument(op, "index \(bad) out of range 0..<\(size)")
        }
    }

    /// The slices `indices` of `axis`, in that order (repeats allowed): the embedding lookup.
    public func indexSelect(alongAxis axis: Int, indices: [Int]) -> Tensor {
        let axis = Tensor.normalize(axis: axis, rank: rank, op: "indexSelect")
        Tensor.require { try Tensor.validatedIndices(indices, size: shape[axis], op: "indexSelect") }
        let (outer, n, inner) = split(around: axis)
        let result = IndexingKernels.indexSelect(
            self, indices: indices, outer: outer, n: n, inner: inner, shape: shapeWith(axis: axis, size: indices.count))
        return Tensor.recorded(result, operation: "indexSelect", inputs: [self]) { g, _ in
            // Each selected slice's gradient is added back where it came from.
            [IndexingKernels.indexSelectBackward(g, indices: indices, outer: outer, n: n, inner: inner, shape: self.shape)]
        }
    }

    /// torch.gather: out[..., j, ...] = x[..., indices[..., j, ...], ...] along `axis`;
    /// `indices` has this tensor's rank and holds integral Float values.
    public func gather(alongAxis axis: Int, indices: Tensor) -> Tensor {
        let axis = Tensor.normalize(axis: axis, rank: rank, op: "gather")
        Tensor.require {
            if indices.rank != rank || indices.shapeWith(axis: axis, size: 0) != shapeWith(axis: axis, size: 0) {
                throw SequentError.shapeMismatch("gather", "indices \(indices.shape) do not fit input \(shape) along axis \(axis)")
            }
            try Tensor.validatedIndices(indices.scalars.map { Int($0) }, size: shape[axis], op: "gather")
        }
        let (outer, n, inner) = split(around: axis)
        let m = indices.shape[axis]
        func sourceOffset(_ o: Int, _ j: Int, _ i: Int) -> Int {
            (o * n + Int(indices.scalars[(o * m + j) * inner + i])) * inner + i
        }
        var values = [Float](repeating: 0, count: indices.count)
        for o in 0..<outer { for j in 0..<m { for i in 0..<inner { values[(o * m + j) * inner + i] = scalars[sourceOffset(o, j, i)] } } }
        return Tensor.recorded(Tensor(shape: indices.shape, scalars: values), operation: "gather", inputs: [self]) { g, _ in
            var dx = [Float](repeating: 0, count: self.count)
            for o in 0..<outer { for j in 0..<m { for i in 0..<inner { dx[sourceOffset(o, j, i)] += g.scalars[(o * m + j) * inner + i] } } }
            return [Tensor(shape: self.shape, scalars: dx)]
        }
    }

    /// This tensor with `value` wherever `mask` (broadcast to this shape) is nonzero.
    public func maskedFill(where mask: Tensor, with value: Float) -> Tensor {
        let fill = FloatVector(repeating: value)
        let result = Tensor.broadcastZip(self, mask, op: "maskedFill") { x, m in x.replacing(with: fill, where: m .!= 0) }
        Tensor.require {
            if result.shape != shape { throw SequentError.shapeMismatch("maskedFill", "mask \(mask.shape) does not broadcast to \(shape)") }
        }
        return Tensor.recorded(result, operation: "maskedFill", inputs: [self]) { g, _ in
            [Tensor.broadcastZip(g, mask, op: "maskedFill") { g, m in g.replacing(with: 0, where: m .!= 0) }]
        }
    }

    /// Picks `a` where `condition` is nonzero and `b` elsewhere, with broadcasting.
    /// Values of the branch not picked never leak into the result (NaN or inf included).
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        var shape: [Int] = []
        Tensor.require {
            shape = try BroadcastPlan.broadcastShape(
                try BroadcastPlan.broadcastShape(condition.shape, a.shape, op: "where"), b.shape, op: "where")
        }
        let (c, x, y) = (condition.expanded(to: shape), a.detached().expanded(to: shape), b.detached().expanded(to: shape))
        let result = zipped(c, x, y) { c, x, y in y.replacing(with: x, where: c .!= 0) }
        return recorded(result, operation: "where", inputs: [a, b]) { g, needs in
            [needs[0] ? zipped(g, c) { g, c in g.replacing(with: 0, where: c .== 0) }.summed(toShape: a.shape) : nil,
             needs[1] ? zipped(g, c) { g, c in g.replacing(with: 0, where: c .!= 0) }.summed(toShape: b.shape) : nil]
        }
    }
}
