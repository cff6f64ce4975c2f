import CDNNL

// A matrix product whose right operand stays fixed across many calls, through a oneDNN
// matmul primitive that holds that operand reordered once into the blocked layout its kernel
// reads. In bfloat16 on a CPU with AMX (Sapphire Rapids), oneDNN's kernel for it runs on
// the tile unit: one core, M = 16, K = 256, N = 1024 takes 10.6 us, against 33 us through
// `dnnl_gemm_bf16bf16f32`, which packs B again at every call. In Float the primitive is
// no faster than `dnnl_sgemm`, so only the bfloat16 form exists.

/// C (M, N) = A (M, K) B (K, N) with A and B in bfloat16 and the sums in Float, B given
/// once: the recurrent layers' step at `MatmulPrecision.bfloat16`.
///
/// Holds its own stream, scratchpad and copy of B: one instance per thread. Inside a
/// parallel region the product runs on the calling thread; outside, on oneDNN's threads.
final class PackedBFloat16Product {
    let m: Int, k: Int, n: Int
    private let primitive: dnnl_primitive_t
    private let stream: dnnl_stream_t
    private let packedWeights: UnsafeMutableRawPointer
    private let scratchpad: UnsafeMutableRawPointer
    private let left: dnnl_memory_t, right: dnnl_memory_t, output: dnnl_memory_t, scratch: dnnl_memory_t
    /// The primitive's four arguments, made once: a call only changes the handles of a and c.
    private let arguments: UnsafeMutablePointer<dnnl_exec_arg_t>

    /// The CPU engine all packed products share (oneDNN engines are thread-safe).
    nonisolated(unsafe) private static let engine: dnnl_engine_t? = {
        var engine: dnnl_engine_t?
        return dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success ? engine : nil
    }()

    /// Reorders B for products with M rows whose left operand has row stride `lda` and whose
    /// output has row stride `ldc`. `weights` holds B (K, N), or B^T (N, K) when
    /// `transposeWeights`, with row stride `ldb`. Nil where oneDNN has no bfloat16 matmul
    /// for this CPU: the caller falls back to `GEMM.multiplyBFloat16`.
    init?(m: Int, k: Int, n: Int, weights: UnsafePointer<UInt16>, transposeWeights: Bool, ldb: Int, lda: Int, ldc: Int) {
        guard m > 0, k > 0, n > 0, let engine = Self.engine else { return nil }
        (self.m, self.k, self.n) = (m, k, n)
        /// A (rows, cols) matrix at the given strides, or in the layout the primitive picks (nil).
        func descriptor(_ rows: Int, _ cols: Int, _ type: dnnl_data_type_t, strides: (row: Int, column: Int)?) -> dnnl_memory_desc_t {
            var desc = dnnl_memory_desc_t()
            let dims: [Int64] = [Int64(rows), Int64(cols)]
            let strideList: [Int64] = strides.map { [Int64($0.row), Int64($0.column)] } ?? []
            let status = strides == nil
                ? dnnl_memory_desc_init_by_tag(&desc, 2, dims, type, dnnl_format_tag_any)
                : dnnl_memory_desc_init_by_strides(&desc, 2, dims, type, strideList)
            precondition(status == dnnl_success, "PackedBFloat16Product: a (\(rows), \(cols)) descriptor failed with status \(status.rawValue)")
            return desc
        }
        var leftDesc = descriptor(m, k, dnnl_bf16, strides: (lda, 1))
        var plainWeightsDesc = descriptor(k, n, dnnl_bf16, strides: transposeWeights ? (1, ldb) : (ldb, 1))
        var anyWeightsDesc = descriptor(k, n, dnnl_bf16, strides: nil)
        var outputDesc = descriptor(m, n, dnnl_f32, strides: (ldc, 1))

        var matmul = dnnl_matmul_desc_t()
        var attributes: dnnl_primitive_attr_t?
        var primitiveDesc: dnnl_primitive_desc_t?
        guard dnnl_matmul_desc_init(&matmul, &leftDesc, &anyWeightsDesc, nil, &outputDesc) == dnnl_success,
              dnnl_primitive_attr_create(&attributes) == dnnl_success else { return nil }
        defer { dnnl_primitive_attr_destroy(attributes) }
        // A scratchpad of our own: primitives on different threads then share no buffer.
        _ = dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user)
        guard dnnl_primitive_desc_create(&primitiveDesc, &matmul, attributes, engine, nil) == dnnl_success,
              let primitiveDesc else { return nil }
        defer { dnnl_primitive_desc_destroy(primitiveDesc) }
        var packedDesc = dnnl_primitive_desc_query_md(primitiveDesc, dnnl_query_weights_md, 0)!.pointee
        var scratchDesc = dnnl_primitive_desc_query_md(primitiveDesc, dnnl_query_scratchpad_md, 0)!.pointee

