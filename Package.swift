// swift-tools-version:6.0
import Foundation
import PackageDescription

// Release builds compile the kernels for the build machine's vector unit, as -march=native
// would: AVX-512 (F, BW, DQ, VL) where it has it, else AVX2 + FMA. The 16-lane SIMD kernels
// in SequentTensor/Kernels then run in 32 zmm registers instead of spilling 16 ymm ones
// (lstm-1x256 inference 12% faster). SEQUENT_TARGET_CPU=NAME picks another target (any name
// `swiftc -target-cpu` knows, e.g. haswell for a binary that must run on AVX2-only machines;
// generic for none). A binary run on a CPU that lacks its target's instructions stops with
// an error naming them (CPUSupport.swift). oneDNN picks its own kernels at run time.

/// The two targets the build picks by itself, with the instructions each needs at run time.
let avx512Target = (cpu: "skylake-avx512", requires: "SEQUENT_REQUIRES_AVX512")
let avx2Target = (cpu: "haswell", requires: "SEQUENT_REQUIRES_AVX2")
let target: (cpu: String, requires: String?)? = {
    if let chosen = Context.environment["SEQUENT_TARGET_CPU"], !chosen.isEmpty {
        if chosen == "generic" { return nil }
        return (chosen, [avx512Target, avx2Target].first { $0.cpu == chosen }?.requires)
    }
    guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
    let flags = Set(flagsLine.split(separator: " ").map(String.init))
    if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl"]) { return avx512Target }
    if flags.isSuperset(of: ["avx2", "fma"]) { return avx2Target }
    return nil
}()
let kernelSettings: [SwiftSetting] = target.map { target in
    [.unsafeFlags(["-target-cpu", target.cpu], .when(platforms: [.linux], configuration: .release))]
        + (target.requires.map { [.define($0, .when(platforms: [.linux], configuration: .release))] } ?? [])
} ?? []
/// The same target for the C kernels, whose 16-lane vector types then compile to zmm registers.
let cKernelSettings: [CSetting] = target.map { target in
    [.unsafeFlags(["-march=\(target.cpu)"], .when(platforms: [.linux], configuration: .release))]
} ?? []

let package = Package(
    name: "Sequent",
    platforms: [.macOS(.v14)],
    // MARK: - Public API
    products: [
        .library(name: "Sequent", targets: ["SequentTensor", "SequentNN", "SequentData", "SequentTrain"]),
        .executable(name: "sequent", targets: ["sequent"]),
        .executable(name: "sequent-bench", targets: ["sequent-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: - Implementation
        .systemLibrary(
            name: "CDNNL",
            pkgConfig: nil,
            providers: [.apt(["libdnnl-dev"])]
        ),
        .target(name: "CSequentKernels", cSettings: cKernelSettings),
        .target(name: "SequentTensor", dependencies: ["CDNNL", "CSequentKernels"], swiftSettings: kernelSettings),
        .target(name: "SequentNN", dependencies: ["SequentTensor"], swiftSettings: kernelSettings),
        .target(name: "SequentData", dependencies: ["SequentTensor"]),
        .target(name: "SequentTrain", dependencies: ["SequentTensor", "SequentNN", "SequentData"], swiftSettings: kernelSettings),
        .target(name: "SequentLab", dependencies: ["SequentTensor", "SequentNN", "SequentData", "SequentTrain"]),
        .executableTarget(
            name: "sequent",
            dependencies: [
                "SequentTensor", "SequentNN", "SequentData", "SequentTrain", "SequentLab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "sequent-bench",
            dependencies: [
                "SequentTensor", "SequentNN", "SequentTrain", "CDNNL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: kernelSettings
        ),

        // MARK: - Tests
        .target(name: "TestSupport", dependencies: ["SequentTensor"], path: "Tests/TestSupport"),
        .testTarget(name: "SequentTensorTests", dependencies: ["SequentTensor", "TestSupport"]),
        .testTarget(name: "SequentNNTests", dependencies: ["SequentNN", "TestSupport"]),
        .testTarget(name: "SequentDataTests", dependencies: ["SequentData", "TestSupport"]),
        .testTarget(name: "SequentTrainTests", dependencies: ["SequentTrain", "SequentNN", "TestSupport"]),
        .testTarget(name: "SequentLabTests", dependencies: ["SequentLab", "SequentTensor"]),
        .testTarget(name: "SequentCLITests", dependencies: []),
    ]
)
