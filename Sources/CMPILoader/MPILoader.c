// Open MPI loaded with dlopen (see include/CMPILoader.h for why and for the contract).

#include "CMPILoader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

// Open MPI's handle types are pointers to opaque structs; int is MPI's count type.
typedef void *mpi_handle;

enum {
    MPI_SUCCESS_CODE = 0,
    MPI_THREAD_SERIALIZED_LEVEL = 2,  // Open MPI: SINGLE 0, FUNNELED 1, SERIALIZED 2, MULTIPLE 3
    MPI_ERROR_STRING_LENGTH = 256,  // MPI_MAX_ERROR_STRING
};

static struct {
    void *library;
    int initialized;
    // Functions.
    int (*init_thread)(int *, char ***, int, int *);
    int (*comm_rank)(mpi_handle, int *);
    int (*comm_size)(mpi_handle, int *);
    int (*comm_set_errhandler)(mpi_handle, mpi_handle);
    int (*allreduce)(const void *, void *, int, mpi_handle, mpi_handle, mpi_handle);
    int (*iallreduce)(const void *, void *, int, mpi_handle, mpi_handle, mpi_handle, mpi_handle *);
    int (*test)(mpi_handle *, int *, void *);
    int (*wait)(mpi_handle *, void *);
    int (*bcast)(void *, int, mpi_handle, int, mpi_handle);
    int (*barrier)(mpi_handle);
    int (*abort_)(mpi_handle, int);
    int (*finalize)(void);
    int (*error_string)(int, char *, int *);
    // Predefined handles: the addresses of Open MPI's globals.
    mpi_handle comm_world, datatype_float, datatype_double, datatype_byte, op_sum, op_max, op_min, errors_return;
} mpi;

static char last_error[512];

static void set_error(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(last_error, sizeof last_error, format, arguments);
    va_end(arguments);
}

// Records MPI's own wording of `code` from `what`.
static int mpi_failed(const char *what, int code) {
    char text[MPI_ERROR_STRING_LENGTH] = "";
    int length = 0;
    if (mpi.error_string == NULL || mpi.error_string(code, text, &length) != MPI_SUCCESS_CODE) {
        snprintf(text, sizeof text, "error code %d", code);
    }
    set_error("%s failed: %s", what, text);
    return code == 0 ? -1 : code;
}

const char *sequent_mpi_last_error(void) { return last_error; }

int sequent_mpi_is_loaded(void) { return mpi.library != NULL; }

int sequent_mpi_load(const char *path) {
    if (mpi.library != NULL) return 0;
    // RTLD_GLOBAL: Open MPI's plugins (mca_*.so) resolve libmpi's symbols from the global scope.
    const char *candidates[] = {path, "libmpi.so.40", "libmpi.so"};
    void *library = NULL;
    const char *tried = NULL;
    for (size_t i = path != NULL ? 0 : 1; i < (path != NULL ? 1 : 3) && library == NULL; i++) {
        library = dlopen(candidates[i], RTLD_NOW | RTLD_GLOBAL);
        tried = candidates[i];
    }
    if (library == NULL) {
        const char *reason = dlerror();
        set_error("cannot load Open MPI's library (%s): %s", tried, reason != NULL ? reason : "unknown reason");
        return -1;
    }
    struct { const char *name; void **slot; } symbols[] = {
        {"MPI_Init_thread", (void **)&mpi.init_thread},
        {"MPI_Comm_rank", (void **)&mpi.comm_rank},
        {"MPI_Comm_size", (void **)&mpi.comm_size},
        {"MPI_Comm_set_errhandler", (void **)&mpi.comm_set_errhandler},
        {"MPI_Allreduce", (void **)&mpi.allreduce},
        {"MPI_Iallreduce", (void **)&mpi.iallreduce},
        {"MPI_Test", (void **)&mpi.test},
        {"MPI_Wait", (void **)&mpi.wait},
        {"MPI_Bcast", (void **)&mpi.bcast},
        {"MPI_Barrier", (void **)&mpi.barrier},
        {"MPI_Abort", (void **)&mpi.abort_},
        {"MPI_Finalize", (void **)&mpi.finalize},
        {"MPI_Error_string", (void **)&mpi.error_string},
        {"ompi_mpi_comm_world", &mpi.comm_world},
        {"ompi_mpi_float", &mpi.datatype_float},
        {"ompi_mpi_double", &mpi.datatype_double},
        {"ompi_mpi_byte", &mpi.datatype_byte},
        {"ompi_mpi_op_sum", &mpi.op_sum},
        {"ompi_mpi_op_max", &mpi.op_max},
        {"ompi_mpi_op_min", &mpi.op_min},
        {"ompi_mpi_errors_return", &mpi.errors_return},
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        void *address = dlsym(library, symbols[i].name);
        if (address == NULL) {
            set_error("%s has no symbol %s: it is not Open MPI 4 or newer (Sequent loads Open MPI's ABI)", tried, symbols[i].name);
            dlclose(library);
            memset(&mpi, 0, sizeof mpi);
            return -1;
        }
        *symbols[i].slot = address;
    }
    mpi.library = library;
    return 0;
}

