// The one C header Sequent sees: oneDNN's C API plus the GNU OpenMP calls that set how
// many threads oneDNN's kernels use and run Sequent's kernels on the same threads.
#ifndef SEQUENT_CDNNL_SHIM_H
#define SEQUENT_CDNNL_SHIM_H
#include <oneapi/dnnl/dnnl.h>

int omp_get_max_threads(void);
void omp_set_num_threads(int);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_in_parallel(void);
// The entry point GCC emits for `#pragma omp parallel`: runs fn(data) on a team of threads.
// Sequent's own kernels use it so that they share oneDNN's thread team instead of
// competing with its spinning threads.
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned int flags);
// `#pragma omp barrier`: waits inside a parallel region until every thread of the team is here.
void GOMP_barrier(void);

// oneDNN's row-major GEMM on bfloat16 inputs with Float accumulation and output:
// C = alpha op(A) op(B) + beta C. Exported by libdnnl 2.x but missing from its header.
// It runs on AVX512-BF16 (vdpbf16ps) where the CPU has it.
dnnl_status_t dnnl_gemm_bf16bf16f32(char transa, char transb, dnnl_dim_t M, dnnl_dim_t N, dnnl_dim_t K,
                                    float alpha, const uint16_t *A, dnnl_dim_t lda, const uint16_t *B,
                                    dnnl_dim_t ldb, float beta, float *C, dnnl_dim_t ldc);

// glibc's allocator tuning (<malloc.h> is not part of Swift's Glibc module).
int mallopt(int param, int value);
int malloc_trim(size_t pad);
#define SEQUENT_M_TRIM_THRESHOLD -1
#define SEQUENT_M_MMAP_MAX -4

#endif
