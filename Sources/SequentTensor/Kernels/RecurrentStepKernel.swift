// Batch-1 inference: one time step of one recurrent layer as matrix-vector products fused
// with the cell, each thread owning a range of hidden units end to end.
//
// H = hidden size, In = input width, G = gateCount * H. The weights are copied once with
// their rows regrouped by thread: thread c owns units j0..<j1 and the rows of all gates
// for those units, stored gate after gate (i(j0..<j1), f(j0..<j1), ...), so that the cell
// kernel runs on that block as on a row of hidden size j1 - j0. Each thread computes its
// rows of W_ih x + W_hh h (matrix-vector products on weights packed in row blocks,
// VectorProductMatrix.swift), then its units of the cell; RecurrentStackStepKernel runs all layers
// of a step in one parallel region, with a barrier between layers.

/// One unidirectional layer's weights regrouped by thread, with its step scratch.
final class RecurrentStepLayer {
    let inputSize: Int
    let hiddenSize: Int
    let gateCount: Int
    /// The unit ranges of the threads, aligned to 16 units.
    let unitRanges: [Range<Int>]
    /// Regrouped copies (G, In), (G, H), (G), (G); biases zero when the layer has none.
    let inputWeight: VectorProductMatrix
    let recurrentWeight: VectorProductMatrix
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
         inputSize: Int, hiddenSize: Int, gateCount: Int, threads: Int, precision: WeightPrecision) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.gateCount = gateCount
        let blocks = (hiddenSize + 15) / 16
        let parts = max(1, min(threads, blocks))
        unitRanges = (0..<parts).map { c in
            (min(hiddenSize, blocks * c / parts * 16))..<(min(hiddenSize, blocks * (c + 1) / parts * 16))
        }
        var order: [Int] = []
        for range in unitRanges {
            for gate in 0..<gateCount { order += range.map { gate * hiddenSize + $0 } }
        }
        originalRow = order
        let g = gateCount * hiddenSize
        inputWeight = VectorProductMatrix(rows: g, columns: inputSize, precision: precision) { w + order[$0] * inputSize }
        recurrentWeight = VectorProductMatrix(rows: g, columns: hiddenSize, precision: precision) { u + order[$0] * hiddenSize }
        inputBias = .allocate(capacity: g)
        recurrentBias = .allocate(capacity: g)
        for (row, source) in order.enumerated() {
            inputBias[row] = bi?[source] ?? 0
            recurrentBias[row] = bh?[source] ?? 0
        }
        gates = .allocate(capacity: g)
        recurrent = .allocate(capacity: g)
        extra = .allocate(capacity: hiddenSize)
    }

    deinit {
        [inputBias, recurrentBias, gates, recurrent, extra].forEach { $0.deallocate() }
    }

    /// One thread's part of a step: h_new (and c_new) for the units of `unitRanges[part]`,
    /// from the input and the previous state.
    ///
    /// - Parameters:
    ///   - input: x (In), or nil when `inputProjection` is given.
    ///   - inputProjection: W_ih x (G) in PyTorch's row order, e.g. a row of a per-token table.
    ///   - hNewPairs: with bfloat16 weights, where to write this part's units of h_new rounded
    ///     for the next products (`VectorProductMatrix.roundPairs`, indexed by unit / 2).
    ///   - backwards: read the weights in the reverse order (W_hh, then W_ih, each from its
    ///     last row block): a stepper alternates directions from token to token, so that
    ///     weights larger than a core's cache are not all evicted before their next use.
    func step<Cell: RecurrentCellKernel>(
        _ cell: Cell.Type, part: Int, nonlinearity: RecurrentNonlinearity,
        input: StepVector?, inputProjection: UnsafePointer<Float>?,
        hPrev: StepVector, cPrev: UnsafePointer<Float>?,
        hNew: UnsafeMutablePointer<Float>, cNew: UnsafeMutablePointer<Float>?, hNewPairs: UnsafeMutablePointer<UInt32>?,
        backwards: Bool
    ) {
        let units = unitRanges[part]
        let width = units.count
        let firstRow = gateCount * units.lowerBound
        let rows = firstRow..<(firstRow + gateCount * width)
        if backwards { recurrentWeight.multiply(rows: rows, hPrev, recurrent, descending: true) }
        if let inputProjection {
            for row in rows { gates[row] = inputProjection[originalRow[row]] }
        } else {
            inputWeight.multiply(rows: rows, input!, gates, descending: backwards)
        }
        if !backwards { recurrentWeight.multiply(rows: rows, hPrev, recurrent, descending: false) }
        Cell.forward(
            RecurrentRow(
                gates: gates + firstRow, recurrent: recurrent + firstRow,
                biasIH: inputBias + firstRow, biasHH: recurrentBias + firstRow,
                hPrev: hPrev.values + units.lowerBound, cPrev: cPrev.map { $0 + units.lowerBound },
                hNew: hNew + units.lowerBound, cNew: cNew.map { $0 + units.lowerBound },
                extra: extra + units.lowerBound),
            hiddenSize: width, nonlinearity: nonlinearity)
        if let hNewPairs {
            // Unit ranges start at multiples of 16: each part owns whole pairs.
            VectorProductMatrix.roundPairs(hNew + units.lowerBound, count: width, into: hNewPairs + units.lowerBound / 2)
        }
    }
}

/// A vector that a step's products read: its Float values and, with bfloat16 weights, the
/// same values already rounded to pairs once for all products that read it (nil: each
/// product rounds them itself).
struct StepVector {
    let values: UnsafePointer<Float>
    let pairs: UnsafePointer<UInt32>?
}

extension VectorProductMatrix {
    /// y[rows] = W x for a step's vector, from its rounded pairs where it has them.
    @inline(__always)
    func multiply(rows: Range<Int>, _ x: StepVector, _ y: UnsafeMutablePointer<Float>, descending: Bool) {
        if let pairs = x.pairs {
            multiply(rows: rows, pairs: pairs, y, accumulate: false, descending: descending)
        } else {
            multiply(rows: rows, x.values, y, accumulate: false, descending: descending)
        }
    }
}
