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
                a0.addProduct(ElementwiseKernels.load(w0, k, remaining), xv)
                a1.addProduct(ElementwiseKernels.load(w1, k, remaining), xv)
                a2.addProduct(ElementwiseKernels.load(w2, k, remaining), xv)
                a3.addProduct(ElementwiseKernels.load(w3, k, remaining), xv)
                k += 16
            }
            let sums = (a0.horizontalSum(), a1.horizontalSum(), a2.horizontalSum(), a3.horizontalSum())
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
                a.addProduct(ElementwiseKernels.load(w + r * columns, k, columns - k), ElementwiseKernels.load(x, k, columns - k))
                k += 16
            }
            y[r] = accumulate ? y[r] + a.horizontalSum() : a.horizontalSum()
            r += 1
        }
    }
}

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
/// bfloat16 rows are stored in blocks of 16 weights as 8 words, word j holding weight j in
/// its low half and weight j + 8 in its high half, so that a shift and a mask turn a load of
/// 8 words into the two Float vectors of weights 0..<8 and 8..<16.
final class VectorProductMatrix {
    let rows: Int
    let columns: Int
    let precision: WeightPrecision
    private let floats: UnsafeMutablePointer<Float>?
    private let words: UnsafeMutablePointer<UInt32>?
    /// Words per bfloat16 row: 8 per block of 16 columns.
    private let wordsPerRow: Int

    /// Copies row r from `source(r)` (columns scalars each).
    init(rows: Int, columns: Int, precision: WeightPrecision, source: (Int) -> UnsafePointer<Float>) {
        self.rows = rows
        self.columns = columns
        self.precision = precision
        wordsPerRow = (columns + 15) / 16 * 8
        switch precision {
        case .float32:
            let values = UnsafeMutablePointer<Float>.allocate(capacity: max(1, rows * columns))
            for r in 0..<rows { (values + r * columns).update(from: source(r), count: columns) }
            floats = values
            words = nil
        case .bfloat16:
            let packed = UnsafeMutablePointer<UInt32>.allocate(capacity: max(1, rows * wordsPerRow))
            packed.initialize(repeating: 0, count: max(1, rows * wordsPerRow))
            for r in 0..<rows {
                let row = source(r)
                for c in 0..<columns {
                    let word = packed + r * wordsPerRow + (c / 16) * 8 + (c % 16) % 8
                    let half = UInt32(BFloat16.bits(row[c]))
                    word.pointee |= (c % 16) < 8 ? half : half << 16
                }
            }
            floats = nil
            words = packed
        }
    }

    deinit {
        floats?.deallocate()
        words?.deallocate()
    }

    /// y[r] (+)= row r . x for r in `range`.
    @inline(__always)
    func multiply(rows range: Range<Int>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if let floats {
            MatrixVectorKernels.multiply(floats, columns: columns, rows: range, x, y, accumulate: accumulate)
            return
        }
        let words = words!
        @inline(__always) func load8(_ k: Int) -> SIMD8<Float> {
            if k + 8 <= columns { return UnsafeRawPointer(x + k).loadUnaligned(as: SIMD8<Float>.self) }
            var v = SIMD8<Float>()
            for lane in 0..<max(0, min(8, columns - k)) { v[lane] = x[k + lane] }
            return v
        }
        let blocks = wordsPerRow / 8
        var r = range.lowerBound
        while r < range.upperBound {
            let count = min(4, range.upperBound - r)
            var accumulators = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            for block in 0..<blocks {
                let (xLow, xHigh) = (load8(block * 16), load8(block * 16 + 8))
                @inline(__always) func accumulateProduct(_ row: Int, into accumulator: inout SIMD8<Float>) {
                    let packed = UnsafeRawPointer(words + row * wordsPerRow + block * 8).loadUnaligned(as: SIMD8<UInt32>.self)
                    accumulator.addProduct(unsafeBitCast(packed &<< 16, to: SIMD8<Float>.self), xLow)
                    accumulator.addProduct(unsafeBitCast(packed & 0xFFFF_0000, to: SIMD8<Float>.self), xHigh)
                }
                accumulateProduct(r, into: &accumulators.0)
                if count > 1 { accumulateProduct(r + 1, into: &accumulators.1) }
                if count > 2 { accumulateProduct(r + 2, into: &accumulators.2) }
                if count > 3 { accumulateProduct(r + 3, into: &accumulators.3) }
            }
            for j in 0..<count {
                let accumulator = j == 0 ? accumulators.0 : j == 1 ? accumulators.1 : j == 2 ? accumulators.2 : accumulators.3
                let sum = accumulator.horizontalSum()
                y[r + j] = accumulate ? y[r + j] + sum : sum
            }
            r += count
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
