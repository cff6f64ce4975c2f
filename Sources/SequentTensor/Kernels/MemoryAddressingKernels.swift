// The Neural Turing Machine's memory access on the CPU (Graves, Wayne and Danihelka 2014,
// section 3.3): one head's addressing (content, interpolation, shift, sharpening) fused into
// one pass per batch entry, and the read and the erase-and-add write, each forward beside
// its backward. The stage functions are also the algorithmic reference the tests check by
// hand.
//
// B = batch, N = memory slots, W = slot width, S = 2R + 1 shift offsets (-R...R).
// memory is (B, N, W); a head's raw parameters are (B, P) with P = W + 3 + S, laid out
// [key (W), strength (1), gate (1), shift logits (S), sharpening (1)]; weightings are (B, N).
// Everything is contiguous row-major.
//
//     beta = softplus(strength),  g = sigmoid(gate),  s = softmax(shift logits),
//     gamma = 1 + softplus(sharpening)
//     cos_i = M_i . k / (|M_i| |k|)     with |v| = sqrt(v . v + normFloor)
//     wc = softmax(beta cos)                                     content
//     wg = g wc + (1 - g) wPrev                                  interpolation
//     ws_i = sum_k wg_{(i - (k - R)) mod N} s_k                  circular shift
//     w_i = (ws_i + sharpenFloor)^gamma / sum_j (...)            sharpening
//
// The floors make the step safe where the paper's formulas are not: the cosine of a zero
// vector is 0 (not 0/0), and sharpening never takes the logarithm of 0.

import Foundation

enum MemoryAddressingKernels {
    /// Added under the square root of every norm in the cosine similarity.
    static let normFloor: Float = 1e-8
    /// Added to each shifted weight before it is raised to gamma.
    static let sharpenFloor: Float = 1e-8

    /// The raw parameters of one head per batch entry: P = W + 3 + S.
    static func parameterCount(width: Int, shifts: Int) -> Int { width + 3 + shifts }

    /// What the backward pass needs, per batch entry; filled by `forward`. Owns one buffer,
    /// freed with the cache.
    final class Cache {
        let batch: Int, slots: Int, width: Int, shifts: Int
        private let storage: UnsafeMutablePointer<Float>
        /// (B) each: beta, g, gamma after their activations, and |k|.
        let strength, gate, sharpening, keyNorm: UnsafeMutablePointer<Float>
        /// (B, S): s after the softmax.
        let shift: UnsafeMutablePointer<Float>
        /// (B, N) each: |M_i|, M_i . k, cos_i, wc, wg, ws.
        let memoryNorm, dot, cosine, content, gated, shifted: UnsafeMutablePointer<Float>

        init(batch: Int, slots: Int, width: Int, shifts: Int) {
            (self.batch, self.slots, self.width, self.shifts) = (batch, slots, width, shifts)
            let (B, BN) = (batch, batch * slots)
            storage = .allocate(capacity: 4 * B + B * shifts + 6 * BN)
            storage.initialize(repeating: 0, count: 4 * B + B * shifts + 6 * BN)
            (strength, gate, sharpening, keyNorm) = (storage, storage + B, storage + 2 * B, storage + 3 * B)
            shift = storage + 4 * B
            let slotRows = shift + B * shifts
            (memoryNorm, dot, cosine) = (slotRows, slotRows + BN, slotRows + 2 * BN)
            (content, gated, shifted) = (slotRows + 3 * BN, slotRows + 4 * BN, slotRows + 5 * BN)
        }

        deinit { storage.deallocate() }
    }

    // MARK: - Activations

