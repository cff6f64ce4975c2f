import CDNNL

// bfloat16 matrix products through oneDNN's matmul primitive: on a CPU with AMX (Sapphire
// Rapids) its kernel runs on the tile unit, where `dnnl_gemm_bf16bf16f32` does not, and a
// weight operand reordered once beats one read in place or packed again at every call
// (figures in docs/performance.md, "bfloat16 products"). A primitive is made per call:
// oneDNN's primitive cache makes that cheap.

/// A oneDNN matmul primitive C (M, N) = A (M, K) B (K, N), A and B in bfloat16, C in Float,
/// with its memory descriptors and a scratchpad of its own (primitives on different threads
/// then share no buffer).
private struct MatmulPrimitive {
    let primitive: dnnl_primitive_t
    /// A, B (in the layout the primitive reads it), C and the scratchpad.
    var left, right, output, scratchpad: dnnl_memory_desc_t

    /// The CPU engine every primitive here runs on (oneDNN engines are thread-safe).
    nonisolated(unsafe) static let engine: dnnl_engine_t? = {
        var engine: dnnl_engine_t?
        return dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success ? engine : nil
    }()

    /// A (rows, cols) matrix at the given (row, column) strides, or in the layout the
    /// primitive picks (nil).
    static func descriptor(_ rows: Int, _ cols: Int, _ type: dnnl_data_type_t, strides: (Int, Int)?) -> dnnl_memory_desc_t {
        var desc = dnnl_memory_desc_t()
        let dims: [Int64] = [Int64(rows), Int64(cols)]
        let strideList: [Int64] = strides.map { [Int64($0.0), Int64($0.1)] } ?? []
        let status = strides == nil
            ? dnnl_memory_desc_init_by_tag(&desc, 2, dims, type, dnnl_format_tag_any)
            : dnnl_memory_desc_init_by_strides(&desc, 2, dims, type, strideList)
        precondition(status == dnnl_success, "bfloat16 matmul: a (\(rows), \(cols)) descriptor failed with status \(status.rawValue)")
        return desc
    }

    /// Nil where oneDNN has no bfloat16 matmul for this CPU and shape.
    init?(left: dnnl_memory_desc_t, right: dnnl_memory_desc_t, output: dnnl_memory_desc_t) {
        guard let engine = Self.engine else { return nil }
        var (left, right, output) = (left, right, output)
        var matmul = dnnl_matmul_desc_t()
        var attributes: dnnl_primitive_attr_t?
        var primitiveDesc: dnnl_primitive_desc_t?
        var primitive: dnnl_primitive_t?
        guard dnnl_matmul_desc_init(&matmul, &left, &right, nil, &output) == dnnl_success,
              dnnl_primitive_attr_create(&attributes) == dnnl_success else { return nil }
        defer { dnnl_primitive_attr_destroy(attributes) }
        _ = dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user)
        guard dnnl_primitive_desc_create(&primitiveDesc, &matmul, attributes, engine, nil) == dnnl_success,
              let primitiveDesc else { return nil }
        defer { dnnl_primitive_desc_destroy(primitiveDesc) }
        guard dnnl_primitive_create(&primitive, primitiveDesc) == dnnl_success, let primitive else { return nil }
        self.primitive = primitive
        (self.left, self.output) = (left, output)
        self.right = dnnl_primitive_desc_query_md(primitiveDesc, dnnl_query_weights_md, 0)!.pointee
        self.scratchpad = dnnl_primitive_desc_query_md(primitiveDesc, dnnl_query_scratchpad_md, 0)!.pointee
    }

    /// A memory object over `handle` (nil: none yet) with descriptor `desc`.
    static func memory(_ desc: dnnl_memory_desc_t, _ handle: UnsafeMutableRawPointer?) -> dnnl_memory_t {
        var (desc, memory) = (desc, dnnl_memory_t?.none)
        let status = dnnl_memory_create(&memory, &desc, engine, handle)
        precondition(status == dnnl_success, "bfloat16 matmul: dnnl_memory_create failed with status \(status.rawValue)")
        return memory!
    }

    /// Bytes of a buffer for `desc`, at least one cache line.
    static func byteCount(_ desc: dnnl_memory_desc_t) -> Int {
        var desc = desc
        return max(64, dnnl_memory_desc_get_size(&desc))
    }

    /// Runs `primitive` (or a reorder) on `arguments` and waits for it.
    static func execute(_ primitive: dnnl_primitive_t, _ stream: dnnl_stream_t, _ arguments: UnsafePointer<dnnl_exec_arg_t>, count: Int) -> dnnl_status_t {
        let status = dnnl_primitive_execute(primitive, stream, Int32(count), arguments)
        return status == dnnl_success ? dnnl_stream_wait(stream) : status
    }

    static func makeStream() -> dnnl_stream_t {
        var stream: dnnl_stream_t?
        let status = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue)
        precondition(status == dnnl_success, "bfloat16 matmul: dnnl_stream_create failed with status \(status.rawValue)")
        return stream!
    }
}