        var primitive: dnnl_primitive_t?, stream: dnnl_stream_t?
        guard dnnl_primitive_create(&primitive, primitiveDesc) == dnnl_success, let primitive,
              dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success, let stream else { return nil }
        (self.primitive, self.stream) = (primitive, stream)
        packedWeights = .allocate(byteCount: max(64, dnnl_memory_desc_get_size(&packedDesc)), alignment: 64)
        scratchpad = .allocate(byteCount: max(64, dnnl_memory_desc_get_size(&scratchDesc)), alignment: 64)
        func memory(_ desc: inout dnnl_memory_desc_t, _ handle: UnsafeMutableRawPointer?) -> dnnl_memory_t {
            var memory: dnnl_memory_t?
            let status = dnnl_memory_create(&memory, &desc, engine, handle)
            precondition(status == dnnl_success, "PackedBFloat16Product: dnnl_memory_create failed with status \(status.rawValue)")
            return memory!
        }
        left = memory(&leftDesc, nil)
        output = memory(&outputDesc, nil)
        right = memory(&packedDesc, packedWeights)
        scratch = memory(&scratchDesc, scratchpad)
        arguments = .allocate(capacity: 4)
        arguments.initialize(from: [
            dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: left), dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: right),
            dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: output), dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratch),
        ], count: 4)

        // The reorder from B's plain layout into the primitive's, run once.
        let plain = memory(&plainWeightsDesc, UnsafeMutableRawPointer(mutating: weights))
        defer { dnnl_memory_destroy(plain) }
        var reorderDesc: dnnl_primitive_desc_t?, reorder: dnnl_primitive_t?
        var status = dnnl_reorder_primitive_desc_create(&reorderDesc, &plainWeightsDesc, engine, &packedDesc, engine, nil)
        if status == dnnl_success { status = dnnl_primitive_create(&reorder, reorderDesc) }
        if status == dnnl_success {
            var arguments = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: plain), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: right)]
            status = dnnl_primitive_execute(reorder, stream, 2, &arguments)
            _ = dnnl_stream_wait(stream)
        }
        dnnl_primitive_destroy(reorder)
        dnnl_primitive_desc_destroy(reorderDesc)
        precondition(status == dnnl_success, "PackedBFloat16Product: reordering the weights failed with status \(status.rawValue)")
    }

    deinit {
        for memory in [left, right, output, scratch] { dnnl_memory_destroy(memory) }
        dnnl_primitive_destroy(primitive)
        dnnl_stream_destroy(stream)
        packedWeights.deallocate()
        scratchpad.deallocate()
        arguments.deallocate()
    }

    /// c = a B, with a and c at the row strides given at creation.
    func multiply(_ a: UnsafePointer<UInt16>, into c: UnsafeMutablePointer<Float>) {
        _ = dnnl_memory_set_data_handle(left, UnsafeMutableRawPointer(mutating: a))
        _ = dnnl_memory_set_data_handle(output, c)
        var status = dnnl_primitive_execute(primitive, stream, 4, arguments)
        if status == dnnl_success { status = dnnl_stream_wait(stream) }
        precondition(status == dnnl_success, "PackedBFloat16Product: matmul failed with status \(status.rawValue) for M=\(m) N=\(n) K=\(k)")
    }
}
