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
int malloc_trim(size_t pad);
#define SEQUENT_M_TRIM_THRESHOLD -1
#define SEQUENT_M_MMAP_MAX -4

#endif
