// swift-tools-version:6.0
import PackageDescription

// One build for every x86-64 CPU, with no unsafe flags (so that other packages can depend
// on Sequent by version): the kernels that need wide vectors are compiled for several
// instruction sets in CSequentKernels and picked at run time (CPU.c), as oneDNN picks its own.

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
        .target(name: "CSequentKernels"),
        // Open MPI, dlopen()ed at run time by distributed training (no link-time dependency).
        .target(name: "CMPILoader", linkerSettings: [.linkedLibrary("dl")]),
        // Audio for `sequent speech`: libsndfile (LGPL, linked dynamically), libsamplerate and KissFFT (BSD).
        .systemLibrary(name: "CSndFile", pkgConfig: nil, providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CSampleRate", pkgConfig: nil, providers: [.apt(["libsamplerate0-dev"])]),
        .systemLibrary(name: "CKissFFT", pkgConfig: nil, providers: [.apt(["libkissfft-dev"])]),
        .target(name: "SequentTensor", dependencies: ["CDNNL", "CSequentKernels"]),
        .target(name: "SequentNN", dependencies: ["SequentTensor"]),
        .target(name: "SequentData", dependencies: ["SequentTensor", "CSndFile", "CSampleRate", "CKissFFT"]),
        .target(name: "SequentTrain", dependencies: ["SequentTensor", "SequentNN", "SequentData", "CMPILoader"]),
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
            ]
        ),

        // MARK: - Tests
        .target(name: "TestSupport", dependencies: ["SequentTensor"], path: "Tests/TestSupport"),
        .testTarget(name: "SequentTensorTests", dependencies: ["SequentTensor", "TestSupport"]),
        .testTarget(name: "SequentNNTests", dependencies: ["SequentNN", "TestSupport"]),
        .testTarget(name: "SequentDataTests", dependencies: ["SequentData", "TestSupport"]),
        .testTarget(name: "SequentTrainTests", dependencies: ["SequentTrain", "SequentNN", "TestSupport"]),
        .testTarget(name: "SequentLabTests", dependencies: ["SequentLab", "SequentTensor"]),
        .testTarget(name: "sequentTests", dependencies: ["sequent"]),
    ]
)