/// C (M, N) = A (M, K) B (K, N) with A and B in bfloat16 and the sums in Float, B given
/// once and reordered into the layout the primitive's kernel reads: the recurrent layers'
/// step at `MatmulPrecision.bfloat16`.
///
/// Holds its own stream, scratchpad and copy of B: one instance per thread. Inside a
/// parallel region the product runs on the calling thread; outside, on oneDNN's threads.
final class PackedBFloat16Product {
    let m: Int, k: Int, n: Int
    private let matmul: MatmulPrimitive
    private let stream: dnnl_stream_t
    private let packedWeights: UnsafeMutableRawPointer, scratchpad: UnsafeMutableRawPointer
    private let left: dnnl_memory_t, right: dnnl_memory_t, output: dnnl_memory_t, scratch: dnnl_memory_t
    /// The primitive's four arguments, made once: a call only changes the handles of a and c.
    private let arguments: UnsafeMutablePointer<dnnl_exec_arg_t>

    /// Reorders B for products with M rows whose left operand has row stride `lda` and whose
    /// output has row stride `ldc`. `weights` holds B (K, N), or B^T (N, K) when
    /// `transposeWeights`, with row stride `ldb`. Nil where oneDNN has no bfloat16 matmul
    /// for this CPU: the caller falls back to `GEMM.multiplyBFloat16`.
    init?(m: Int, k: Int, n: Int, weights: UnsafePointer<UInt16>, transposeWeights: Bool, ldb: Int, lda: Int, ldc: Int) {
        guard m > 0, k > 0, n > 0, CPUSupport.hasNativeBFloat16, let matmul = MatmulPrimitive(
            left: MatmulPrimitive.descriptor(m, k, dnnl_bf16, strides: (lda, 1)),
            right: MatmulPrimitive.descriptor(k, n, dnnl_bf16, strides: nil),
            output: MatmulPrimitive.descriptor(m, n, dnnl_f32, strides: (ldc, 1))) else { return nil }
        (self.m, self.k, self.n, self.matmul) = (m, k, n, matmul)
        stream = MatmulPrimitive.makeStream()
        packedWeights = .allocate(byteCount: MatmulPrimitive.byteCount(matmul.right), alignment: 64)
        scratchpad = .allocate(byteCount: MatmulPrimitive.byteCount(matmul.scratchpad), alignment: 64)
        left = MatmulPrimitive.memory(matmul.left, nil)
        output = MatmulPrimitive.memory(matmul.output, nil)
        right = MatmulPrimitive.memory(matmul.right, packedWeights)
        scratch = MatmulPrimitive.memory(matmul.scratchpad, scratchpad)
        arguments = .allocate(capacity: 4)
        arguments.initialize(from: [
            dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: left), dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: right),
            dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: output), dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratch),
        ], count: 4)

        // The reorder from B's plain layout into the primitive's, run once.
        var plainDesc = MatmulPrimitive.descriptor(k, n, dnnl_bf16, strides: transposeWeights ? (1, ldb) : (ldb, 1))
        let plain = MatmulPrimitive.memory(plainDesc, UnsafeMutableRawPointer(mutating: weights))
        defer { dnnl_memory_destroy(plain) }
        var packedDesc = matmul.right
        var reorderDesc: dnnl_primitive_desc_t?, reorder: dnnl_primitive_t?
        var status = dnnl_reorder_primitive_desc_create(&reorderDesc, &plainDesc, MatmulPrimitive.engine, &packedDesc, MatmulPrimitive.engine, nil)
        if status == dnnl_success { status = dnnl_primitive_create(&reorder, reorderDesc) }
        if status == dnnl_success, let reorder {
            let reorderArguments = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: plain), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: right)]
            status = MatmulPrimitive.execute(reorder, stream, reorderArguments, count: 2)
        }
        dnnl_primitive_destroy(reorder)
        dnnl_primitive_desc_destroy(reorderDesc)
        precondition(status == dnnl_success, "PackedBFloat16Product: reordering the weights failed with status \(status.rawValue)")
    }

    deinit {
        for memory in [left, right, output, scratch] { dnnl_memory_destroy(memory) }
        dnnl_primitive_destroy(matmul.primitive)
        dnnl_stream_destroy(stream)
        packedWeights.deallocate()
        scratchpad.deallocate()
        arguments.deallocate()
    }

    /// c = a B, with a and c at the row strides given at creation.
    func multiply(_ a: UnsafePointer<UInt16>, into c: UnsafeMutablePointer<Float>) {
        _ = dnnl_memory_set_data_handle(left, UnsafeMutableRawPointer(mutating: a))
        _ = dnnl_memory_set_data_handle(output, c)
        let status = MatmulPrimitive.execute(matmul.primitive, stream, arguments, count: 4)
        precondition(status == dnnl_success, "PackedBFloat16Product: matmul failed with status \(status.rawValue) for M=\(m) N=\(n) K=\(k)")
    }
}

