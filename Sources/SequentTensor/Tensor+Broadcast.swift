// Elementwise operations with NumPy/PyTorch broadcasting, recording nothing on the tape:
// the building blocks of the differentiable elementwise operations. The loops and the
// broadcast plan are in `Kernels/BroadcastKernels.swift`.

extension Tensor {
    /// Applies a lane-wise binary function with broadcasting; records nothing on the tape.
    @inline(__always)
    static func broadcastZip(
        _ a: Tensor, _ b: Tensor, op: String, _ f: (FloatVector, FloatVector) -> FloatVector
    ) -> Tensor {
        withoutActuallyEscaping(f) { broadcastZip(a, b, op: op, BinaryLanewise(body: $0)) }
    }

    /// Applies a `BinaryLaneFunction` with broadcasting; records nothing on the tape.
    @inline(__always)
    static func broadcastZip<F: BinaryLaneFunction>(_ a: Tensor, _ b: Tensor, op: String, _ f: F) -> Tensor {
        if a.shape == b.shape {
            return BroadcastKernels.zip(a, b, f)
        }
        return BroadcastKernels.zip(a, b, plan: BroadcastPlan(a.shape, b.shape, op: op), f)
    }

    /// Applies a lane-wise function to every scalar; records nothing on the tape.
    @inline(__always)
    func mapped(_ f: (FloatVector) -> FloatVector) -> Tensor {
        withoutActuallyEscaping(f) { mapped(Lanewise(body: $0)) }
    }

    /// Applies a `LaneFunction` to every scalar; records nothing on the tape.
    @inline(__always)
    func mapped<F: LaneFunction>(_ f: F) -> Tensor {
        BroadcastKernels.map(self, f)
    }

    /// Applies an activation kernel to every scalar; records nothing on the tape.
    func mapped(_ activation: ActivationKernel) -> Tensor {
        BroadcastKernels.map(self, activation)
    }

    /// g * GELU'(x) for g and x of the same shape: the gradient through `gelu()`.
    static func geluGradient(_ g: Tensor, _ x: Tensor) -> Tensor {
        precondition(g.shape == x.shape, "geluGradient: shapes \(g.shape) and \(x.shape) differ")
        return BroadcastKernels.geluGradient(g, x)
    }

    /// Applies a lane-wise function to two tensors of the same shape; records nothing.
    @inline(__always)
    static func zipped(_ a: Tensor, _ b: Tensor, _ f: (FloatVector, FloatVector) -> FloatVector) -> Tensor {
        withoutActuallyEscaping(f) { zipped(a, b, BinaryLanewise(body: $0)) }
    }

    /// Applies a `BinaryLaneFunction` to two tensors of the same shape; records nothing.
    @inline(__always)
    static func zipped<F: BinaryLaneFunction>(_ a: Tensor, _ b: Tensor, _ f: F) -> Tensor {
        precondition(a.shape == b.shape, "zipped: shapes \(a.shape) and \(b.shape) differ")
        return broadcastZip(a, b, op: "zipped", f)
    }

    /// Applies a lane-wise function to three tensors of the same shape; records nothing.
    @inline(__always)
    static func zipped(
        _ a: Tensor, _ b: Tensor, _ c: Tensor, _ f: (FloatVector, FloatVector, FloatVector) -> FloatVector
    ) -> Tensor {
        precondition(a.shape == b.shape && b.shape == c.shape, "zipped: shapes \(a.shape), \(b.shape), \(c.shape) differ")
        return BroadcastKernels.zip(a, b, c, f)
    }

    /// Sums a broadcast gradient back to `targetShape` (the inverse of broadcasting).
    func summed(toShape targetShape: [Int]) -> Tensor {
        if shape == targetShape { return self }
        var result = self
        // Drop the leading dimensions the target does not have.
        while result.rank > targetShape.count {
            result = result.sum(alongAxes: [0], keepingDimensions: false)
        }
        let axes = (0..<targetShape.count).filter { targetShape[$0] == 1 && result.shape[$0] != 1 }
        if !axes.isEmpty {
            result = result.sum(alongAxes: axes, keepingDimensions: true)
        }
        return result
    }
}
