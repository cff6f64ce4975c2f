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
        // Saved for the backward pass: every stage's intermediate values, per batch entry.
        let cache = MemoryAddressingKernels.Cache(batch: B, slots: N, width: W, shifts: S)
        let weighting = MemoryAddressingKernels.forward(memory: memory, raw: parameters, previous: previous, cache: cache)
        return recorded(weighting, operation: "memoryAddressing", inputs: [memory, parameters, previous]) { g, needs in
            let (dMemory, dParameters, dPrevious) = MemoryAddressingKernels.backward(
                memory: memory, raw: parameters, previous: previous, weighting: weighting, cache: cache, dWeighting: g)
            return [needs[0] ? dMemory : nil, needs[1] ? dParameters : nil, needs[2] ? dPrevious : nil]
        }
    }

    /// The read vector r = sum_i w_i M_i (eq. 2): memory (B, N, W), weighting (B, N);
    /// returns (B, W).
    public static func memoryRead(memory: Tensor, weighting: Tensor) -> Tensor {
        requireMemory(memory, weighting, "memoryRead")
        let read = MemoryAccessKernels.readForward(memory: memory, weighting: weighting)
        return recorded(read, operation: "memoryRead", inputs: [memory, weighting]) { g, needs in
            let (dMemory, dWeighting) = MemoryAccessKernels.readBackward(
                memory: memory, weighting: weighting, dRead: g, needsMemory: needs[0], needsWeighting: needs[1])
            return [dMemory, dWeighting]
        }
    }

    /// The written memory M'_i = M_i (1 - w_i e) + w_i a (eqs. 3-4): memory (B, N, W),
    /// weighting (B, N), erase (B, W) in [0, 1], add (B, W); returns (B, N, W).
    public static func memoryWrite(memory: Tensor, weighting: Tensor, erase: Tensor, add: Tensor) -> Tensor {
        requireMemory(memory, weighting, "memoryWrite")
        let (B, W) = (memory.shape[0], memory.shape[2])
        Tensor.require {
            guard erase.shape == [B, W], add.shape == [B, W] else {
                throw SequentError.shapeMismatch("memoryWrite", "erase and add must be (B, W) = \([B, W]), got \(erase.shape) and \(add.shape)")
            }
        }
        let written = MemoryAccessKernels.writeForward(memory: memory, weighting: weighting, erase: erase, add: add)
        return recorded(written, operation: "memoryWrite", inputs: [memory, weighting, erase, add]) { g, needs in
            let d = MemoryAccessKernels.writeBackward(
                memory: memory, weighting: weighting, erase: erase, add: add, dWritten: g,
                needs: (needs[0], needs[1], needs[2], needs[3]))
            return [d.dMemory, d.dWeighting, d.dErase, d.dAdd]
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
