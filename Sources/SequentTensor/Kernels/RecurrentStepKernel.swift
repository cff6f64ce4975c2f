// Batch-1 inference: one time step of one recurrent layer as matrix-vector products fused
// with the cell, each thread owning a range of hidden units end to end.
//
// H = hidden size, In = input width, G = gateCount * H. The weights are copied once with
// their rows regrouped by thread: thread c owns units j0..<j1 and the rows of all gates
// for those units, stored gate after gate (i(j0..<j1), f(j0..<j1), ...), so that the cell
// kernel runs on that block as on a row of hidden size j1 - j0. One parallel region per
// step: each thread computes its rows of W_ih x + W_hh h, then its units of the cell.

/// Row dot products: the matrix-vector kernel of the streaming path.
enum MatrixVectorKernels {
    /// y[r] = W[r, :] . x for r in rows (W row-major with `columns` scalars per row).
    @inline(__always)
    static func multiply(
        _ w: UnsafePointer<Float>, columns: Int, rows: Range<Int>, _ x: UnsafePointer<Float>,
        _ y: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        var r = rows.lowerBound
        // Four rows at a time share each load of x.
        while r + 4 <= rows.upperBound {
            var a0 = FloatVector(), a1 = a0, a2 = a0, a3 = a0
            let (w0, w1, w2, w3) = (w + r * columns, w + (r + 1) * columns, w + (r + 2) * columns, w + (r + 3) * columns)
            var k = 0
            while k < columns {
                let remaining = columns - k
                let xv = ElementwiseKernels.load(x, k, remaining)
                a0 += ElementwiseKernels.load(w0, k, remaining) * xv
                a1 += ElementwiseKernels.load(w1, k, remaining) * xv
                a2 += ElementwiseKernels.load(w2, k, remaining) * xv
                a3 += ElementwiseKernels.load(w3, k, remaining) * xv
                k += 16
            }
            let sums = (a0.sum(), a1.sum(), a2.sum(), a3.sum())
            if accumulate {
                y[r] += sums.0; y[r + 1] += sums.1; y[r + 2] += sums.2; y[r + 3] += sums.3
            } else {
                y[r] = sums.0; y[r + 1] = sums.1; y[r + 2] = sums.2; y[r + 3] = sums.3
            }
            r += 4
        }
        while r < rows.upperBound {
            var a = FloatVector()
            var k = 0
            while k < columns {
                a += ElementwiseKernels.load(w + r * columns, k, columns - k) * ElementwiseKernels.load(x, k, columns - k)
                k += 16
            }
            y[r] = accumulate ? y[r] + a.sum() : a.sum()
            r += 1
        }
    }
}

/// One unidirectional layer's weights regrouped by thread, with its step scratch.
final class RecurrentStepLayer {
    let inputSize: Int
    let hidden: Int
    let gateCount: Int
    /// The unit ranges of the threads, aligned to 16 units.
    let unitRanges: [Range<Int>]
    /// Regrouped copies (G, In), (G, H), (G), (G); biases zero when the layer has none.
    let inputWeight: UnsafeMutablePointer<Float>
    let recurrentWeight: UnsafeMutablePointer<Float>
    let inputBias: UnsafeMutablePointer<Float>
    let recurrentBias: UnsafeMutablePointer<Float>
    /// For each regrouped row, its row in PyTorch's layout.
    let originalRow: [Int]
    /// Step scratch (G) and GRU's extra (H), in the regrouped layout.
    let gates: UnsafeMutablePointer<Float>
    let recurrent: UnsafeMutablePointer<Float>
    let extra: UnsafeMutablePointer<Float>

    init(inputWeight w: UnsafePointer<Float>, recurrentWeight u: UnsafePointer<Float>,
         inputBias bi: UnsafePointer<Float>?, recurrentBias bh: UnsafePointer<Float>?,
         inputSize: Int, hidden: Int, gateCount: Int, threads: Int) {
        self.inputSize = inputSize
        self.hidden = hidden
        self.gateCount = gateCount
        let blocks = (hidden + 15) / 16
        let parts = max(1, min(threads, blocks))
        unitRanges = (0..<parts).map { c in
            (min(hidden, blocks * c / parts * 16))..<(min(hidden, blocks * (c + 1) / parts * 16))
        }
        var order: [Int] = []
        for range in unitRanges {
            for gate in 0..<gateCount { order += range.map { gate * hidden + $0 } }
        }
        originalRow = order
        let g = gateCount * hidden
        inputWeight = .allocate(capacity: max(1, g * inputSize))
        recurrentWeight = .allocate(capacity: g * hidden)
        inputBias = .allocate(capacity: g)
        recurrentBias = .allocate(capacity: g)
        for (row, source) in order.enumerated() {
            (inputWeight + row * inputSize).update(from: w + source * inputSize, count: inputSize)
            (recurrentWeight + row * hidden).update(from: u + source * hidden, count: hidden)
            inputBias[row] = bi?[source] ?? 0
            recurrentBias[row] = bh?[source] ?? 0
        }
        gates = .allocate(capacity: g)
        recurrent = .allocate(capacity: g)
        extra = .allocate(capacity: hidden)
    }

    deinit {
        [inputWeight, recurrentWeight, inputBias, recurrentBias, gates, recurrent, extra].forEach { $0.deallocate() }
    }

    /// One step: h_new (and c_new) from the input and the previous state.
    ///
    /// - Parameters:
    ///   - input: x (In), or nil when `inputProjection` is given.
    ///   - inputProjection: W_ih x (G) in PyTorch's row order, e.g. a row of a per-token table.
    func step<Cell: RecurrentCellKernel>(
        _ cell: Cell.Type, nonlinearity: RecurrentNonlinearity,
        input: UnsafePointer<Float>?, inputProjection: UnsafePointer<Float>?,
        hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>?,
        hNew: UnsafeMutablePointer<Float>, cNew: UnsafeMutablePointer<Float>?
    ) {
        let context = UncheckedSendable((self, input, inputProjection, hPrev, cPrev, hNew, cNew))
        Parallelism.forEachChunk(count: unitRanges.count, costPerItem: 1 << 20) { chunks in
            let (layer, input, inputProjection, hPrev, cPrev, hNew, cNew) = context.value
            for chunk in chunks {
                let units = layer.unitRanges[chunk]
                let width = units.count
                let firstRow = layer.gateCount * units.lowerBound
                let rows = firstRow..<(firstRow + layer.gateCount * width)
                if let inputProjection {
                    for row in rows { layer.gates[row] = inputProjection[layer.originalRow[row]] }
                } else {
                    MatrixVectorKernels.multiply(layer.inputWeight, columns: layer.inputSize, rows: rows, input!, layer.gates, accumulate: false)
                }
                MatrixVectorKernels.multiply(layer.recurrentWeight, columns: layer.hidden, rows: rows, hPrev, layer.recurrent, accumulate: false)
                Cell.forward(
                    RecurrentRow(
                        gates: layer.gates + firstRow, recurrent: layer.recurrent + firstRow,
                        biasIH: layer.inputBias + firstRow, biasHH: layer.recurrentBias + firstRow,
                        hPrev: hPrev + units.lowerBound, cPrev: cPrev.map { $0 + units.lowerBound },
                        hNew: hNew + units.lowerBound, cNew: cNew.map { $0 + units.lowerBound },
                        extra: layer.extra + units.lowerBound),
                    hidden: width, nonlinearity: nonlinearity)
            }
        }
    }
}
