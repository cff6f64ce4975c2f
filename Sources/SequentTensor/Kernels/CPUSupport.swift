import CDNNL
#if canImport(Glibc)
import Glibc
#endif

/// Whether the running CPU executes the vector instructions this build's kernels were
/// compiled for.
///
/// A release build targets the build machine's vector unit (AVX-512 or AVX2 + FMA; see
/// Package.swift). Copied to a CPU without it, its first kernel would stop the process with
/// SIGILL; the command-line tools call `unsupportedReason` first and exit with its message
/// instead. Programs that embed the library can do the same.
public enum CPUSupport {
    /// The instructions the kernels were compiled for: AVX-512, AVX2 + FMA, or nil
    /// (debug builds and builds with SEQUENT_TARGET_CPU=generic need nothing beyond x86-64).
    public static var requiredInstructions: String? {
        #if SEQUENT_REQUIRES_AVX512
        "AVX-512 (F, BW, DQ, VL)"
        #elseif SEQUENT_REQUIRES_AVX2
        "AVX2 + FMA"
        #else
        nil
        #endif
    }

    /// Why this binary cannot run here, or nil when it can.
    public static var unsupportedReason: String? {
        #if SEQUENT_REQUIRES_AVX512
        let supported = sequent_cpu_has_avx512() != 0
        #elseif SEQUENT_REQUIRES_AVX2
        let supported = sequent_cpu_has_avx2_fma() != 0
        #else
        let supported = true
        #endif
        guard !supported, let required = requiredInstructions else { return nil }
        return "this build of Sequent's kernels needs \(required), which this CPU lacks; "
            + "rebuild on this machine, or with SEQUENT_TARGET_CPU=haswell (AVX2) or generic"
    }

    /// For command-line tools, before their first kernel: prints `unsupportedReason` to
    /// standard error and exits with status 1 when there is one.
    public static func exitIfUnsupported() {
        guard let reason = unsupportedReason else { return }
        let message = Array("error: \(reason)\n".utf8)
        _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        exit(1)
    }
}
