// The loops behind `Tensor+Broadcast.swift`: binary operations with NumPy/PyTorch
// broadcasting, laid out as rows (`BroadcastPlan`), and the lane-wise maps, on all threads.
// Every entry point takes and returns safe `Tensor`s; the results are written into fresh,
// uninitialized storage.

/// How two shapes combine under NumPy/PyTorch broadcasting, laid out as rows for the kernels.
///
/// Shapes are aligned at their last dimension; a dimension of 1 (or a missing one) repeats.
/// The output is walked as `rowCount` rows of `rowLength` scalars (its last dimension);
/// within a row each input either advances (step 1) or repeats one value (step 0).
struct BroadcastPlan {
    let outputShape: [Int]
    let rowLength: Int
    let rowCount: Int
    let aStep: Int
    let bStep: Int
    /// Where each output row starts in a and in b.
    let aRowStarts: [Int]
    let bRowStarts: [Int]

    /// The shape two shapes broadcast to, or an error naming both.
    static func broadcastShape(_ a: [Int], _ b: [Int], op: String) throws(SequentError) -> [Int] {
        let rank = max(a.count, b.count)
        var shape = [Int](repeating: 1, count: rank)
        for k in 0..<rank {
            let aDim = k < rank - a.count ? 1 : a[k - (rank - a.count)]
            let bDim = k < rank - b.count ? 1 : b[k - (rank - b.count)]
            guard aDim == bDim || aDim == 1 || bDim == 1 else {
                throw SequentError.shapeMismatch(op, "shapes \(a) and \(b) cannot be broadcast together (dimension \(k): \(aDim) vs \(bDim))")
            }
            shape[k] = aDim == 1 ? bDim : aDim
        }
        return shape
    }

    /// Strides of `shape` aligned to `outputShape`, 0 where the input repeats.
    static func broadcastStrides(_ shape: [Int], to outputShape: [Int]) -> [Int] {
        let rank = outputShape.count
        var strides = [Int](repeating: 0, count: rank)
        var step = 1
        for k in stride(from: rank - 1, through: 0, by: -1) {
            let inputAxis = k - (rank - shape.count)
            guard inputAxis >= 0 else { break }
            let dim = shape[inputAxis]
            strides[k] = dim == 1 && outputShape[k] != 1 ? 0 : step
            step *= dim
        }
        return strides
    }

    init(_ a: [Int], _ b: [Int], op: String) {
        var output: [Int] = []
        Tensor.require { output = try BroadcastPlan.broadcastShape(a, b, op: op) }
        self.outputShape = output
        let aStrides = BroadcastPlan.broadcastStrides(a, to: output)
        let bStrides = BroadcastPlan.broadcastStrides(b, to: output)
        let rank = output.count
        rowLength = rank == 0 ? 1 : output[rank - 1]
        aStep = rank == 0 ? 1 : (aStrides[rank - 1] == 0 ? 0 : 1)
        bStep = rank == 0 ? 1 : (bStrides[rank - 1] == 0 ? 0 : 1)
        let leading = rank == 0 ? [] : Array(output.dropLast())
        rowCount = leading.reduce(1, *)
        var aStarts = [Int](repeating: 0, count: rowCount)
        var bStarts = [Int](repeating: 0, count: rowCount)
        // Odometer over the leading dimensions.
        var index = [Int](repeating: 0, count: leading.count)
        var aOffset = 0
        var bOffset = 0
        for row in 0..<rowCount {
            aStarts[row] = aOffset
            bStarts[row] = bOffset
            var k = leading.count - 1
            while k >= 0 {
                index[k] += 1
                aOffset += aStrides[k]
                bOffset += bStrides[k]
                if index[k] < leading[k] { break }
                aOffset -= aStrides[k] * leading[k]
                bOffset -= bStrides[k] * leading[k]
                index[k] = 0
                k -= 1
            }
        }
        aRowStarts = aStarts
        bRowStarts = bStarts
    }
}

