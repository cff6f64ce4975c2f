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
        let offset = BatchShard.current.map { $0.scalarOffset(of: count) } ?? 0
        let result = Tensor.droppedOut(self, probability: p, key: key, indexOffset: offset)
        // Saved for the backward pass: only the key and the offset.
        return Tensor.recorded(result, operation: "dropout", inputs: [self]) { dy, _ in
            [Tensor.droppedOut(dy, probability: p, key: key, indexOffset: offset)]
        }
    }

    /// x with the dropout mask of `key` applied, x's scalar i taking the mask's scalar
    /// `indexOffset + i`; records nothing.
    private static func droppedOut(_ x: Tensor, probability p: Float, key: UInt64, indexOffset: Int) -> Tensor {
        DropoutKernels.apply(x, probability: p, key: key, indexOffset: indexOffset)
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
public struct BatchShard: Sendable {
    /// This share, 0..<count (equal shares).
    public let index: Int
    /// The number of shares (equal shares).
    public let count: Int
    /// Unequal shares: the global row of this share's first row, and its number of rows.
    public let rowSpan: (first: Int, rows: Int)?

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

    /// Where a tensor of `scalars` scalars, batch axis first, starts in the whole batch's.
    func scalarOffset(of scalars: Int) -> Int {
        guard let rowSpan else { return index * scalars }
        return rowSpan.first * (scalars / rowSpan.rows)
    }
}
