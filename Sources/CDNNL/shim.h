// The one C header Sequent sees: oneDNN's C API plus the GNU OpenMP calls that set how
// many threads oneDNN's kernels use and run Sequent's kernels on the same threads.
#ifndef SEQUENT_CDNNL_SHIM_H
#define SEQUENT_CDNNL_SHIM_H
#include <oneapi/dnnl/dnnl.h>

int omp_get_max_threads(void);
void omp_set_num_threads(int);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
// The entry point GCC emits for `#pragma omp parallel`: runs fn(data) on a team of threads.
// Sequent's own kernels use it so that they share oneDNN's thread team instead of
// competing with its spinning threads.
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned int flags);

// glibc's allocator tuning (<malloc.h> is not part of Swift's Glibc module).
int mallopt(int param, int value);
#define SEQUENT_M_TRIM_THRESHOLD -1
#define SEQUENT_M_MMAP_MAX -4

// ---------------------------------------------------------------------------------------
// A matrix product with a right operand packed once: C (m x n) [+]= A (m x k) * B, where A
// has row stride lda, C row stride ldc, and B (k x n) is given once with element strides
// (b_stride_k, b_stride_n) and reordered into oneDNN's preferred (blocked) layout. The
// recurrent layers multiply by the same weight matrix at every time step with a small m
// (the batch); dnnl_sgemm would pack the weights again on every call.
typedef struct {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_t primitive;
    dnnl_memory_t source;
    dnnl_memory_t weights;
    dnnl_memory_t destination;
} sequent_packed_matmul;

static inline dnnl_status_t sequent_packed_matmul_create(
        sequent_packed_matmul *p, int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldc,
        const float *b, int64_t b_stride_k, int64_t b_stride_n, int accumulate) {
    dnnl_status_t s;
    p->engine = NULL; p->stream = NULL; p->primitive = NULL;
    p->source = NULL; p->weights = NULL; p->destination = NULL;
    if ((s = dnnl_engine_create(&p->engine, dnnl_cpu, 0)) != dnnl_success) return s;
    if ((s = dnnl_stream_create(&p->stream, p->engine, dnnl_stream_default_flags)) != dnnl_success) return s;
    dnnl_dims_t a_dims = {m, k}, a_strides = {lda, 1};
    dnnl_dims_t b_dims = {k, n}, b_strides = {b_stride_k, b_stride_n};
    dnnl_dims_t c_dims = {m, n}, c_strides = {ldc, 1};
    dnnl_memory_desc_t a_md, b_any_md, b_user_md, c_md;
    if ((s = dnnl_memory_desc_init_by_strides(&a_md, 2, a_dims, dnnl_f32, a_strides)) != dnnl_success) return s;
    if ((s = dnnl_memory_desc_init_by_tag(&b_any_md, 2, b_dims, dnnl_f32, dnnl_format_tag_any)) != dnnl_success) return s;
    if ((s = dnnl_memory_desc_init_by_strides(&b_user_md, 2, b_dims, dnnl_f32, b_strides)) != dnnl_success) return s;
    if ((s = dnnl_memory_desc_init_by_strides(&c_md, 2, c_dims, dnnl_f32, c_strides)) != dnnl_success) return s;
    dnnl_matmul_desc_t desc;
    if ((s = dnnl_matmul_desc_init(&desc, &a_md, &b_any_md, NULL, &c_md)) != dnnl_success) return s;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    if (accumulate) {
        if ((s = dnnl_primitive_attr_create(&attr)) != dnnl_success) return s;
        if ((s = dnnl_post_ops_create(&ops)) != dnnl_success) return s;
        if ((s = dnnl_post_ops_append_sum(ops, 1.0f)) != dnnl_success) return s;
        if ((s = dnnl_primitive_attr_set_post_ops(attr, ops)) != dnnl_success) return s;
    }
    dnnl_primitive_desc_t pd;
    s = dnnl_primitive_desc_create(&pd, &desc, attr, p->engine, NULL);
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) return s;
    const dnnl_memory_desc_t *packed_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    if ((s = dnnl_memory_create(&p->weights, packed_md, p->engine, DNNL_MEMORY_ALLOCATE)) != dnnl_success) { dnnl_primitive_desc_destroy(pd); return s; }
    // Reorder the caller's B into the packed layout, once.
    dnnl_memory_t user = NULL;
    dnnl_primitive_desc_t reorder_pd = NULL;
    dnnl_primitive_t reorder = NULL;
    if ((s = dnnl_memory_create(&user, &b_user_md, p->engine, (void *)b)) == dnnl_success
        && (s = dnnl_reorder_primitive_desc_create(&reorder_pd, &b_user_md, p->engine, packed_md, p->engine, NULL)) == dnnl_success
        && (s = dnnl_primitive_create(&reorder, reorder_pd)) == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, p->weights}};
        if ((s = dnnl_primitive_execute(reorder, p->stream, 2, args)) == dnnl_success) s = dnnl_stream_wait(p->stream);
    }
    if (reorder) dnnl_primitive_destroy(reorder);
    if (reorder_pd) dnnl_primitive_desc_destroy(reorder_pd);
    if (user) dnnl_memory_destroy(user);
    if (s == dnnl_success) s = dnnl_primitive_create(&p->primitive, pd);
    if (s == dnnl_success) s = dnnl_memory_create(&p->source, &a_md, p->engine, DNNL_MEMORY_NONE);
    if (s == dnnl_success) s = dnnl_memory_create(&p->destination, &c_md, p->engine, DNNL_MEMORY_NONE);
    dnnl_primitive_desc_destroy(pd);
    return s;
}

static inline dnnl_status_t sequent_packed_matmul_execute(sequent_packed_matmul *p, const float *a, float *c) {
    dnnl_status_t s;
    if ((s = dnnl_memory_set_data_handle(p->source, (void *)a)) != dnnl_success) return s;
    if ((s = dnnl_memory_set_data_handle(p->destination, c)) != dnnl_success) return s;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, p->source}, {DNNL_ARG_WEIGHTS, p->weights}, {DNNL_ARG_DST, p->destination}};
    if ((s = dnnl_primitive_execute(p->primitive, p->stream, 3, args)) != dnnl_success) return s;
    return dnnl_stream_wait(p->stream);
}

static inline void sequent_packed_matmul_destroy(sequent_packed_matmul *p) {
    if (p->primitive) dnnl_primitive_destroy(p->primitive);
    if (p->source) dnnl_memory_destroy(p->source);
    if (p->weights) dnnl_memory_destroy(p->weights);
    if (p->destination) dnnl_memory_destroy(p->destination);
    if (p->stream) dnnl_stream_destroy(p->stream);
    if (p->engine) dnnl_engine_destroy(p->engine);
}

#endif
