import CSequentKernels
import SequentTensor
import XCTest

/// One build for every CPU: the level Sequent's kernels run at, what lowers it, and the
/// bfloat16 path that follows from it.
final class CPUSupportTests: XCTestCase {
    func testLevelIsAtMostWhatTheCPUOffers() {
        XCTAssertLessThanOrEqual(CPUSupport.level, CPUSupport.detectedLevel)
        #if arch(x86_64)
        XCTAssertEqual(CPUSupport.detectedLevel >= .avx2, CPUSupport.features.contains("avx2") && CPUSupport.features.contains("fma"))
        XCTAssertEqual(CPUSupport.detectedLevel >= .avx512BFloat16, CPUSupport.features.contains("avx512bf16"))
        #endif
    }

    func testLimitNamesMapToLevels() {
        XCTAssertEqual(sequent_cpu_level_for_name("avx2"), Int32(SEQUENT_CPU_AVX2))
        XCTAssertEqual(sequent_cpu_level_for_name("AVX2"), Int32(SEQUENT_CPU_AVX2))
        XCTAssertEqual(sequent_cpu_level_for_name("avx512_core"), Int32(SEQUENT_CPU_AVX512))
        XCTAssertEqual(sequent_cpu_level_for_name("AVX512_CORE_AMX"), Int32(SEQUENT_CPU_AVX512_BF16))
        XCTAssertEqual(sequent_cpu_level_for_name("baseline"), Int32(SEQUENT_CPU_BASELINE))
        XCTAssertEqual(sequent_cpu_level_for_name("all"), Int32(SEQUENT_CPU_AVX512_BF16))
        XCTAssertEqual(sequent_cpu_level_for_name("avx3"), -1)
        XCTAssertEqual(sequent_cpu_level_for_name(""), -1)
        XCTAssertEqual(sequent_cpu_level_for_name(String(repeating: "a", count: 100)), -1)
    }

    /// Native bfloat16 only where both Sequent's level and oneDNN's ISA allow it.
    func testBFloat16PathFollowsTheLevel() {
        if CPUSupport.level < .avx512BFloat16 { XCTAssertEqual(CPUSupport.bfloat16Path, .emulated) }
        XCTAssertEqual(sequent_matvec_bf16_uses_dot_product() != 0, CPUSupport.level >= .avx512BFloat16)
        let report = Dictionary(uniqueKeysWithValues: CPUSupport.report)
        XCTAssertEqual(report["bfloat16 products"], CPUSupport.bfloat16Path.rawValue)
        XCTAssertNotNil(report["CPU"])
        XCTAssertNotNil(report["oneDNN"])
    }
}
