// The Neural Turing Machine's memory operations with autograd: one head's addressing step
// (content, interpolation, circular shift, sharpening) as one fused op, and the read and the
// erase-and-add write. The kernels and the equations are in
// `Kernels/MemoryAddressingKernels.swift`.
//
// B = batch, N = memory slots, W = slot width, S = 2R + 1 shift offsets, P = W + 3 + S.

extension Tensor {
    /// The number of raw parameters one addressing head reads per batch entry: the key (W),
    /// the key strength, the interpolation gate, S shift logits and the sharpening.
    public static func memoryAddressingParameterCount(width: Int, shiftRange: Int) -> Int {
        MemoryAddressingKernels.parameterCount(width: width, shifts: 2 * shiftRange + 1)
    }

    /// One NTM head's weighting over memory (Graves et al. 2014, eqs. 5-9), fused:
    ///
    ///     beta = softplus, g = sigmoid, s = softmax, gamma = 1 + softplus of their raw values
    ///     wc = softmax(beta cos(M_i, k));  wg = g wc + (1 - g) wPrev
    ///     ws_i = sum_{o=-R...R} wg_{(i - o) mod N} s_o;  w = ws^gamma / sum(ws^gamma)
    ///
    /// The cosine of a zero vector is 0 and sharpening never takes log 0 (see the kernels).
    ///
    /// - Parameters:
    ///   - memory: M, (B, N, W).
    ///   - parameters: the head's raw values, (B, P): [key (W), strength, gate, shift
    ///     logits (2R + 1), sharpening].
    ///   - previous: wPrev, (B, N), the head's last weighting.
    ///   - shiftRange: R; the shifts go from -R to R (R < N).
    /// - Returns: w, (B, N); each row sums to 1.
    public static func memoryAddressing(memory: Tensor, parameters: Tensor, previous: Tensor, shiftRange: Int) -> Tensor {
        let S = 2 * shiftRange + 1
        Tensor.require {
            guard memory.rank == 3, memory.shape[1] >= 1, memory.shape[2] >= 1 else {
                throw SequentError.shapeMismatch("memoryAddressing", "memory must be (B, N, W) with N, W >= 1, got \(memory.shape)")
            }
            let (B, N, W) = (memory.shape[0], memory.shape[1], memory.shape[2])
            guard shiftRange >= 0, shiftRange < N else {
                throw SequentError.invalidArgument("memoryAddressing", "shift range \(shiftRange) must be in 0..<\(N) (the memory has \(N) slots)")
            }
            guard parameters.shape == [B, W + 3 + S] else {
                throw SequentError.shapeMismatch("memoryAddressing", "parameters must be (B, W + 3 + 2R + 1) = \([B, W + 3 + S]), got \(parameters.shape)")
            }
            guard previous.shape == [B, N] else {
                throw SequentError.shapeMismatch("memoryAddressing", "previous weighting must be (B, N) = \([B, N]), got \(previous.shape)")
            }
        }
        let (B, N, W) = (memory.shape[0], memory.shape[1], memory.shape[2])
        let cache = MemoryAddressingKernels.Cache(batch: B, slots: N, width: W, shifts: S)
        let weighting = Tensor(shape: [B, N]) { out in
            memory.withUnsafeBufferPointer { m in
                parameters.withUnsafeBufferPointer { raw in
                    previous.withUnsafeBufferPointer { p in
                        MemoryAddressingKernels.forward(memory: m.baseAddress!, raw: raw.baseAddress!, previous: p.baseAddress!,
                                                        weighting: out.baseAddress!, cache: cache)
                    }
                }
            }
        }
        return recorded(weighting, operation: "memoryAddressing", inputs: [memory, parameters, previous]) { g, needs in
            var dMemory = Tensor.zeros(memory.shape)
            var dPrevious = Tensor.zeros(previous.shape)
            var dParameters = Tensor.zeros(parameters.shape)
            memory.withUnsafeBufferPointer { m in
            parameters.withUnsafeBufferPointer { raw in
            previous.withUnsafeBufferPointer { p in
            weighting.withUnsafeBufferPointer { w in
            g.withUnsafeBufferPointer { dw in
            dMemory.withUnsafeMutableBufferPointer { dm in
            dParameters.withUnsafeMutableBufferPointer { draw in
            dPrevious.withUnsafeMutableBufferPointer { dp in
                MemoryAddressingKernels.backward(
                    memory: m.baseAddress!, raw: raw.baseAddress!, previous: p.baseAddress!, weighting: w.baseAddress!,
                    cache: cache, dWeighting: dw.baseAddress!, dMemory: dm.baseAddress!, dRaw: draw.baseAddress!,
                    dPrevious: dp.baseAddress!)
            }}}}}}}}
            return [needs[0] ? dMemory : nil, needs[1] ? dParameters : nil, needs[2] ? dPrevious : nil]
        }
    }