/// The elementwise loops over tensors.
enum BroadcastKernels {
    /// out = f(a, b) for a and b of the same shape.
    @inline(__always)
    static func zip<F: BinaryLaneFunction>(_ a: Tensor, _ b: Tensor, _ f: F) -> Tensor {
        Tensor(shape: a.shape) { out in
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    let aBase = UncheckedSendable(ap.baseAddress!), bBase = UncheckedSendable(bp.baseAddress!)
                    let outBase = UncheckedSendable(out.baseAddress!)
                    Parallelism.forEachChunk(count: out.count) { range in
                        ElementwiseKernels.zip(
                            aBase.value + range.lowerBound, bBase.value + range.lowerBound,
                            outBase.value + range.lowerBound, count: range.count, f)
                    }
                }
            }
        }
    }

    /// out = f(a, b) of shape `plan.outputShape`, a and b broadcast by `plan`.
    @inline(__always)
    static func zip<F: BinaryLaneFunction>(_ a: Tensor, _ b: Tensor, plan: BroadcastPlan, _ f: F) -> Tensor {
        Tensor(shape: plan.outputShape) { out in
            guard out.count > 0 else { return }
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    let aBase = UncheckedSendable(ap.baseAddress!), bBase = UncheckedSendable(bp.baseAddress!)
                    let outBase = UncheckedSendable(out.baseAddress!)
                    Parallelism.forEachChunk(count: plan.rowCount, costPerItem: plan.rowLength) { rows in
                        for row in rows {
                            ElementwiseKernels.zipRow(
                                aBase.value + plan.aRowStarts[row], aStep: plan.aStep,
                                bBase.value + plan.bRowStarts[row], bStep: plan.bStep,
                                outBase.value + row * plan.rowLength, count: plan.rowLength, f)
                        }
                    }
                }
            }
        }
    }

    /// out = f(x), x's shape.
    @inline(__always)
    static func map<F: LaneFunction>(_ x: Tensor, _ f: F) -> Tensor {
        Tensor(shape: x.shape) { out in
            x.withUnsafeBufferPointer { xp in
                guard let xBase = xp.baseAddress else { return }
                let x = UncheckedSendable(xBase), outBase = UncheckedSendable(out.baseAddress!)
                Parallelism.forEachChunk(count: out.count, costPerItem: 4) { range in
                    ElementwiseKernels.map(
                        x.value + range.lowerBound, outBase.value + range.lowerBound, count: range.count, f)
                }
            }
        }
    }

    /// out = activation(x), x's shape.
    static func map(_ x: Tensor, _ activation: ActivationKernel) -> Tensor {
        Tensor(shape: x.shape) { out in
            x.withUnsafeBufferPointer { xp in
                guard let xBase = xp.baseAddress else { return }
                let x = UncheckedSendable(xBase), outBase = UncheckedSendable(out.baseAddress!)
                Parallelism.forEachChunk(count: out.count, costPerItem: 16) { range in
                    activation.apply(x.value + range.lowerBound, outBase.value + range.lowerBound, count: range.count)
                }
            }
        }
    }

    /// out = g * GELU'(x) for g and x of the same shape.
    static func geluGradient(_ g: Tensor, _ x: Tensor) -> Tensor {
        Tensor(shape: x.shape) { out in
            g.withUnsafeBufferPointer { gp in
                x.withUnsafeBufferPointer { xp in
                    guard let gBase = gp.baseAddress, let xBase = xp.baseAddress else { return }
                    let operands = UncheckedSendable((gBase, xBase, out.baseAddress!))
                    Parallelism.forEachChunk(count: out.count, costPerItem: 16) { range in
                        let (g, x, out) = operands.value
                        ActivationKernel.geluBackward(g + range.lowerBound, x + range.lowerBound, out + range.lowerBound, count: range.count)
                    }
                }
            }
        }
    }

    /// out = f(a, b, c) for a, b, c of the same shape, on one thread.
    @inline(__always)
    static func zip(
        _ a: Tensor, _ b: Tensor, _ c: Tensor, _ f: (FloatVector, FloatVector, FloatVector) -> FloatVector
    ) -> Tensor {
        Tensor(shape: a.shape) { out in
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeBufferPointer { cp in
                        guard out.count > 0 else { return }
                        ElementwiseKernels.zip3(ap.baseAddress!, bp.baseAddress!, cp.baseAddress!, out.baseAddress!, count: out.count, f)
                    }
                }
            }
        }
    }
}
