import CSequentKernels

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
/// The weights are packed once in row blocks (16 rows stored column after column, the
/// layout in CSequentKernels.h), so that the products stream them in whole cache lines.
/// On one core of stop 11's Xeon, weights in L2, a 512 x 512 matrix takes 8.6 us in Float
/// and 6.5 us in bfloat16 (AVX512-BF16's dot product, which bounds it: 2 cycles per 64 bytes).
/// Streaming rnn-2x512 with bfloat16 weights on one thread took 62 us per token on oneDNN's
/// GEMM with M = 1 (`dnnl_gemm_bf16bf16f32`) and 30 us on these kernels.
final class VectorProductMatrix {
    /// Rows in a block of the packed layout; products start at a block's first row.
    static let blockRows = 16
    let rows: Int
    let columns: Int
    let precision: WeightPrecision
    /// Column pairs of the bfloat16 layout (columns rounded up to even).
    let pairs: Int
    /// The packed weights (Float or bfloat16 bits).
    let packed: UnsafeMutableRawPointer

    /// Copies row r from `source(r)` (columns scalars each).
    init(rows: Int, columns: Int, precision: WeightPrecision, source: (Int) -> UnsafePointer<Float>) {
        self.rows = rows
        self.columns = columns
        self.precision = precision
        pairs = (columns + 1) / 2
        let lanes = Self.blockRows
        let blocks = (rows + lanes - 1) / lanes
        switch precision {
        case .float32:
            let count = max(1, blocks * columns * lanes)
            let values = Self.allocateLines(count * MemoryLayout<Float>.stride).bindMemory(to: Float.self, capacity: count)
            values.initialize(repeating: 0, count: count)
            for r in 0..<rows {
                let (block, lane) = r.quotientAndRemainder(dividingBy: lanes)
                let row = source(r)
                for k in 0..<columns { values[(block * columns + k) * lanes + lane] = row[k] }
            }
            packed = UnsafeMutableRawPointer(values)
        case .bfloat16:
            let count = max(1, blocks * pairs * 2 * lanes)
            let bits = Self.allocateLines(count * MemoryLayout<UInt16>.stride).bindMemory(to: UInt16.self, capacity: count)
            bits.initialize(repeating: 0, count: count)
            for r in 0..<rows {
                let (block, lane) = r.quotientAndRemainder(dividingBy: lanes)
                let row = source(r)
                for k in 0..<columns {
                    let (pair, half) = k.quotientAndRemainder(dividingBy: 2)
                    bits[(block * pairs + pair) * 2 * lanes + 2 * lane + half] = BFloat16.bits(row[k])
                }
            }
            packed = UnsafeMutableRawPointer(bits)
        }
    }

    deinit { packed.deallocate() }

    /// Memory aligned to a 64-byte cache line, so that every load of 16 rows' weights is one
    /// line: malloc's 16-byte alignment splits each across two (the dot-product kernel ran
    /// 13 % slower, the AMX tiles 2.4 times slower on stop 12's Xeon).
    private static func allocateLines(_ byteCount: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
    }

    /// y[r] (+)= row r . x for r in `range` (starting at a multiple of `blockRows`), on the
    /// calling thread. At bfloat16, x is rounded to bfloat16 too. `descending` reads the
    /// rows from the last block to the first (the same results): see CSequentKernels.h.
    @inline(__always)
    func multiply(rows range: Range<Int>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, accumulate: Bool,
                  descending: Bool = false) {
        guard !range.isEmpty else { return }
        precondition(range.lowerBound % Self.blockRows == 0 && range.upperBound <= rows,
                     "VectorProductMatrix: rows \(range) do not start at a block of \(Self.blockRows)")
        let firstBlock = range.lowerBound / Self.blockRows
        switch precision {
        case .float32:
            let weights = packed.assumingMemoryBound(to: Float.self) + firstBlock * columns * Self.blockRows
            sequent_matvec_f32(weights, Int32(range.count), Int32(columns), x, y + range.lowerBound, accumulate ? 1 : 0, descending ? 1 : 0)
        case .bfloat16:
            let weights = packed.assumingMemoryBound(to: UInt16.self) + firstBlock * pairs * 2 * Self.blockRows
            withUnsafeTemporaryAllocation(of: UInt16.self, capacity: max(2, 2 * pairs)) { xBits in
                if pairs > 0 { xBits[2 * pairs - 1] = 0 }  // the half pair of an odd width
                BFloat16.round(x, rows: 1, cols: columns, ld: columns, into: xBits.baseAddress!)
                UnsafeRawPointer(xBits.baseAddress!).withMemoryRebound(to: UInt32.self, capacity: pairs) { xPairs in
                    sequent_matvec_bf16(weights, Int32(range.count), Int32(pairs), xPairs, y + range.lowerBound, accumulate ? 1 : 0,
                                        descending ? 1 : 0)
                }
            }
        }
    }
}
