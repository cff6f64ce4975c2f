#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` with subnormal Float results flushed to zero (and subnormal inputs read as
/// zero) on the calling thread, then restores the previous mode.
///
/// The lab trains networks whose gradients vanish on purpose: once they fall below 1e-38
/// they become subnormal, and x86 cores compute on subnormals up to a hundred times slower.
/// Flushing changes only values below 1.2e-38 (reported as "underflowed" either way).
/// Scoped, not global: the mode is set for `body` alone. A no-op off x86-64 Linux.
func withSubnormalsFlushedToZero<R>(_ body: () throws -> R) rethrows -> R {
    #if canImport(Glibc) && arch(x86_64)
    var saved = fenv_t()
    fegetenv(&saved)
    var flushing = saved
    flushing.__mxcsr |= 0x8040  // FTZ (bit 15) and DAZ (bit 6)
    fesetenv(&flushing)
    defer { fesetenv(&saved) }
    #endif
    return try body()
}
