// Copies between strided and contiguous layouts (permute's kernel), and the transpose that
// attention's tiles, GEMM's swapped products and the recurrent layers' W_hh^T use.

/// Gathers a strided view into a contiguous buffer; transposes a matrix.
enum StridedCopy {
    /// out[i0, ..., ik] = x[sum_j i_j * strides[j]] for every index of `shape`, row-major.
    static func gather(from x: UnsafePointer<Float>, strides: [Int], shape: [Int], to out: UnsafeMutablePointer<Float>) {
        let count = shape.reduce(1, *)
        guard count > 0 else { return }
        let rank = shape.count
        let innerLength = shape[rank - 1], innerStride = strides[rank - 1]
        let base = UncheckedSendable((x, out))
        // Rows of the innermost dimension, shared out between the threads.
        Parallelism.forEachChunk(count: count / innerLength, costPerItem: innerLength) { rows in
            let (x, out) = base.value
            // The odometer at the chunk's first row: its index in every outer dimension.
            var index = [Int](repeating: 0, count: rank)
            var offset = 0
            var remainder = rows.lowerBound
            for k in stride(from: rank - 2, through: 0, by: -1) {
                index[k] = remainder % shape[k]
                remainder /= shape[k]
                offset += index[k] * strides[k]
            }
            var written = rows.lowerBound * innerLength
            for _ in rows {
                if innerStride == 1 {
                    (out + written).update(from: x + offset, count: innerLength)
                } else {
                    for i in 0..<innerLength { out[written + i] = x[offset + i * innerStride] }
                }
                written += innerLength
                // Advance the odometer over all but the innermost dimension.
                var k = rank - 2
                while k >= 0 {
                    index[k] += 1
                    offset += strides[k]
                    if index[k] < shape[k] { break }
                    offset -= strides[k] * shape[k]
                    index[k] = 0
                    k -= 1
                }
            }
        }
    }

    /// out (cols, rows; row stride ld) = x^T for x (rows, cols), row stride `rowStride`
    /// (default cols). Sixteen rows of x at a time, so that every write to `out` is one vector.
    @inline(__always)
    static func transpose(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int, rowStride: Int? = nil, into out: UnsafeMutablePointer<Float>, ld: Int
    ) {
        let xStride = rowStride ?? cols
        var r = 0
        while r &+ 16 <= rows {
            let block = x + r &* xStride
            for c in 0..<cols {
                var column = FloatVector()
                for lane in 0..<16 { column[lane] = block[lane &* xStride &+ c] }
                UnsafeMutableRawPointer(out + (c &* ld &+ r)).storeBytes(of: column, as: FloatVector.self)
            }
            r &+= 16
        }
        while r < rows {
            for c in 0..<cols { out[c &* ld &+ r] = x[r &* xStride &+ c] }
            r &+= 1
        }
    }

    /// `transpose` with the rows of `out` (x's columns) shared out between the threads.
    /// x is contiguous (row stride cols).
    static func transposeOnThreads(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>, ld: Int) {
        let shared = UncheckedSendable((x, out))
        Parallelism.forEachChunk(count: cols, costPerItem: rows) { columns in
            let (x, out) = shared.value
            transpose(x + columns.lowerBound, rows: rows, cols: columns.count, rowStride: cols,
                      into: out + columns.lowerBound * ld, ld: ld)
        }
    }
}