    @inline(__always) static func softplus(_ x: Float) -> Float { x > 20 ? x : Foundation.log1p(Foundation.exp(x)) }
    @inline(__always) static func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }

    /// out = softmax(x) over n values.
    static func softmax(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        var largest = -Float.infinity
        for i in 0..<n { largest = max(largest, x[i]) }
        var total: Float = 0
        for i in 0..<n { out[i] = Foundation.exp(x[i] - largest); total += out[i] }
        for i in 0..<n { out[i] /= total }
    }

    /// dx = y * (dy - sum(dy * y)), the softmax's backward over n values (dx overwritten).
    static func softmaxBackward(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        var inner: Float = 0
        for i in 0..<n { inner += dy[i] * y[i] }
        for i in 0..<n { dx[i] = y[i] * (dy[i] - inner) }
    }

    // MARK: - Stage 1: content addressing

    /// wc = softmax(beta cos(M_i, k)); memory (N, W), key (W); writes |M_i|, M_i . k, cos_i
    /// and wc (N each) and returns |k|.
    static func contentForward(
        memory: UnsafePointer<Float>, key: UnsafePointer<Float>, strength: Float, slots: Int, width: Int,
        memoryNorm: UnsafeMutablePointer<Float>, dot: UnsafeMutablePointer<Float>,
        cosine: UnsafeMutablePointer<Float>, content: UnsafeMutablePointer<Float>
    ) -> Float {
        var keySquares: Float = 0
        for j in 0..<width { keySquares += key[j] * key[j] }
        let keyNorm = (keySquares + normFloor).squareRoot()
        for i in 0..<slots {
            let row = memory + i * width
            var squares: Float = 0, product: Float = 0
            for j in 0..<width { squares += row[j] * row[j]; product += row[j] * key[j] }
            memoryNorm[i] = (squares + normFloor).squareRoot()
            dot[i] = product
            cosine[i] = product / (memoryNorm[i] * keyNorm)
            content[i] = strength * cosine[i]
        }
        softmax(content, content, slots)
        return keyNorm
    }

    /// From dwc (N): adds into dM (N, W) and dk (W), returns dbeta.
    static func contentBackward(
        memory: UnsafePointer<Float>, key: UnsafePointer<Float>, strength: Float, keyNorm: Float, slots: Int, width: Int,
        memoryNorm: UnsafePointer<Float>, dot: UnsafePointer<Float>, cosine: UnsafePointer<Float>, content: UnsafePointer<Float>,
        dContent: UnsafePointer<Float>, dMemory: UnsafeMutablePointer<Float>, dKey: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>
    ) -> Float {
        softmaxBackward(content, dContent, scratch, slots)   // scratch = dz, z = beta cos
        var dStrength: Float = 0
        var dKeyNorm: Float = 0
        for i in 0..<slots {
            dStrength += scratch[i] * cosine[i]
            let dCosine = strength * scratch[i]
            // cos = d / (a n):  dd = 1/(a n),  da = -d/(a^2 n),  dn = -d/(a n^2)
            let denominator = memoryNorm[i] * keyNorm
            let dDot = dCosine / denominator
            let dMemoryNorm = -dCosine * dot[i] / (denominator * memoryNorm[i])
            dKeyNorm -= dCosine * dot[i] / (denominator * keyNorm)
            let row = memory + i * width, dRow = dMemory + i * width
            for j in 0..<width {
                dRow[j] += dDot * key[j] + dMemoryNorm * row[j] / memoryNorm[i]
                dKey[j] += dDot * row[j]
            }
        }
        for j in 0..<width { dKey[j] += dKeyNorm * key[j] / keyNorm }
        return dStrength
    }

    // MARK: - Stage 2: interpolation

    /// wg = g wc + (1 - g) wPrev over n slots.
    static func interpolateForward(content: UnsafePointer<Float>, previous: UnsafePointer<Float>, gate: Float,
                                   gated: UnsafeMutablePointer<Float>, slots: Int) {
        for i in 0..<slots { gated[i] = gate * content[i] + (1 - gate) * previous[i] }
    }

    /// From dwg: writes dwc, adds into dwPrev (if given), returns dg.
    static func interpolateBackward(content: UnsafePointer<Float>, previous: UnsafePointer<Float>, gate: Float,
                                    dGated: UnsafePointer<Float>, dContent: UnsafeMutablePointer<Float>,
                                    dPrevious: UnsafeMutablePointer<Float>?, slots: Int) -> Float {
        var dGate: Float = 0
        for i in 0..<slots {
            dGate += dGated[i] * (content[i] - previous[i])
            dContent[i] = gate * dGated[i]
            dPrevious?[i] += (1 - gate) * dGated[i]
        }
        return dGate
    }

    // MARK: - Stage 3: circular shift

    /// ws_i = sum_k wg_{(i - (k - R)) mod N} s_k, offsets k - R for k in 0..<S.
    static func shiftForward(gated: UnsafePointer<Float>, shift: UnsafePointer<Float>, shifted: UnsafeMutablePointer<Float>,
                             slots: Int, shifts: Int) {
        let range = shifts / 2
        for i in 0..<slots {
            var total: Float = 0
            for k in 0..<shifts { total += gated[wrap(i - (k - range), slots)] * shift[k] }
            shifted[i] = total
        }
    }

    /// From dws: writes dwg and ds.
    static func shiftBackward(gated: UnsafePointer<Float>, shift: UnsafePointer<Float>, dShifted: UnsafePointer<Float>,
                              dGated: UnsafeMutablePointer<Float>, dShift: UnsafeMutablePointer<Float>, slots: Int, shifts: Int) {
        let range = shifts / 2
        dGated.update(repeating: 0, count: slots)
        dShift.update(repeating: 0, count: shifts)
        for i in 0..<slots {
            for k in 0..<shifts {
                let source = wrap(i - (k - range), slots)
                dGated[source] += dShifted[i] * shift[k]
                dShift[k] += dShifted[i] * gated[source]
            }
        }
    }

    @inline(__always) static func wrap(_ index: Int, _ n: Int) -> Int {
        let r = index % n
        return r < 0 ? r + n : r
    }

    // MARK: - Stage 4: sharpening

    /// w = softmax(gamma log(ws + floor)), the normalised (ws + floor)^gamma.
    static func sharpenForward(shifted: UnsafePointer<Float>, sharpening: Float, weighting: UnsafeMutablePointer<Float>, slots: Int) {
        for i in 0..<slots { weighting[i] = sharpening * Foundation.log(shifted[i] + sharpenFloor) }
        softmax(weighting, weighting, slots)
    }

    /// From dw: writes dws, returns dgamma.
    static func sharpenBackward(shifted: UnsafePointer<Float>, sharpening: Float, weighting: UnsafePointer<Float>,
                                dWeighting: UnsafePointer<Float>, dShifted: UnsafeMutablePointer<Float>, slots: Int) -> Float {
        softmaxBackward(weighting, dWeighting, dShifted, slots)   // du, u = gamma log(ws + floor)
        var dSharpening: Float = 0
        for i in 0..<slots {
            let logarithm = Foundation.log(shifted[i] + sharpenFloor)
            dSharpening += dShifted[i] * logarithm
            dShifted[i] = dShifted[i] * sharpening / (shifted[i] + sharpenFloor)
        }
        return dSharpening
    }

    // MARK: - The fused head

    /// One head's weighting for every batch entry: memory (B, N, W), raw (B, P),
    /// previous (B, N), weighting (B, N) written; fills `cache`.
    static func forward(memory: UnsafePointer<Float>, raw: UnsafePointer<Float>, previous: UnsafePointer<Float>,
                        weighting: UnsafeMutablePointer<Float>, cache c: Cache) {
        let (B, N, W, S) = (c.batch, c.slots, c.width, c.shifts)
        let P = parameterCount(width: W, shifts: S)
        for b in 0..<B {
            let head = raw + b * P, o = b * N
            c.strength[b] = softplus(head[W])
            c.gate[b] = sigmoid(head[W + 1])
            c.sharpening[b] = 1 + softplus(head[W + 2 + S])
            softmax(head + W + 2, c.shift + b * S, S)
            c.keyNorm[b] = contentForward(
                memory: memory + b * N * W, key: head, strength: c.strength[b], slots: N, width: W,
                memoryNorm: c.memoryNorm + o, dot: c.dot + o, cosine: c.cosine + o, content: c.content + o)
            interpolateForward(content: c.content + o, previous: previous + o, gate: c.gate[b], gated: c.gated + o, slots: N)
            shiftForward(gated: c.gated + o, shift: c.shift + b * S, shifted: c.shifted + o, slots: N, shifts: S)
            sharpenForward(shifted: c.shifted + o, sharpening: c.sharpening[b], weighting: weighting + o, slots: N)
        }
    }

    /// From dw (B, N): adds into dMemory (B, N, W) and dPrevious (B, N) where given, and
    /// writes dRaw (B, P).
    static func backward(memory: UnsafePointer<Float>, raw: UnsafePointer<Float>, previous: UnsafePointer<Float>,
                         weighting: UnsafePointer<Float>, cache c: Cache, dWeighting: UnsafePointer<Float>,
                         dMemory: UnsafeMutablePointer<Float>, dRaw: UnsafeMutablePointer<Float>,
                         dPrevious: UnsafeMutablePointer<Float>?) {
        let (B, N, W, S) = (c.batch, c.slots, c.width, c.shifts)
        let P = parameterCount(width: W, shifts: S)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 3 * N + 2 * S)
        defer { scratch.deallocate() }
        let (dShifted, dGated, dContent) = (scratch, scratch + N, scratch + 2 * N)
        let (dShift, dShiftLogits) = (scratch + 3 * N, scratch + 3 * N + S)
        for b in 0..<B {
            let o = b * N
            let head = raw + b * P, dHead = dRaw + b * P
            let dSharpening = sharpenBackward(shifted: c.shifted + o, sharpening: c.sharpening[b], weighting: weighting + o,
                                              dWeighting: dWeighting + o, dShifted: dShifted, slots: N)
            shiftBackward(gated: c.gated + o, shift: c.shift + b * S, dShifted: dShifted, dGated: dGated, dShift: dShift,
                          slots: N, shifts: S)
            let dGate = interpolateBackward(content: c.content + o, previous: previous + o, gate: c.gate[b], dGated: dGated,
                                            dContent: dContent, dPrevious: dPrevious.map { $0 + o }, slots: N)
            dHead.update(repeating: 0, count: W)
            let dStrength = contentBackward(
                memory: memory + b * N * W, key: head, strength: c.strength[b], keyNorm: c.keyNorm[b], slots: N, width: W,
                memoryNorm: c.memoryNorm + o, dot: c.dot + o, cosine: c.cosine + o, content: c.content + o,
                dContent: dContent, dMemory: dMemory + b * N * W, dKey: dHead, scratch: dGated)
            softmaxBackward(c.shift + b * S, dShift, dShiftLogits, S)
            // softplus' = sigmoid, sigmoid' = g (1 - g)
            dHead[W] = dStrength * sigmoid(head[W])
            dHead[W + 1] = dGate * c.gate[b] * (1 - c.gate[b])
            for k in 0..<S { dHead[W + 2 + k] = dShiftLogits[k] }
            dHead[W + 2 + S] = dSharpening * sigmoid(head[W + 2 + S])
        }
    }
}

