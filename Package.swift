// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "conveyor-metrics",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ConveyorMetrics", targets: ["ConveyorMetrics"]),
        .executable(name: "conveyor-metrics", targets: ["conveyor-metrics"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        .target(
            name: "ConveyorMetrics",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "CSnappy",
                "CRemoteWriteProto",
                "CCurlShim",
            ]
        ),
        // C libraries through pkg-config (the Makefile installs the -dev packages).
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CProtobufC", pkgConfig: "libprotobuf-c", providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // protoc-c output for Proto/ (regenerate with `make proto`).
        .target(name: "CRemoteWriteProto", dependencies: ["CProtobufC"]),
        .target(name: "CCurlShim", dependencies: ["CCurl"]),
        .target(
            name: "ConveyorMetricsCLI",
            dependencies: [
                "ConveyorMetrics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Fuzz harnesses (`make fuzz`): the entry points and a strict exposition checker,
        // and an executable that is libFuzzer's target when built with -DFUZZING.
        .target(name: "ConveyorMetricsFuzzing", dependencies: ["ConveyorMetrics", "ConveyorMetricsCLI"]),
        .executableTarget(name: "conveyor-metrics-fuzz", dependencies: ["ConveyorMetricsFuzzing"]),
        .executableTarget(
            name: "conveyor-metrics",
            dependencies: [
                "ConveyorMetricsCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "ConveyorMetricsTests",
            dependencies: [
                "ConveyorMetrics",
                "ConveyorMetricsCLI",
                "ConveyorMetricsFuzzing",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
