// Copies between strided and contiguous layouts (permute's kernel), and the transpose that
// returns GEMM's swapped products to their layout.

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

    /// out[j, i] = x[i, j] + beta * out[j, i] for x (rows, cols) contiguous and out (cols,
    /// rows) with row stride `ldc`; beta 0 overwrites (NaN in out is not read). In 16 x 16
    /// tiles, so that both sides are read and written in whole cache lines; row blocks of
    /// out shared out between the threads.
    static func transpose(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>, ldc: Int, beta: Float) {
        let tile = 16
        let base = UncheckedSendable((x, out))
        Parallelism.forEachChunk(count: (cols + tile - 1) / tile, costPerItem: tile * rows) { tiles in
            let (x, out) = base.value
            for j0 in stride(from: tiles.lowerBound * tile, to: min(cols, tiles.upperBound * tile), by: tile) {
                for i0 in stride(from: 0, to: rows, by: tile) {
                    for j in j0..<min(cols, j0 + tile) {
                        let target = out + j * ldc
                        for i in i0..<min(rows, i0 + tile) {
                            let value = x[i * cols + j]
                            target[i] = beta == 0 ? value : value + beta * target[i]
                        }
                    }
                }
            }
        }
    }
}
