// swift-tools-version:6.1
// A minimal Conveyor router: records the Conveyor metrics, serves /metrics and pushes them
// by remote write, under one ServiceGroup. Build it with `make examples`, run it with
// `swift run MinimalRouter` (set REMOTE_WRITE_URL to push somewhere else).
import PackageDescription

import struct Foundation.URL

// In your own package: .package(url: "https://github.com/conveyor/conveyor-metrics.git", from: "0.1.0")
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().deletingLastPathComponent()
let conveyorMetrics = root.lastPathComponent.lowercased()

let package = Package(
    name: "minimal-router",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: root.path),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(
            name: "MinimalRouter",
            dependencies: [
                .product(name: "ConveyorMetrics", package: conveyorMetrics),
                .product(name: "ConveyorMetricsExporter", package: conveyorMetrics),
                .product(name: "ConveyorMetricsRemoteWrite", package: conveyorMetrics),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
