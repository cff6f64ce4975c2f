// Dropout masks: out is (count), filled in fixed-size chunks, each from its own generator,
// so the mask depends only on the seeds, never on the thread count.

/// Fills inverted-dropout masks from seeded generators.
enum DropoutKernels {
    /// Scalars per chunk; chunk k draws from `RandomGenerator(seed: seeds[k])`.
    static let chunkSize = 1 << 14

    /// out[i] = 0 with probability p, else 1 / (1 - p); `seeds` holds one seed per chunk.
    ///
    /// Each 64-bit draw gives two 24-bit uniforms u (its high and low halves); an element
    /// is kept when u >= p, compared in integers as u * 2^24 >= round(p * 2^24).
    static func fillMask(_ out: UnsafeMutablePointer<Float>, count: Int, probability p: Float, seeds: [UInt64]) {
        precondition(seeds.count == (count + chunkSize - 1) / chunkSize, "DropoutKernels.fillMask: one seed per chunk")
        let threshold = UInt64((Double(p) * 16_777_216).rounded())
        let keptValue = 1 / (1 - p)
        let outBase = UncheckedSendable(out)
        Parallelism.forEachChunk(count: seeds.count, costPerItem: chunkSize * 2) { chunks in
            for chunk in chunks {
                var generator = RandomGenerator(seed: seeds[chunk])
                let start = chunk * chunkSize, end = min(count, start + chunkSize)
                var i = start
                while i < end {
                    let bits = generator.next()
                    outBase.value[i] = (bits >> 40) >= threshold ? keptValue : 0
                    if i + 1 < end { outBase.value[i + 1] = ((bits >> 8) & 0xFF_FFFF) >= threshold ? keptValue : 0 }
                    i += 2
                }
            }
        }
    }
}