// MARK: - Reading and writing

enum MemoryAccessKernels {
    /// r_j = sum_i w_i M_ij: memory (B, N, W), weighting (B, N), read (B, W) written.
    static func readForward(memory: UnsafePointer<Float>, weighting: UnsafePointer<Float>, read: UnsafeMutablePointer<Float>,
                            batch: Int, slots: Int, width: Int) {
        read.update(repeating: 0, count: batch * width)
        for b in 0..<batch {
            let out = read + b * width
            for i in 0..<slots {
                let w = weighting[b * slots + i], row = memory + (b * slots + i) * width
                for j in 0..<width { out[j] += w * row[j] }
            }
        }
    }

    /// dw_i = sum_j dr_j M_ij, dM_ij = w_i dr_j (each written where given).
    static func readBackward(memory: UnsafePointer<Float>, weighting: UnsafePointer<Float>, dRead: UnsafePointer<Float>,
                             dMemory: UnsafeMutablePointer<Float>?, dWeighting: UnsafeMutablePointer<Float>?,
                             batch: Int, slots: Int, width: Int) {
        for b in 0..<batch {
            let dr = dRead + b * width
            for i in 0..<slots {
                let n = b * slots + i, row = memory + n * width
                if let dWeighting {
                    var total: Float = 0
                    for j in 0..<width { total += dr[j] * row[j] }
                    dWeighting[n] = total
                }
                if let dMemory {
                    let w = weighting[n], dRow = dMemory + n * width
                    for j in 0..<width { dRow[j] = w * dr[j] }
                }
            }
        }
    }

