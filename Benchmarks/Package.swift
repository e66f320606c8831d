// swift-tools-version:6.1
// Benchmarks live in their own package so the main build stays lean.
// Run with `make bench` from the repository root.
import PackageDescription

import struct Foundation.URL

// A path dependency's identity is its folder's name (lowercased), whatever the clone is called.
let rootIdentity = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent
    .lowercased()

let package = Package(
    name: "conveyor-metrics-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .target(
            name: "BenchmarkFixtures",
            dependencies: [
                .product(name: "ConveyorMetrics", package: rootIdentity),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/BenchmarkFixtures"
        ),
        .executableTarget(
            name: "ConveyorBenchmarks",
            dependencies: [
                "BenchmarkFixtures",
                .product(name: "ConveyorMetrics", package: rootIdentity),
                .product(name: "ConveyorMetricsRemoteWrite", package: rootIdentity),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Benchmarks/ConveyorBenchmarks",
            swiftSettings: [.unsafeFlags(["-Ounchecked"])],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "InstructionProbe",
            dependencies: [
                "BenchmarkFixtures",
                .product(name: "ConveyorMetrics", package: rootIdentity),
                .product(name: "ConveyorMetricsRemoteWrite", package: rootIdentity),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/InstructionProbe",
            swiftSettings: [.unsafeFlags(["-Ounchecked"])]
        ),
        .executableTarget(
            name: "ResidentMemoryProbe",
            dependencies: [.product(name: "ConveyorMetrics", package: rootIdentity)],
            path: "Sources/ResidentMemoryProbe"
        ),
        // The router of `make bench-push` (bench_push.py): 13,400 series under a fixed update
        // load, pushed by a RemoteWriter (--push, --disk) or served for a scraper (--serve).
        .executableTarget(
            name: "PushBenchRouter",
            dependencies: [
                .product(name: "ConveyorMetrics", package: rootIdentity),
                .product(name: "ConveyorMetricsExporter", package: rootIdentity),
                .product(name: "ConveyorMetricsRemoteWrite", package: rootIdentity),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/PushBenchRouter"
        ),
        // The receiver side of bench-push's order check: the forwarded bodies, decoded in order.
        .executableTarget(
            name: "PushOrderCheck",
            dependencies: [.product(name: "ConveyorMetricsTestKit", package: rootIdentity)],
            path: "Sources/PushOrderCheck"
        ),
    ]
)
