import CDNNL
import CSequentKernels
import Foundation

/// What this CPU runs and which kernels Sequent picked for it.
///
/// One build runs on every x86-64 CPU: Sequent's wide-vector kernels are compiled for
/// several instruction sets and chosen once per process (`level`), as oneDNN chooses its
/// own. Two environment variables lower the choice, so that a developer on an AVX-512
/// machine can run exactly what an AVX2 machine runs:
///
///     SEQUENT_MAX_CPU_ISA=avx2    Sequent's own kernels, and the bfloat16 path (emulated)
///     ONEDNN_MAX_CPU_ISA=AVX2     oneDNN's kernels (its own variable)
public enum CPUSupport {
    /// The instruction sets Sequent's own kernels are compiled for.
    public enum Level: Int, Comparable, Sendable, CustomStringConvertible {
        case baseline = 0, avx2, avx512, avx512BFloat16

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

        public var description: String {
            switch self {
            case .baseline: return "baseline x86-64 (SSE2)"
            case .avx2: return "AVX2 + FMA"
            case .avx512: return "AVX-512 (F, BW, DQ, VL)"
            case .avx512BFloat16: return "AVX-512 with AVX512-BF16"
            }
        }
    }

    /// The level Sequent's kernels run at (the CPU's, lowered by SEQUENT_MAX_CPU_ISA).
    public static var level: Level { Level(rawValue: Int(sequent_cpu_level())) ?? .baseline }

    /// The level the CPU offers.
    public static var detectedLevel: Level { Level(rawValue: Int(sequent_cpu_detected_level())) ?? .baseline }

    /// How bfloat16 matrix products (`MatmulPrecision.bfloat16`, bfloat16 stream weights) run.
    public enum BFloat16Path: String, Sendable {
        /// oneDNN's bfloat16 kernels on AMX tiles.
        case amx = "native (AMX)"
        /// oneDNN's bfloat16 kernels on AVX512-BF16.
        case avx512 = "native (AVX512-BF16)"
        /// The same mathematics on the Float kernels: operands rounded to bfloat16, their
        /// exact products summed in Float.
        case emulated
    }

    /// The bfloat16 path: native where both oneDNN (ONEDNN_MAX_CPU_ISA) and Sequent
    /// (SEQUENT_MAX_CPU_ISA) may use the CPU's bfloat16 instructions, emulated otherwise.
    public static let bfloat16Path: BFloat16Path = {
        guard level >= .avx512BFloat16 else { return .emulated }
        let isa = dnnl_get_effective_cpu_isa().rawValue
        if isa & dnnl_cpu_isa_avx512_core_amx.rawValue == dnnl_cpu_isa_avx512_core_amx.rawValue { return .amx }
        if isa & dnnl_cpu_isa_avx512_core_bf16.rawValue == dnnl_cpu_isa_avx512_core_bf16.rawValue { return .avx512 }
        return .emulated
    }()

    /// Whether bfloat16 products run on oneDNN's bfloat16 kernels.
    public static var hasNativeBFloat16: Bool { bfloat16Path != .emulated }

    /// The CPU's model name, from /proc/cpuinfo.
    public static var modelName: String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":") else { return "unknown" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }

    /// The vector features of interest that the CPU has.
    public static var features: [String] {
        ["sse4.2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512vnni",
         "avx512bf16", "avx512fp16", "amx-tile", "amx-bf16", "amx-int8"].filter { sequent_cpu_supports($0) != 0 }
    }

    /// oneDNN's version, as "major.minor.patch".
    public static var oneDNNVersion: String {
        guard let version = dnnl_version()?.pointee else { return "unknown" }
        return "\(version.major).\(version.minor).\(version.patch)"
    }

    /// The instruction set oneDNN's kernels use (after ONEDNN_MAX_CPU_ISA).
    public static var oneDNNInstructionSet: String {
        let names: [(dnnl_cpu_isa_t, String)] = [
            (dnnl_cpu_isa_avx512_core_amx, "avx512_core_amx"), (dnnl_cpu_isa_avx512_core_bf16, "avx512_core_bf16"),
            (dnnl_cpu_isa_avx512_core_vnni, "avx512_core_vnni"), (dnnl_cpu_isa_avx512_core, "avx512_core"),
            (dnnl_cpu_isa_avx2_vnni, "avx2_vnni"), (dnnl_cpu_isa_avx2, "avx2"), (dnnl_cpu_isa_avx, "avx"),
            (dnnl_cpu_isa_sse41, "sse41"),
        ]
        let isa = dnnl_get_effective_cpu_isa().rawValue
        return names.first { isa & $0.0.rawValue == $0.0.rawValue }?.1 ?? "baseline"
    }

    /// SEQUENT_MAX_CPU_ISA's value when it names no level (it then limits nothing).
    public static var unknownLimit: String? {
        guard let value = ProcessInfo.processInfo.environment["SEQUENT_MAX_CPU_ISA"], !value.isEmpty,
              sequent_cpu_level_for_name(value) < 0 else { return nil }
        return value
    }

    /// `sequent info`'s lines: the CPU, its instruction sets, oneDNN, the threads and the
    /// kernels Sequent picked.
    public static var report: [(String, String)] {
        let environment = ProcessInfo.processInfo.environment
        func setting(_ name: String) -> String { environment[name].map { "\(name)=\($0)" } ?? "\(name) not set" }
        var lines: [(String, String)] = [
            ("CPU", modelName),
            ("instruction sets", features.joined(separator: " ")),
            ("oneDNN", "\(oneDNNVersion), kernels for \(oneDNNInstructionSet) (\(setting("ONEDNN_MAX_CPU_ISA")))"),
            ("threads", "\(Parallelism.threadCount) of \(Parallelism.coreCount) cores; work split in \(Parallelism.splitCount) blocks whatever the thread count"),
            ("Sequent kernels", "\(level) (CPU offers \(detectedLevel); \(setting("SEQUENT_MAX_CPU_ISA")))"),
            ("Float products", "oneDNN sgemm, in fixed blocks (same bits on any thread count)"),
            ("bfloat16 products", bfloat16Path.rawValue),
            ("bfloat16 streaming", sequent_matvec_bf16_uses_dot_product() != 0 ? "AVX512-BF16 dot product" : "shifts and FMAs on Float lanes (emulated)"),
        ]
        if let unknown = unknownLimit {
            lines.append(("warning", "SEQUENT_MAX_CPU_ISA=\(unknown) names no level (baseline, avx2, avx512_core, avx512_core_bf16, all); ignored"))
        }
        return lines
    }
}
