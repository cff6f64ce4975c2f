// swift-tools-version:6.0
import PackageDescription

// Release builds target AVX2 + FMA (x86-64-v3, which the Swift 6.3 frontend only knows as
// "haswell"): the SIMD kernels in SequentTensor/Kernels are written for 8- and 16-lane vectors.
// oneDNN picks AVX-512 by itself at run time.
let kernelSettings: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "haswell"], .when(platforms: [.linux], configuration: .release)),
]

let package = Package(
    name: "Sequent",
    platforms: [.macOS(.v14)],
    // MARK: - Public API
    products: [
        .library(name: "Sequent", targets: ["SequentTensor", "SequentNN", "SequentTrain"]),
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
        .target(name: "SequentTensor", dependencies: ["CDNNL"], swiftSettings: kernelSettings),
        .target(name: "SequentNN", dependencies: ["SequentTensor"], swiftSettings: kernelSettings),
        .target(name: "SequentTrain", dependencies: ["SequentTensor", "SequentNN"], swiftSettings: kernelSettings),
        .target(name: "SequentLab", dependencies: ["SequentTensor", "SequentNN", "SequentTrain"]),
        .executableTarget(
            name: "sequent",
            dependencies: [
                "SequentTensor", "SequentNN", "SequentTrain", "SequentLab",
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
        .testTarget(name: "SequentTrainTests", dependencies: ["SequentTrain", "SequentNN", "TestSupport"]),
        .testTarget(name: "SequentLabTests", dependencies: ["SequentLab", "SequentTensor"]),
    ]
)
