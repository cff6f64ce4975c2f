// The copies behind `Tensor+Shape.swift`: a strided gather (permute), contiguous runs of
// rows (slice, concatenate) and the repetition of rows or single values (expand). Every
// result is a fresh contiguous tensor; sizes are given beside each entry point, with
// outer = the product of the dimensions before the axis, inner = of those after it.

enum ShapeKernels {
    /// out (shape) gathered from x with the input stride of each output dimension.
    static func gather(_ x: Tensor, strides: [Int], shape: [Int]) -> Tensor {
        Tensor(shape: shape) { out in
            x.withUnsafeBufferPointer { xp in
                StridedCopy.gather(from: xp.baseAddress!, strides: strides, shape: shape, to: out.baseAddress!)
            }
        }
    }

    /// out (shape) = x (outer, n, inner)[:, range, :].
    static func slice(_ x: Tensor, _ range: Range<Int>, outer: Int, n: Int, inner: Int, shape: [Int]) -> Tensor {
        Tensor(shape: shape) { out in
            x.withUnsafeBufferPointer { xp in
                for o in 0..<outer {
                    (out.baseAddress! + o * range.count * inner).update(
                        from: xp.baseAddress! + (o * n + range.lowerBound) * inner, count: range.count * inner)
                }
            }
        }
    }

    /// out (shape) = the tensors (outer, sizes[i], inner) joined along their middle axis.
    static func concatenate(_ tensors: [Tensor], sizes: [Int], outer: Int, inner: Int, shape: [Int]) -> Tensor {
        let total = sizes.reduce(0, +)
        return Tensor(shape: shape) { out in
            var offset = 0
            for (t, size) in zip(tensors, sizes) {
                t.withUnsafeBufferPointer { x in
                    for o in 0..<outer where size > 0 {
                        (out.baseAddress! + (o * total + offset) * inner).update(
                            from: x.baseAddress! + o * size * inner, count: size * inner)
                    }
                }
                offset += size
            }
        }
    }

    /// out (plan.outputShape) = x repeated by `plan` (x as its first operand).
    static func expand(_ x: Tensor, plan: BroadcastPlan) -> Tensor {
        Tensor(shape: plan.outputShape) { out in
            guard out.count > 0 else { return }
            x.withUnsafeBufferPointer { xp in
                for row in 0..<plan.rowCount {
                    let destination = out.baseAddress! + row * plan.rowLength
                    let source = xp.baseAddress! + plan.aRowStarts[row]
                    if plan.aStep == 1 {
                        destination.update(from: source, count: plan.rowLength)
                    } else {
                        destination.update(repeating: source.pointee, count: plan.rowLength)
                    }
                }
            }
        }
    }
}
