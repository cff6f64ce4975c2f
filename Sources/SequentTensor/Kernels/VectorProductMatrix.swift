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
/// Written for batch 1, where oneDNN's GEMM with M = 1 measured slower (docs/performance.md,
/// "Figures behind comments in the kernels").
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
    /// line: malloc's 16-byte alignment splits each across two, which measured slower.
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
        switch precision {
        case .float32:
            let firstBlock = firstBlock(of: range)
            let weights = packed.assumingMemoryBound(to: Float.self) + firstBlock * columns * Self.blockRows
            sequent_matvec_f32(weights, Int32(range.count), Int32(columns), x, y + range.lowerBound, accumulate ? 1 : 0, descending ? 1 : 0)
        case .bfloat16:
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: max(1, pairs)) { xPairs in
                Self.roundPairs(x, count: columns, into: xPairs.baseAddress!)
                multiply(rows: range, pairs: xPairs.baseAddress!, y, accumulate: accumulate, descending: descending)
            }
        }
    }

    /// `multiply` on bfloat16 weights with x already rounded by `roundPairs`: a vector that
    /// several products read is rounded once.
    @inline(__always)
    func multiply(rows range: Range<Int>, pairs xPairs: UnsafePointer<UInt32>, _ y: UnsafeMutablePointer<Float>, accumulate: Bool,
                  descending: Bool = false) {
        precondition(precision == .bfloat16, "VectorProductMatrix: rounded inputs need bfloat16 weights")
        guard !range.isEmpty else { return }
        let weights = packed.assumingMemoryBound(to: UInt16.self) + firstBlock(of: range) * pairs * 2 * Self.blockRows
        sequent_matvec_bf16(weights, Int32(range.count), Int32(pairs), xPairs, y + range.lowerBound, accumulate ? 1 : 0, descending ? 1 : 0)
    }

    /// x (count) rounded to bfloat16, two per 32 bits (even element in the low half), the
    /// half pair of an odd count zero: (count + 1) / 2 pairs, the input of bfloat16 products.
    static func roundPairs(_ x: UnsafePointer<Float>, count: Int, into xPairs: UnsafeMutablePointer<UInt32>) {
        UnsafeMutableRawPointer(xPairs).withMemoryRebound(to: UInt16.self, capacity: max(1, 2 * ((count + 1) / 2))) { halves in
            if count % 2 == 1 { halves[count] = 0 }
            BFloat16.round(x, rows: 1, cols: count, ld: count, into: halves)
        }
    }

    private func firstBlock(of range: Range<Int>) -> Int {
        precondition(range.lowerBound % Self.blockRows == 0 && range.upperBound <= rows,
                     "VectorProductMatrix: rows \(range) do not start at a block of \(Self.blockRows)")
        return range.lowerBound / Self.blockRows
    }
}