    /// The read vector r = sum_i w_i M_i (eq. 2): memory (B, N, W), weighting (B, N);
    /// returns (B, W).
    public static func memoryRead(memory: Tensor, weighting: Tensor) -> Tensor {
        requireMemory(memory, weighting, "memoryRead")
        let (B, N, W) = (memory.shape[0], memory.shape[1], memory.shape[2])
        let read = Tensor(shape: [B, W]) { out in
            memory.withUnsafeBufferPointer { m in
                weighting.withUnsafeBufferPointer { w in
                    MemoryAccessKernels.readForward(memory: m.baseAddress!, weighting: w.baseAddress!, read: out.baseAddress!,
                                                    batch: B, slots: N, width: W)
                }
            }
        }
        return recorded(read, operation: "memoryRead", inputs: [memory, weighting]) { g, needs in
            var dMemory: Tensor? = needs[0] ? Tensor.zeros(memory.shape) : nil
            var dWeighting: Tensor? = needs[1] ? Tensor.zeros(weighting.shape) : nil
            memory.withUnsafeBufferPointer { m in
            weighting.withUnsafeBufferPointer { w in
            g.withUnsafeBufferPointer { dr in
            withOptionalMutablePointer(&dMemory) { dm in
            withOptionalMutablePointer(&dWeighting) { dw in
                MemoryAccessKernels.readBackward(memory: m.baseAddress!, weighting: w.baseAddress!, dRead: dr.baseAddress!,
                                                 dMemory: dm, dWeighting: dw, batch: B, slots: N, width: W)
            }}}}}
            return [dMemory, dWeighting]
        }
    }

    /// The written memory M'_i = M_i (1 - w_i e) + w_i a (eqs. 3-4): memory (B, N, W),
    /// weighting (B, N), erase (B, W) in [0, 1], add (B, W); returns (B, N, W).
    public static func memoryWrite(memory: Tensor, weighting: Tensor, erase: Tensor, add: Tensor) -> Tensor {
        requireMemory(memory, weighting, "memoryWrite")
        let (B, N, W) = (memory.shape[0], memory.shape[1], memory.shape[2])
        Tensor.require {
            guard erase.shape == [B, W], add.shape == [B, W] else {
                throw SequentError.shapeMismatch("memoryWrite", "erase and add must be (B, W) = \([B, W]), got \(erase.shape) and \(add.shape)")
            }
        }
        let written = Tensor(shape: memory.shape) { out in
            memory.withUnsafeBufferPointer { m in
            weighting.withUnsafeBufferPointer { w in
            erase.withUnsafeBufferPointer { e in
            add.withUnsafeBufferPointer { a in
                MemoryAccessKernels.writeForward(memory: m.baseAddress!, weighting: w.baseAddress!, erase: e.baseAddress!,
                                                 add: a.baseAddress!, written: out.baseAddress!, batch: B, slots: N, width: W)
            }}}}
        }
        return recorded(written, operation: "memoryWrite", inputs: [memory, weighting, erase, add]) { g, needs in
            var dMemory: Tensor? = needs[0] ? Tensor.zeros(memory.shape) : nil
            var dWeighting: Tensor? = needs[1] ? Tensor.zeros(weighting.shape) : nil
            var dErase: Tensor? = needs[2] ? Tensor.zeros(erase.shape) : nil
            var dAdd: Tensor? = needs[3] ? Tensor.zeros(add.shape) : nil
            memory.withUnsafeBufferPointer { m in
            weighting.withUnsafeBufferPointer { w in
            erase.withUnsafeBufferPointer { e in
            add.withUnsafeBufferPointer { a in
            g.withUnsafeBufferPointer { dm2 in
            withOptionalMutablePointer(&dMemory) { dm in
            withOptionalMutablePointer(&dWeighting) { dw in
            withOptionalMutablePointer(&dErase) { de in
            withOptionalMutablePointer(&dAdd) { da in
                MemoryAccessKernels.writeBackward(
                    memory: m.baseAddress!, weighting: w.baseAddress!, erase: e.baseAddress!, add: a.baseAddress!,
                    dWritten: dm2.baseAddress!, dMemory: dm, dWeighting: dw, dErase: de, dAdd: da, batch: B, slots: N, width: W)
            }}}}}}}}}
            return [dMemory, dWeighting, dErase, dAdd]
        }
    }

    private static func requireMemory(_ memory: Tensor, _ weighting: Tensor, _ op: String) {
        Tensor.require {
            guard memory.rank == 3, weighting.shape == Array(memory.shape.prefix(2)) else {
                throw SequentError.shapeMismatch(op, "memory must be (B, N, W) and the weighting (B, N); got \(memory.shape) and \(weighting.shape)")
            }
        }
    }
}
