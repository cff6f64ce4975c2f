// Elementwise loops over raw buffers, 16 lanes at a time, with a zero-padded tail.
// Shapes: every buffer holds `count` scalars unless a parameter says it is one scalar.

/// Loops that apply a lane-wise function to one or two buffers.
enum ElementwiseKernels {
    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>, _ offset: Int, _ remaining: Int) -> FloatVector {
        if remaining >= 16 {
            return UnsafeRawPointer(pointer + offset).loadUnaligned(as: FloatVector.self)
        }
        var vector = FloatVector()
        for lane in 0..<remaining { vector[lane] = pointer[offset + lane] }
        return vector
    }

    @inline(__always)
    static func store(_ vector: FloatVector, _ pointer: UnsafeMutablePointer<Float>, _ offset: Int, _ remaining: Int) {
        if remaining >= 16 {
            UnsafeMutableRawPointer(pointer + offset).storeBytes(of: vector, as: FloatVector.self)
            return
        }
        for lane in 0..<remaining { pointer[offset + lane] = vector[lane] }
    }

    /// out[i] = f(x[i]).
    @inline(__always)
    static func map(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int,
        _ f: (FloatVector) -> FloatVector
    ) {
        var i = 0
        while i < count {
            store(f(load(x, i, count - i)), out, i, count - i)
            i += 16
        }
    }

    /// out[i] = f(a[i], b[i]).
    @inline(__always)
    static func zip(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int,
        _ f: (FloatVector, FloatVector) -> FloatVector
    ) {
        var i = 0
        while i < count {
            store(f(load(a, i, count - i), load(b, i, count - i)), out, i, count - i)
            i += 16
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
    static func zipRow(
        _ a: UnsafePointer<Float>, aStep: Int, _ b: UnsafePointer<Float>, bStep: Int,
        _ out: UnsafeMutablePointer<Float>, count: Int,
        _ f: (FloatVector, FloatVector) -> FloatVector
    ) {
        switch (aStep, bStep) {
        case (1, 1):
            zip(a, b, out, count: count, f)
        case (1, _):
            let bVector = FloatVector(repeating: b.pointee)
            map(a, out, count: count) { f($0, bVector) }
        case (_, 1):
            let aVector = FloatVector(repeating: a.pointee)
            map(b, out, count: count) { f(aVector, $0) }
        default:
            let value = f(FloatVector(repeating: a.pointee), FloatVector(repeating: b.pointee))[0]
            out.update(repeating: value, count: count)
        }
    }
}
