// Shape operations: reshape, permute, slice, concatenate, stack, squeeze, expand.
// All results are contiguous; gradients route each scalar back to where it came from.

extension Tensor {
    /// The same scalars viewed with another shape of equal count; one dimension may be -1.
    public func reshaped(to newShape: [Int]) -> Tensor {
        var resolved = newShape
        Tensor.require {
            let inferred = newShape.indices.filter { newShape[$0] == -1 }
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            if inferred.count > 1 { throw SequentError.invalidArgument("reshape", "only one dimension can be -1, got \(newShape)") }
            if let axis = inferred.first {
                if known == 0 || count % known != 0 {
                    throw SequentError.shapeMismatch("reshape", "cannot reshape \(shape) (\(count) scalars) to \(newShape)")
                }
                resolved[axis] = count / known
            }
            if resolved.reduce(1, *) != count || resolved.contains(where: { $0 < 0 }) {
                throw SequentError.shapeMismatch("reshape", "cannot reshape \(shape) (\(count) scalars) to \(newShape)")
            }
        }
        if resolved == shape { return self }
        return Tensor.recorded(Tensor(shape: resolved, scalars: scalars), operation: "reshape", inputs: [self]) { g, _ in
            [g.reshaped(to: self.shape)]
        }
    }

    /// Reorders the dimensions: result dimension k is input dimension `axes[k]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        Tensor.require {
            if axes.sorted() != Array(0..<rank) {
                throw SequentError.invalidArgument("permute", "axes \(axes) are not a permutation of 0..<\(rank) for shape \(shape)")
            }
        }
        if axes == Array(0..<rank) { return self }
        let outShape = axes.map { shape[$0] }
        var inputStrides = [Int](repeating: 1, count: rank)
        for k in stride(from: rank - 2, through: 0, by: -1) { inputStrides[k] = inputStrides[k + 1] * shape[k + 1] }
        let strides = axes.map { inputStrides[$0] }
        let result = ShapeKernels.gather(self, strides: strides, shape: outShape)
        var inverse = [Int](repeating: 0, count: rank)
        for (k, axis) in axes.enumerated() { inverse[axis] = k }
        return Tensor.recorded(result, operation: "permute", inputs: [self]) { g, _ in [g.permuted(inverse)] }
    }

    /// Swaps two dimensions.
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) -> Tensor {
        let a = Tensor.normalize(axis: axis0, rank: rank, op: "transpose")
        let b = Tensor.normalize(axis: axis1, rank: rank, op: "transpose")
        var axes = Array(0..<rank)
        axes.swapAt(a, b)
        return permuted(axes)
    }

    /// The elements `range` of `axis`.
    public func slice(alongAxis axis: Int, _ range: Range<Int>) -> Tensor {
        let axis = Tensor.normalize(axis: axis, rank: rank, op: "slice")
        Tensor.require {
            if range.lowerBound < 0 || range.upperBound > shape[axis] {
                throw SequentError.invalidArgument("slice", "range \(range) out of bounds for axis \(axis) of shape \(shape)")
            }
        }
        let (outer, n, inner) = split(around: axis)
        var outShape = shape
        outShape[axis] = range.count
        let result = ShapeKernels.slice(self, range, outer: outer, n: n, inner: inner, shape: outShape)
        return Tensor.recorded(result, operation: "slice", inputs: [self]) { g, _ in
            let before = self.shapeWith(axis: axis, size: range.lowerBound)
            let after = self.shapeWith(axis: axis, size: n - range.upperBound)
            return [Tensor.concatenate([Tensor.zeros(before), g, Tensor.zeros(after)], alongAxis: axis)]
        }
    }

    /// Index `index` of `axis`, with that axis removed.
    public func select(alongAxis axis: Int, index: Int) -> Tensor {
        let axis = Tensor.normalize(axis: axis, rank: rank, op: "select")
        var outShape = shape
        outShape.remove(at: axis)
        return slice(alongAxis: axis, index..<(index + 1)).reshaped(to: outShape)
    }

    func shapeWith(axis: Int, size: Int) -> [Int] {
        var s = shape
        s[axis] = size
        return s
    }

    /// Joins tensors along an existing axis; all other dimensions must agree.
    public static func concatenate(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate: no tensors given")
        let first = tensors[0]
        let axis = Tensor.normalize(axis: axis, rank: first.rank, op: "concatenate")
        Tensor.require {
            for t in tensors where t.rank != first.rank || t.shapeWith(axis: axis, size: 0) != first.shapeWith(axis: axis, size: 0) {
                throw SequentError.shapeMismatch("concatenate", "shapes \(first.shape) and \(t.shape) differ outside axis \(axis)")
            }
        }
        let sizes = tensors.map { $0.shape[axis] }
        let total = sizes.reduce(0, +)
        let outer = first.shape[..<axis].reduce(1, *)
        let inner = first.shape[(axis + 1)...].reduce(1, *)
        let result = ShapeKernels.concatenate(tensors, sizes: sizes, outer: outer, inner: inner,
                                              shape: first.shapeWith(axis: axis, size: total))
        return recorded(result, operation: "concatenate", inputs: tensors) { g, needs in
            var start = 0
            return zip(sizes, needs).map { size, need in
                defer { start += size }
                return need ? g.slice(alongAxis: axis, start..<(start + size)) : nil
            }
        }
    }

    /// Stacks tensors of equal shape along a new axis.
    public static func stack(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: no tensors given")
        let axis = Tensor.normalize(axis: axis, rank: tensors[0].rank + 1, op: "stack")
        Tensor.require {
            for t in tensors where t.shape != tensors[0].shape {
                throw SequentError.shapeMismatch("stack", "shapes \(tensors[0].shape) and \(t.shape) differ")
            }
        }
        return concatenate(tensors.map { $0.unsqueezed(at: axis) }, alongAxis: axis)
    }

    /// Inserts a dimension of size 1 at `axis`.
    public func unsqueezed(at axis: Int) -> Tensor {
        let axis = Tensor.normalize(axis: axis, rank: rank + 1, op: "unsqueeze")
        var newShape = shape
        newShape.insert(1, at: axis)
        return reshaped(to: newShape)
    }

    /// Removes dimension `axis`, which must have size 1; or every size-1 dimension if nil.
    public func squeezed(at axis: Int? = nil) -> Tensor {
        guard let axis else { return reshaped(to: shape.filter { $0 != 1 }) }
        let a = Tensor.normalize(axis: axis, rank: rank, op: "squeeze")
        precondition(shape[a] == 1, "squeeze: axis \(axis) of shape \(shape) has size \(shape[a]), not 1")
        var newShape = shape
        newShape.remove(at: a)
        return reshaped(to: newShape)
    }

    /// The tensor repeated along its size-1 (or missing leading) dimensions to `target`.
    public func expanded(to target: [Int]) -> Tensor {
        if target == shape { return self }
        let plan = BroadcastPlan(shape, target, op: "expand")
        Tensor.require {
            if plan.outputShape != target { throw SequentError.shapeMismatch("expand", "cannot expand \(shape) to \(target)") }
        }
        let result = ShapeKernels.expand(self, plan: plan)
        return Tensor.recorded(result, operation: "expand", inputs: [self]) { g, _ in [g.summed(toShape: self.shape)] }
    }
}
