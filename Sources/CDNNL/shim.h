// The one C header Sequent sees: oneDNN's C API plus the two OpenMP calls that
// set how many threads oneDNN's kernels use (oneDNN is built on GNU OpenMP).
#ifndef SEQUENT_CDNNL_SHIM_H
#define SEQUENT_CDNNL_SHIM_H
#include <oneapi/dnnl/dnnl.h>

int omp_get_max_threads(void);
void omp_set_num_threads(int);

#endif