    /// M'_ij = M_ij (1 - w_i e_j) + w_i a_j: memory (B, N, W), weighting (B, N), erase and
    /// add (B, W), written (B, N, W).
    static func writeForward(memory: UnsafePointer<Float>, weighting: UnsafePointer<Float>, erase: UnsafePointer<Float>,
                             add: UnsafePointer<Float>, written: UnsafeMutablePointer<Float>, batch: Int, slots: Int, width: Int) {
        for b in 0..<batch {
            let e = erase + b * width, a = add + b * width
            for i in 0..<slots {
                let n = b * slots + i, w = weighting[n], row = memory + n * width, out = written + n * width
                for j in 0..<width { out[j] = row[j] * (1 - w * e[j]) + w * a[j] }
            }
        }
    }

    /// The write's backward from dM' (B, N, W): each gradient written where given.
    static func writeBackward(memory: UnsafePointer<Float>, weighting: UnsafePointer<Float>, erase: UnsafePointer<Float>,
                              add: UnsafePointer<Float>, dWritten: UnsafePointer<Float>,
                              dMemory: UnsafeMutablePointer<Float>?, dWeighting: UnsafeMutablePointer<Float>?,
                              dErase: UnsafeMutablePointer<Float>?, dAdd: UnsafeMutablePointer<Float>?,
                              batch: Int, slots: Int, width: Int) {
        dErase?.update(repeating: 0, count: batch * width)
        dAdd?.update(repeating: 0, count: batch * width)
        for b in 0..<batch {
            let e = erase + b * width, a = add + b * width
            for i in 0..<slots {
                let n = b * slots + i, w = weighting[n], row = memory + n * width, g = dWritten + n * width
                var dw: Float = 0
                for j in 0..<width {
                    dMemory?[n * width + j] = g[j] * (1 - w * e[j])
                    dw += g[j] * (a[j] - row[j] * e[j])
                    dErase?[b * width + j] -= g[j] * row[j] * w
                    dAdd?[b * width + j] += g[j] * w
                }
                dWeighting?[n] = dw
            }
        }
    }
}