extension GEMM {
    /// Rows from which a one-off bfloat16 product runs on a matmul primitive (B read in
    /// place); below, at M = 1 (streaming), `dnnl_gemm_bf16bf16f32` is as fast or faster.
    static let minimumRowsForMatmulPrimitive = 16

    /// C = op(A) op(B) (alpha 1, beta 0) through a matmul primitive made for this call, with
    /// the transposes and leading dimensions as strides; false where oneDNN has none or
    /// declines to run it (the caller then takes another path).
    static func multiplyBFloat16OnMatmulPrimitive(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<UInt16>, lda: Int, b: UnsafePointer<UInt16>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int
    ) -> Bool {
        guard let matmul = MatmulPrimitive(
            left: MatmulPrimitive.descriptor(m, k, dnnl_bf16, strides: transposeA ? (1, lda) : (lda, 1)),
            right: MatmulPrimitive.descriptor(k, n, dnnl_bf16, strides: transposeB ? (1, ldb) : (ldb, 1)),
            output: MatmulPrimitive.descriptor(m, n, dnnl_f32, strides: (ldc, 1))) else { return false }
        defer { dnnl_primitive_destroy(matmul.primitive) }
        let stream = MatmulPrimitive.makeStream()
        let scratchpad = UnsafeMutableRawPointer.allocate(byteCount: MatmulPrimitive.byteCount(matmul.scratchpad), alignment: 64)
        let memories = [
            MatmulPrimitive.memory(matmul.left, UnsafeMutableRawPointer(mutating: a)),
            MatmulPrimitive.memory(matmul.right, UnsafeMutableRawPointer(mutating: b)),
            MatmulPrimitive.memory(matmul.output, c), MatmulPrimitive.memory(matmul.scratchpad, scratchpad),
        ]
        defer {
            memories.forEach { dnnl_memory_destroy($0) }
            dnnl_stream_destroy(stream)
            scratchpad.deallocate()
        }
        let arguments = zip([DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST, DNNL_ARG_SCRATCHPAD], memories).map {
            dnnl_exec_arg_t(arg: $0, memory: $1)
        }
        return MatmulPrimitive.execute(matmul.primitive, stream, arguments, count: 4) == dnnl_success
    }
}
