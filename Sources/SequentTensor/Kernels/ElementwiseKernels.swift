// Elementwise loops over raw buffers, 16 lanes at a time, with a zero-padded tail.
// Shapes: every buffer holds `count` scalars unless a parameter says it is one scalar.

/// A function of 16 lanes, as a type. The loops below are generic over it, so that the
/// compiler specializes each loop for its function and inlines the math into it: a closure
/// called once per vector is not inlined, and its body then runs in 4-lane pieces, 3-5
/// times slower (the transcendental functions of `VectorMath` have types of their own).
protocol LaneFunction {
    func callAsFunction(_ x: FloatVector) -> FloatVector
}

/// A function of two 16-lane vectors, as a type (see `LaneFunction`).
protocol BinaryLaneFunction {
    func callAsFunction(_ a: FloatVector, _ b: FloatVector) -> FloatVector
}

/// A closure as a `LaneFunction`: for cheap arithmetic, where the call costs little.
struct Lanewise: LaneFunction {
    let body: (FloatVector) -> FloatVector
    @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { body(x) }
}

/// A closure as a `BinaryLaneFunction`.
struct BinaryLanewise: BinaryLaneFunction {
    let body: (FloatVector, FloatVector) -> FloatVector
    @inline(__always) func callAsFunction(_ a: FloatVector, _ b: FloatVector) -> FloatVector { body(a, b) }
}

/// f(a, b) with b fixed: a broadcast scalar on the right.
struct WithSecondOperand<F: BinaryLaneFunction>: LaneFunction {
    let f: F, b: FloatVector
    @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { f(x, b) }
}

/// f(a, b) with a fixed: a broadcast scalar on the left.
struct WithFirstOperand<F: BinaryLaneFunction>: LaneFunction {
    let f: F, a: FloatVector
    @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { f(a, x) }
}

/// Loops that apply a lane-wise function to one or two buffers.
enum ElementwiseKernels {
    /// The 16 scalars from pointer + offset, or the `remaining` < 16 of a tail with the
    /// other lanes set to `fill`.
    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>, _ offset: Int, _ remaining: Int, fill: Float = 0) -> FloatVector {
        if remaining >= 16 {
            return UnsafeRawPointer(pointer + offset).loadUnaligned(as: FloatVector.self)
        }
        // A tail: one copy of its bytes (assigning lane by lane runs several times slower).
        var vector = FloatVector(repeating: fill)
        withUnsafeMutableBytes(of: &vector) { $0.baseAddress!.copyMemory(from: pointer + offset, byteCount: remaining &* 4) }
        return vector
    }

    @inline(__always)
    static func store(_ vector: FloatVector, _ pointer: UnsafeMutablePointer<Float>, _ offset: Int, _ remaining: Int) {
        if remaining >= 16 {
            UnsafeMutableRawPointer(pointer + offset).storeBytes(of: vector, as: FloatVector.self)
            return
        }
        withUnsafeBytes(of: vector) { UnsafeMutableRawPointer(pointer + offset).copyMemory(from: $0.baseAddress!, byteCount: remaining &* 4) }
    }

    /// out[i] = f(x[i]).
    @inline(__always)
    static func map<F: LaneFunction>(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int, _ f: F
    ) {
        var i = 0
        while i < count {
            store(f(load(x, i, count - i)), out, i, count - i)
            i += 16
        }
    }

    /// out[i] = f(x[i]) for a closure (cheap arithmetic; see `LaneFunction`).
    @inline(__always)
    static func map(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int,
        _ f: (FloatVector) -> FloatVector
    ) {
        withoutActuallyEscaping(f) { map(x, out, count: count, Lanewise(body: $0)) }
    }

    /// out[i] = f(a[i], b[i]).
    @inline(__always)
    static func zip<F: BinaryLaneFunction>(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int, _ f: F
    ) {
        var i = 0
        while i < count {
            store(f(load(a, i, count - i), load(b, i, count - i)), out, i, count - i)
            i += 16
        }
    }

    /// out[i] = f(a[i], b[i]) for a closure (cheap arithmetic; see `LaneFunction`).
    @inline(__always)
    static func zip(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int,
        _ f: (FloatVector, FloatVector) -> FloatVector
    ) {
        withoutActuallyEscaping(f) { zip(a, b, out, count: count, BinaryLanewise(body: $0)) }
    }

    /// matrix[r, :] += vector for every row r of a (rows, width) row-major matrix: a bias,
    /// on all threads when there is enough of it.
    static func addToRows(_ matrix: UnsafeMutablePointer<Float>, rows: Int, width: Int, _ vector: UnsafePointer<Float>) {
        let operands = UncheckedSendable((matrix, vector))
        Parallelism.forEachChunk(count: rows, costPerItem: width) { rowRange in
            let (matrix, vector) = operands.value
            for row in rowRange {
                let y = matrix + row * width
                zip(y, vector, y, count: width) { $0 + $1 }
            }
        }
    }

    /// out[i] = f(a[i], b[i], c[i]).
    @inline(__always)
    static func zip3(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>, count: Int,
        _ f: (FloatVector, FloatVector, FloatVector) -> FloatVector
    ) {
        var i = 0
        while i < count {
            let r = count - i
            store(f(load(a, i, r), load(b, i, r), load(c, i, r)), out, i, r)
            i += 16
        }
    }

    /// One row of a broadcast binary operation: a and b advance by `aStep` and `bStep`
    /// (1 for a full row, 0 for a single value repeated along the row).
    @inline(__always)
    static func zipRow<F: BinaryLaneFunction>(
        _ a: UnsafePointer<Float>, aStep: Int, _ b: UnsafePointer<Float>, bStep: Int,
        _ out: UnsafeMutablePointer<Float>, count: Int, _ f: F
    ) {
        switch (aStep, bStep) {
        case (1, 1):
            zip(a, b, out, count: count, f)
        case (1, _):
            map(a, out, count: count, WithSecondOperand(f: f, b: FloatVector(repeating: b.pointee)))
        case (_, 1):
            map(b, out, count: count, WithFirstOperand(f: f, a: FloatVector(repeating: a.pointee)))
        default:
            let value = f(FloatVector(repeating: a.pointee), FloatVector(repeating: b.pointee))[0]
            out.update(repeating: value, count: count)
        }
    }
}