// MARK: - Safe entry points (for Tensor+MemoryAddressing.swift)

extension MemoryAddressingKernels {
    /// One head's weighting w (B, N) from memory (B, N, W), raw parameters (B, P) and the
    /// previous weighting (B, N); fills `cache` for `backward`.
    static func forward(memory: Tensor, raw: Tensor, previous: Tensor, cache: Cache) -> Tensor {
        Tensor(shape: [cache.batch, cache.slots]) { out in
            memory.withUnsafeBufferPointer { m in
                raw.withUnsafeBufferPointer { r in
                    previous.withUnsafeBufferPointer { p in
                        forward(memory: m.baseAddress!, raw: r.baseAddress!, previous: p.baseAddress!,
                                weighting: out.baseAddress!, cache: cache)
                    }
                }
            }
        }
    }

    /// The gradients of `forward` from dw (B, N): dMemory (B, N, W), dRaw (B, P) and
    /// dPrevious (B, N).
    static func backward(
        memory: Tensor, raw: Tensor, previous: Tensor, weighting: Tensor, cache: Cache, dWeighting: Tensor
    ) -> (dMemory: Tensor, dRaw: Tensor, dPrevious: Tensor) {
        var dMemory = Tensor.zeros(memory.shape)
        var dPrevious = Tensor.zeros(previous.shape)
        var dRaw = Tensor.zeros(raw.shape)
        memory.withUnsafeBufferPointer { m in
        raw.withUnsafeBufferPointer { r in
        previous.withUnsafeBufferPointer { p in
        weighting.withUnsafeBufferPointer { w in
        dWeighting.withUnsafeBufferPointer { dw in
        dMemory.withUnsafeMutableBufferPointer { dm in
        dRaw.withUnsafeMutableBufferPointer { dr in
        dPrevious.withUnsafeMutableBufferPointer { dp in
            backward(memory: m.baseAddress!, raw: r.baseAddress!, previous: p.baseAddress!, weighting: w.baseAddress!,
                     cache: cache, dWeighting: dw.baseAddress!, dMemory: dm.baseAddress!, dRaw: dr.baseAddress!,
                     dPrevious: dp.baseAddress!)
        }}}}}}}}
        return (dMemory, dRaw, dPrevious)
    }
}