int sequent_mpi_initialize(int *rank, int *size) {
    if (mpi.library == NULL) {
        set_error("MPI is not loaded");
        return -1;
    }
    if (!mpi.initialized) {
        int provided = 0;
        int code = mpi.init_thread(NULL, NULL, MPI_THREAD_SERIALIZED_LEVEL, &provided);
        if (code != MPI_SUCCESS_CODE) return mpi_failed("MPI_Init_thread", code);
        mpi.initialized = 1;
        if (provided < MPI_THREAD_SERIALIZED_LEVEL) {
            set_error("MPI_Init_thread: this Open MPI provides thread level %d; Sequent's gradient thread needs MPI_THREAD_SERIALIZED (2)", provided);
            return -1;
        }
        code = mpi.comm_set_errhandler(mpi.comm_world, mpi.errors_return);
        if (code != MPI_SUCCESS_CODE) return mpi_failed("MPI_Comm_set_errhandler", code);
    }
    int code = mpi.comm_rank(mpi.comm_world, rank);
    if (code != MPI_SUCCESS_CODE) return mpi_failed("MPI_Comm_rank", code);
    code = mpi.comm_size(mpi.comm_world, size);
    if (code != MPI_SUCCESS_CODE) return mpi_failed("MPI_Comm_size", code);
    return 0;
}

static int require_initialized(const char *what) {
    if (mpi.initialized) return 0;
    set_error("%s: MPI is not initialized", what);
    return -1;
}

// MPI counts are int: larger buffers go in chunks of at most CHUNK elements.
enum { CHUNK = 1 << 30 };

int sequent_mpi_allreduce_sum_float(float *buffer, size_t count) {
    if (require_initialized("MPI_Allreduce")) return -1;
    for (size_t start = 0; start < count; start += CHUNK) {
        size_t n = count - start < CHUNK ? count - start : CHUNK;
        // MPI_IN_PLACE is ((void *) 1) in Open MPI.
        int code = mpi.allreduce((void *)1, buffer + start, (int)n, mpi.datatype_float, mpi.op_sum, mpi.comm_world);
        if (code != MPI_SUCCESS_CODE) return mpi_failed("MPI_Allreduce", code);
    }
    return 0;
}

int sequent_mpi_iallreduce_sum_float(float *buffer, size_t count, void **request) {
    if (require_initialized("MPI_Iallreduce")) return -1;
    if (count > INT_MAX) {
        set_error("MPI_Iallreduce: %zu floats exceed one request's INT_MAX; use smaller buckets", count);
        return -1;
    }
    *request = NULL;
    int code = mpi.iallreduce((void *)1, buffer, (int)count, mpi.datatype_float, mpi.op_sum, mpi.comm_world, request);
    return code == MPI_SUCCESS_CODE ? 0 : mpi_failed("MPI_Iallreduce", code);
}

int sequent_mpi_iallreduce_double(double *buffer, size_t count, int operation, void **request) {
    if (require_initialized("MPI_Iallreduce")) return -1;
    if (count > INT_MAX) {
        set_error("MPI_Iallreduce: %zu doubles exceed one request's INT_MAX", count);
        return -1;
    }
    mpi_handle op = operation == 1 ? mpi.op_max : operation == 2 ? mpi.op_min : mpi.op_sum;
    *request = NULL;
    int code = mpi.iallreduce((void *)1, buffer, (int)count, mpi.datatype_double, op, mpi.comm_world, request);
    return code == MPI_SUCCESS_CODE ? 0 : mpi_failed("MPI_Iallreduce", code);
}

// MPI_STATUS_IGNORE is ((MPI_Status *) 0) in Open MPI.
int sequent_mpi_test(void **request, int *done) {
    *done = 0;
    int code = mpi.test(request, done, NULL);
    return code == MPI_SUCCESS_CODE ? 0 : mpi_failed("MPI_Test", code);
}

int sequent_mpi_wait(void **request) {
    int code = mpi.wait(request, NULL);
    return code == MPI_SUCCESS_CODE ? 0 : mpi_failed("MPI_Wait", code);
}

int sequent_mpi_allreduce_double(double *buffer, size_t count, int operation) {
    if (require_initialized("MPI_Allreduce")) return -1;
    mpi_handle op = operation == 1 ? mpi.op_max : operation == 2 ? mpi.op_min : mpi.op_sum;
    for (size_t start = 0; start < count; start += CHUNK) {
        size_t n = count - start < CHUNK ? count - start : CHUNK;
        int code = mpi.allreduce((void *)1, buffer + start, (int)n, mpi.datatype_double, op, mpi.comm_world);
        if (code != MPI_SUCCESS_CODE) return mpi_failed("MPI_Allreduce", code);
    }
    return 0;
}

int sequent_mpi_broadcast_bytes(void *buffer, size_t count, int root) {
    if (require_initialized("MPI_Bcast")) return -1;
    char *bytes = buffer;
    for (size_t start = 0; start < count; start += CHUNK) {
        size_t n = count - start < CHUNK ? count - start : CHUNK;
        int code = mpi.bcast(bytes + start, (int)n, mpi.datatype_byte, root, mpi.comm_world);
        if (code != MPI_SUCCESS_CODE) return mpi_failed("MPI_Bcast", code);
    }
    return 0;
}

int sequent_mpi_barrier(void) {
    if (require_initialized("MPI_Barrier")) return -1;
    int code = mpi.barrier(mpi.comm_world);
    return code == MPI_SUCCESS_CODE ? 0 : mpi_failed("MPI_Barrier", code);
}

void sequent_mpi_abort(int code) {
    if (mpi.initialized) mpi.abort_(mpi.comm_world, code);
}

int sequent_mpi_finalize(void) {
    if (!mpi.initialized) return 0;
    mpi.initialized = 0;
    int code = mpi.finalize();
    return code == MPI_SUCCESS_CODE ? 0 : mpi_failed("MPI_Finalize", code);
}
