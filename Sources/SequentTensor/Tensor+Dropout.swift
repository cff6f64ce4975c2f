// Inverted dropout (Srivastava et al., 2014) with a mask drawn from an explicit generator.

extension Tensor {
    /// Inverted dropout: each scalar is zeroed with probability p and the rest are scaled
    /// so that the expectation is unchanged,
    ///
    ///     y_i = x_i * m_i / (1 - p),   m_i ~ Bernoulli(1 - p)
    ///
    /// The mask is a hash of a key drawn from `generator` (one draw per call) and of the
    /// scalar's index (see `DropoutKernels`), so the same generator state gives the same
    /// mask on any thread count. Gradient: dx_i = dy_i * m_i / (1 - p), with the mask
    /// recomputed from the key rather than stored. p = 0 returns x and draws nothing.
    ///
    /// - Parameters:
    ///   - probability: p in [0, 1).
    ///   - generator: the source of the mask's key.
    public func dropout(probability p: Float, using generator: inout RandomGenerator) -> Tensor {
        Tensor.require {
            if !(p >= 0 && p < 1) {
                throw SequentError.invalidArgument("dropout", "probability must be in [0, 1), got \(p)")
            }
        }
        if p == 0 { return self }
        let key = generator.next()
        // In a batch split over data-parallel ranks, this rank's scalars are the shard's
        // part of the whole batch's tensor: its mask is that part of the whole batch's mask.
        let place = BatchShard.current.map { $0.place(ofShape: shape) } ?? BatchShard.Place(offset: 0, segment: nil)
        let result = Tensor.droppedOut(self, probability: p, key: key, place: place)
        // Saved for the backward pass: only the key and the place.
        return Tensor.recorded(result, operation: "dropout", inputs: [self]) { dy, _ in
            [Tensor.droppedOut(dy, probability: p, key: key, place: place)]
        }
    }

    /// x with the dropout mask of `key` applied, x's scalar i taking the mask's scalar that
    /// `place` says; records nothing.
    private static func droppedOut(_ x: Tensor, probability p: Float, key: UInt64, place: BatchShard.Place) -> Tensor {
        DropoutKernels.apply(x, probability: p, key: key, indexOffset: place.offset, segment: place.segment)
    }
}

/// This process's share of a batch split in equal, consecutive shares along its first axis
/// (data-parallel training: share `index` of `count`), for the operations whose result
/// depends on a scalar's place in the whole batch. Dropout draws the whole batch's mask and
/// applies the shard's part, so with every rank drawing the same keys, row i of the global
/// batch gets the same mask whichever rank holds it, and N ranks x batch B compute what
/// one process with N x B computes. Exact only where the batch axis comes first (the
/// batch-first layouts Sequent's models use); elsewhere the masks are as random, but not
/// those of the single process.
///
/// Shares of unequal sizes (a batch whose rows do not divide among the ranks, as
/// `sequent translate`'s length-bucketed batches) say where they start instead:
/// `with(firstRow:rows:)`, under which a tensor of this share's `rows` rows takes the
/// whole batch's scalars from `firstRow * (its count / rows)` on.
///
/// Models whose batch axis is not the first (time-major (T, B, ...) tensors, as `sequent
/// speech`'s acoustic model) say which axis it is and the whole batch's rows:
/// `with(firstRow:rows:of:batchAxis:)`. A share's rows are then one block of every
/// (T, ...) slice of the whole batch's tensor, and each block takes its scalars of the
/// whole batch's mask.
public struct BatchShard: Sendable {
    /// This share, 0..<count (equal shares).
    public let index: Int
    /// The number of shares (equal shares).
    public let count: Int
    /// Unequal shares: the global row of this share's first row, and its number of rows.
    public let rowSpan: (first: Int, rows: Int)?
    /// The whole batch's rows and the batch axis, where that axis is not the first.
    public let layout: (totalRows: Int, batchAxis: Int)?

    init(index: Int, count: Int, rowSpan: (first: Int, rows: Int)?, layout: (totalRows: Int, batchAxis: Int)? = nil) {
        (self.index, self.count, self.rowSpan, self.layout) = (index, count, rowSpan, layout)
    }

    @TaskLocal static var current: BatchShard?

    /// Runs `body` (a forward pass) as share `index` of `count`. Scoped to the current
    /// task, like `withoutGradients`.
    public static func with<R>(index: Int, count: Int, _ body: () throws -> R) rethrows -> R {
        precondition(count >= 1 && (0..<count).contains(index), "BatchShard: share \(index) of \(count)")
        return try $current.withValue(BatchShard(index: index, count: count, rowSpan: nil), operation: body)
    }

    /// Runs `body` (a forward pass) as the share of `rows` rows that starts at row
    /// `firstRow` of the whole batch (shares of any sizes; nested in `with(index:count:)`,
    /// this one holds).
    public static func with<R>(firstRow: Int, rows: Int, _ body: () throws -> R) rethrows -> R {
        precondition(firstRow >= 0 && rows >= 1, "BatchShard: \(rows) rows from row \(firstRow)")
        return try $current.withValue(BatchShard(index: 0, count: 1, rowSpan: (firstRow, rows)), operation: body)
    }

    /// Runs `body` (a forward pass) as the share of `rows` rows that starts at row
    /// `firstRow` of a whole batch of `totalRows` rows, on tensors whose batch axis is
    /// `batchAxis` (1 for time-major (T, B, ...) tensors). A tensor whose axis `batchAxis`
    /// does not hold `rows` rows is placed as under `with(firstRow:rows:)`.
    public static func with<R>(firstRow: Int, rows: Int, of totalRows: Int, batchAxis: Int, _ body: () throws -> R) rethrows -> R {
        precondition(firstRow >= 0 && rows >= 1 && firstRow + rows <= totalRows && batchAxis >= 0,
                     "BatchShard: \(rows) rows from row \(firstRow) of \(totalRows), axis \(batchAxis)")
        return try $current.withValue(BatchShard(index: 0, count: 1, rowSpan: (firstRow, rows), layout: (totalRows, batchAxis)), operation: body)
    }

    /// Where a share's tensor lies in the whole batch's: its scalar i is the whole tensor's
    /// `offset + i`, or, with a `segment`, `offset + (i / length) * stride + i % length`
    /// (consecutive blocks of `length` scalars, `stride` apart in the whole tensor).
    struct Place: Sendable {
        var offset: Int
        var segment: (length: Int, stride: Int)?
    }

    /// Where a tensor of `shape` (batch axis first, or the layout's) lies in the whole batch's.
    func place(ofShape shape: [Int]) -> Place {
        let scalars = shape.reduce(1, *)
        guard let rowSpan else { return Place(offset: index * scalars, segment: nil) }
        if let layout, layout.batchAxis > 0, layout.batchAxis < shape.count, shape[layout.batchAxis] == rowSpan.rows {
            let inner = shape[(layout.batchAxis + 1)...].reduce(1, *)
            return Place(offset: rowSpan.first * inner, segment: (rowSpan.rows * inner, layout.totalRows * inner))
        }
        return Place(offset: rowSpan.first * (scalars / rowSpan.rows), segment: nil)
    }
}
