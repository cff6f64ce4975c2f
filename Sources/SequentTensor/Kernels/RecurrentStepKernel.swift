// Batch-1 inference: one time step of one recurrent layer as matrix-vector products fused
// with the cell, each thread owning a range of hidden units end to end.
//
// H = hidden size, In = input width, G = gateCount * H. The weights are copied once with
// their rows regrouped by thread: thread c owns units j0..<j1 and the rows of all gates
// for those units, stored gate after gate (i(j0..<j1), f(j0..<j1), ...), so that the cell
// kernel runs on that block as on a row of hidden size j1 - j0. One parallel region per
// step: each thread computes its rows of W_ih x + W_hh h (oneDNN's products with M = 1,
// single-threaded), then its units of the cell.

/// How a streaming model stores its weight matrices.
public enum WeightPrecision: String, Sendable, Codable {
    /// 32-bit floats: the trained values exactly.
    case float32
    /// bfloat16 (the top 16 bits of a Float, rounded to nearest even): half the memory
    /// traffic per step, about 3 significant digits per weight; products still sum in Float.
    case bfloat16
}

/// A (rows, columns) matrix kept for matrix-vector products, in Float or bfloat16.
///
/// The products are oneDNN's (`dnnl_sgemm`, or `dnnl_gemm_bf16bf16f32` on bfloat16 weights
/// with x rounded to bfloat16), with M = 1: on AVX512-BF16 cores the bfloat16 product reads
/// half the bytes and runs twice as fast as AVX2 code could (a 512 x 512 matrix: 5.5 us on
/// one core against 11 us for the hand-written kernel this replaced).
final class VectorProductMatrix {
    let rows: Int
    let columns: Int
    let precision: WeightPrecision
    private let floats: UnsafeMutablePointer<Float>?
    private let bits: UnsafeMutablePointer<UInt16>?

    /// Copies row r from `source(r)` (columns scalars each).
    init(rows: Int, columns: Int, precision: WeightPrecision, source: (Int) -> UnsafePointer<Float>) {
        self.rows = rows
        self.columns = columns
        self.precision = precision
        switch precision {
        case .float32:
            let values = UnsafeMutablePointer<Float>.allocate(capacity: max(1, rows * columns))
            for r in 0..<rows { (values + r * columns).update(from: source(r), count: columns) }
            floats = values
            bits = nil
        case .bfloat16:
            let rounded = UnsafeMutablePointer<UInt16>.allocate(capacity: max(1, rows * columns))
            for r in 0..<rows { BFloat16.round(source(r), rows: 1, cols: columns, ld: columns, into: rounded + r * columns) }
            floats = nil
            bits = rounded
        }
    }

    deinit {
        floats?.deallocate()
        bits?.deallocate()
    }

    /// y[r] (+)= row r . x for r in `range`; single-threaded inside a parallel region.
    @inline(__always)
    func multiply(rows range: Range<Int>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        guard !range.isEmpty else { return }
        let (first, count) = (range.lowerBound, range.count)
        let beta: Float = accumulate ? 1 : 0
        if let floats {
            GEMM.multiply(transposeA: false, transposeB: true, m: 1, n: count, k: columns, a: x, lda: columns,
                          b: floats + first * columns, ldb: columns, beta: beta, c: y + first, ldc: count)
            return
        }
        guard columns > 0 else {
            if !accumulate { (y + first).update(repeating: 0, count: count) }
            return
        }
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: columns) { xBits in
            BFloat16.round(x, rows: 1, cols: columns, ld: columns, into: xBits.baseAddress!)
            GEMM.multiplyBFloat16(transposeA: false, transposeB: true, m: 1, n: count, k: columns, a: xBits.baseAddress!,
                                  lda: columns, b: bits! + first * columns, ldb: columns, beta: beta, c: y + first, ldc: count)
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
         inputSize: Int, hidden: Int, gateCount: Int, threads: Int, precision: WeightPrecision) {
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
        inputWeight = VectorProductMatrix(rows: g, columns: inputSize, precision: precision) { w + order[$0] * inputSize }
        recurrentWeight = VectorProductMatrix(rows: g, columns: hidden, precision: precision) { u + order[$0] * hidden }
        inputBias = .allocate(capacity: g)
        recurrentBias = .allocate(capacity: g)
        for (row, source) in order.enumerated() {
            inputBias[row] = bi?[source] ?? 0
            recurrentBias[row] = bh?[source] ?? 0
        }
        gates = .allocate(capacity: g)
        recurrent = .allocate(capacity: g)
        extra = .allocate(capacity: hidden)
    }

    deinit {
        [inputBias, recurrentBias, gates, recurrent, extra].forEach { $0.deallocate() }
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
                    layer.inputWeight.multiply(rows: rows, input!, layer.gates, accumulate: false)
                }
                layer.recurrentWeight.multiply(rows: rows, hPrev, layer.recurrent, accumulate: false)
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
