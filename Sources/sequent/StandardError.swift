#if canImport(Glibc)
@preconcurrency import Glibc  // `stderr` is a C global, which Swift 6 checks as shared mutable state
#endif

/// The process's standard error stream.
enum StandardError {
    /// Makes standard error line-buffered. ArgumentParser writes an error message one byte at
    /// a time; line-buffered, each line leaves in one write, so the messages of several
    /// processes sharing the stream (the ranks under mpirun) do not interleave within a line.
    static func bufferLines() {
        #if canImport(Glibc)
        setvbuf(stderr, nil, _IOLBF, 0)
        #endif
    }
}
