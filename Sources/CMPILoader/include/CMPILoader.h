// Open MPI, loaded at run time.
//
// Sequent does not link against MPI: the `sequent` binary must start on machines where no
// MPI is installed. When a run is distributed, `sequent_mpi_load` dlopen()s Open MPI's
// libmpi (soname libmpi.so.40) and resolves the few functions and predefined handles the
// data-parallel trainer needs. Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...)
// are the addresses of exported globals (`ompi_mpi_comm_world`, ...), so they are found
// with dlsym like the functions. This ties the loader to Open MPI's ABI (not MPICH's),
// which is the one Debian ships as the default MPI.
//
// Every function returns 0 on success; otherwise a non-zero code, and
// `sequent_mpi_last_error()` says what failed in one line.

#ifndef CMPILOADER_H
#define CMPILOADER_H

#include <stddef.h>

/// Loads libmpi from `path` (NULL: "libmpi.so.40", then "libmpi.so") and resolves its
/// symbols. Loading twice is a no-op.
int sequent_mpi_load(const char *path);

/// Whether `sequent_mpi_load` succeeded.
int sequent_mpi_is_loaded(void);

/// MPI_Init_thread(MPI_THREAD_SERIALIZED: MPI is called by one thread at a time, the
/// main thread or the gradient thread of `Distributed`), errors returned instead of fatal
/// on MPI_COMM_WORLD, then this process's rank and the world's size.
int sequent_mpi_initialize(int *rank, int *size);

/// In-place MPI_Allreduce of `count` floats with MPI_SUM (in chunks below INT_MAX).
int sequent_mpi_allreduce_sum_float(float *buffer, size_t count);

/// Starts an in-place MPI_Iallreduce of `count` floats (at most INT_MAX) with MPI_SUM;
/// `*request` is the MPI_Request to complete with `sequent_mpi_test` or `sequent_mpi_wait`.
/// `buffer` must stay valid and untouched until then.
int sequent_mpi_iallreduce_sum_float(float *buffer, size_t count, void **request);

/// Starts an in-place MPI_Iallreduce of `count` doubles (operation as in
/// `sequent_mpi_allreduce_double`), completed as `sequent_mpi_iallreduce_sum_float`'s.
int sequent_mpi_iallreduce_double(double *buffer, size_t count, int operation, void **request);

/// MPI_Test: `*done` becomes 1 when the request has completed (it is then freed).
int sequent_mpi_test(void **request, int *done);

/// MPI_Wait on a request.
int sequent_mpi_wait(void **request);

/// In-place MPI_Allreduce of `count` doubles; operation 0 = sum, 1 = max, 2 = min.
int sequent_mpi_allreduce_double(double *buffer, size_t count, int operation);

/// MPI_Bcast of `count` bytes from `root` (in chunks below INT_MAX).
int sequent_mpi_broadcast_bytes(void *buffer, size_t count, int root);

/// MPI_Barrier on MPI_COMM_WORLD.
int sequent_mpi_barrier(void);

/// MPI_Abort(MPI_COMM_WORLD, code): ends every rank; does not return when MPI is running.
void sequent_mpi_abort(int code);

/// MPI_Finalize.
int sequent_mpi_finalize(void);

/// The last error, one line; empty if none.
const char *sequent_mpi_last_error(void);

#endif
