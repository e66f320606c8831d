// swift-tools-version:6.1
import PackageDescription

// Products by dependency weight (lightest first):
//   ConveyorMetrics              registry, series, snapshot, exposition bytes, the Conveyor metric
//                                set, the swift-metrics factory. No NIO, no C library.
//   ConveyorMetricsExporter      MetricsExporter: `/metrics` over SwiftNIO, optionally TLS
//                                (swift-nio-ssl) and basic auth (bcrypt from libcrypt).
//   ConveyorMetricsRemoteWrite   RemoteWriter: remote write 1.0 and 2.0 (protobuf-c, snappy, libcurl).
//   ConveyorMetricsTestKit       a remote-write receiver with scripted faults, the spec checker
//                                and the decoder, for users' integration tests.
//   conveyor-metrics             the CLI: demo, receive, check-config.
let package = Package(
    name: "conveyor-metrics",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ConveyorMetrics", targets: ["ConveyorMetrics"]),
        .library(name: "ConveyorMetricsExporter", targets: ["ConveyorMetricsExporter"]),
        .library(name: "ConveyorMetricsRemoteWrite", targets: ["ConveyorMetricsRemoteWrite"]),
        .library(name: "ConveyorMetricsTestKit", targets: ["ConveyorMetricsTestKit"]),
        .executable(name: "conveyor-metrics", targets: ["conveyor-metrics"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-service-context.git", from: "1.5.1"),
    ],
    targets: [
        // MARK: Core (no NIO, no C library)
        .target(
            name: "ConveyorMetrics",
            dependencies: [
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ]
        ),

        // MARK: HTTP servers' shared parts (SwiftNIO): the connection guard of the exporter and
        // the TestKit's receiver. Not a product.
        .target(
            name: "ConveyorMetricsServerSupport",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),

        // MARK: Exporter (SwiftNIO)
        .target(
            name: "ConveyorMetricsExporter",
            dependencies: [
                "ConveyorMetrics",
                "ConveyorMetricsServerSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "CCrypt",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            linkerSettings: [.linkedLibrary("crypt", .when(platforms: [.linux]))]
        ),
        // bcrypt for basic auth (crypt_r from libxcrypt; the Makefile installs libcrypt-dev).
        // Linux only: elsewhere the header is absent and basic-auth checks fail closed.
        .systemLibrary(name: "CCrypt", pkgConfig: "libcrypt", providers: [.apt(["libcrypt-dev"])]),

        // MARK: Remote write (C libraries through pkg-config; the Makefile installs the -dev packages)
        .target(
            name: "ConveyorMetricsRemoteWrite",
            dependencies: [
                "ConveyorMetrics",
                "CSnappy",
                "CRemoteWriteProto",
                "CCurlShim",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CProtobufC", pkgConfig: "libprotobuf-c", providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // protoc-c output for Proto/ (regenerate with `make proto`).
        .target(name: "CRemoteWriteProto", dependencies: ["CProtobufC"]),
        .target(name: "CCurlShim", dependencies: ["CCurl"]),
        // protoc-c output for client_model's metrics.proto (regenerate with `make proto`): no
        // product uses it; the tests decode the core's hand-written protobuf exposition with it.
        .target(name: "CClientModelProto", dependencies: ["CProtobufC"]),

        // MARK: TestKit (receiver, checker, decoder)
        .target(
            name: "ConveyorMetricsTestKit",
            dependencies: [
                "ConveyorMetrics",
                "ConveyorMetricsRemoteWrite",
                "ConveyorMetricsServerSupport",
                "CRemoteWriteProto",
                "CProtobufC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: CLI
        .target(
            name: "ConveyorMetricsCLI",
            dependencies: [
                "ConveyorMetrics",
                "ConveyorMetricsExporter",
                "ConveyorMetricsRemoteWrite",
                "ConveyorMetricsTestKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "conveyor-metrics",
            dependencies: [
                "ConveyorMetricsCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Fuzzing (`make fuzz`): the entry points, a strict exposition checker, and an
        // executable that is libFuzzer's target when built with -DFUZZING.
        .target(
            name: "ConveyorMetricsFuzzing",
            dependencies: [
                "ConveyorMetrics", "ConveyorMetricsRemoteWrite", "ConveyorMetricsTestKit", "ConveyorMetricsCLI",
            ]
        ),
        .executableTarget(name: "conveyor-metrics-fuzz", dependencies: ["ConveyorMetricsFuzzing"]),

        // MARK: Tests: one target per product, one for the CLI, one for real peers.
        .target(
            name: "ConveyorMetricsTestSupport",
            dependencies: [
                "ConveyorMetrics",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Support"
        ),
        .testTarget(
            name: "ConveyorMetricsTests",
            dependencies: [
                "ConveyorMetrics",
                "ConveyorMetricsTestSupport",
                "CClientModelProto",
                "CProtobufC",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
                .product(name: "Logging", package: "swift-log"),
            ],
        ),
        .testTarget(
            name: "ConveyorMetricsExporterTests",
            dependencies: [
                "ConveyorMetrics",
                "ConveyorMetricsExporter",
                "ConveyorMetricsTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ConveyorMetricsRemoteWriteTests",
            dependencies: [
                "ConveyorMetrics",
                "ConveyorMetricsExporter",
                "ConveyorMetricsRemoteWrite",
                "ConveyorMetricsTestKit",
                "ConveyorMetricsTestSupport",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ConveyorMetricsTestKitTests",
            dependencies: [
                "ConveyorMetrics",
                "ConveyorMetricsRemoteWrite",
                "ConveyorMetricsTestKit",
                "ConveyorMetricsTestSupport",
            ]
        ),
        .testTarget(
            name: "ConveyorMetricsCLITests",
            dependencies: [
                "ConveyorMetrics",
                "ConveyorMetricsRemoteWrite",
                "ConveyorMetricsTestKit",
                "ConveyorMetricsCLI",
                "ConveyorMetricsFuzzing",
                "ConveyorMetricsTestSupport",
            ]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "ConveyorMetrics",
                "ConveyorMetricsExporter",
                "ConveyorMetricsRemoteWrite",
                "ConveyorMetricsTestKit",
                "ConveyorMetricsCLI",
                "ConveyorMetricsTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