extension MemoryAccessKernels {
    /// The read vectors r (B, W) from memory (B, N, W) and weighting (B, N).
    static func readForward(memory: Tensor, weighting: Tensor) -> Tensor {
        let (B, N, W) = (memory.shape[0], memory.shape[1], memory.shape[2])
        return Tensor(shape: [B, W]) { out in
            memory.withUnsafeBufferPointer { m in
                weighting.withUnsafeBufferPointer { w in
                    readForward(memory: m.baseAddress!, weighting: w.baseAddress!, read: out.baseAddress!,
                                batch: B, slots: N, width: W)
                }
            }
        }
    }

    /// The read's gradients from dr (B, W): dMemory (B, N, W) and dWeighting (B, N), each
    /// only where needed.
    static func readBackward(
        memory: Tensor, weighting: Tensor, dRead: Tensor, needsMemory: Bool, needsWeighting: Bool
    ) -> (dMemory: Tensor?, dWeighting: Tensor?) {
        let (B, N, W) = (memory.shape[0], memory.shape[1], memory.shape[2])
        var dMemory: Tensor? = needsMemory ? Tensor.zeros(memory.shape) : nil
        var dWeighting: Tensor? = needsWeighting ? Tensor.zeros(weighting.shape) : nil
        memory.withUnsafeBufferPointer { m in
        weighting.withUnsafeBufferPointer { w in
        dRead.withUnsafeBufferPointer { dr in
        withOptionalMutablePointer(&dMemory) { dm in
        withOptionalMutablePointer(&dWeighting) { dw in
            readBackward(memory: m.baseAddress!, weighting: w.baseAddress!, dRead: dr.baseAddress!,
                         dMemory: dm, dWeighting: dw, batch: B, slots: N, width: W)
        }}}}}
        return (dMemory, dWeighting)
    }

    /// The written memory M' (B, N, W) from memory (B, N, W), weighting (B, N), erase and
    /// add (B, W).
    static func writeForward(memory: Tensor, weighting: Tensor, erase: Tensor, add: Tensor) -> Tensor {
        let (B, N, W) = (memory.shape[0], memory.shape[1], memory.shape[2])
        return Tensor(shape: memory.shape) { out in
            memory.withUnsafeBufferPointer { m in
            weighting.withUnsafeBufferPointer { w in
            erase.withUnsafeBufferPointer { e in
            add.withUnsafeBufferPointer { a in
                writeForward(memory: m.baseAddress!, weighting: w.baseAddress!, erase: e.baseAddress!,
                             add: a.baseAddress!, written: out.baseAddress!, batch: B, slots: N, width: W)
            }}}}
        }
    }

    /// The write's gradients from dM' (B, N, W), each only where `needs` says so (in the
    /// order memory, weighting, erase, add).
    static func writeBackward(
        memory: Tensor, weighting: Tensor, erase: Tensor, add: Tensor, dWritten: Tensor,
        needs: (memory: Bool, weighting: Bool, erase: Bool, add: Bool)
    ) -> (dMemory: Tensor?, dWeighting: Tensor?, dErase: Tensor?, dAdd: Tensor?) {
        let (B, N, W) = (memory.shape[0], memory.shape[1], memory.shape[2])
        var dMemory: Tensor? = needs.memory ? Tensor.zeros(memory.shape) : nil
        var dWeighting: Tensor? = needs.weighting ? Tensor.zeros(weighting.shape) : nil
        var dErase: Tensor? = needs.erase ? Tensor.zeros(erase.shape) : nil
        var dAdd: Tensor? = needs.add ? Tensor.zeros(add.shape) : nil
        memory.withUnsafeBufferPointer { m in
        weighting.withUnsafeBufferPointer { w in
        erase.withUnsafeBufferPointer { e in
        add.withUnsafeBufferPointer { a in
        dWritten.withUnsafeBufferPointer { g in
        withOptionalMutablePointer(&dMemory) { dm in
        withOptionalMutablePointer(&dWeighting) { dw in
        withOptionalMutablePointer(&dErase) { de in
        withOptionalMutablePointer(&dAdd) { da in
            writeBackward(memory: m.baseAddress!, weighting: w.baseAddress!, erase: e.baseAddress!, add: a.baseAddress!,
                          dWritten: g.baseAddress!, dMemory: dm, dWeighting: dw, dErase: de, dAdd: da,
                          batch: B, slots: N, width: W)
        }}}}}}}}}
        return (dMemory, dWeighting, dErase, dAdd)
    }
}
