// swift-tools-version:6.1
// A consumer that depends only on the `ConveyorMetrics` core product. `make test-core-only`
// builds it with pkg-config unable to find any library and checks that no C target (snappy,
// protobuf-c, libcurl) and no SwiftNIO module was compiled.
import PackageDescription

import struct Foundation.URL

// A path dependency's identity is its folder's name (lowercased), whatever the clone is called.
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

let package = Package(
    name: "core-only-consumer",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: root.path)],
    targets: [
        .executableTarget(
            name: "CoreOnlyConsumer",
            dependencies: [.product(name: "ConveyorMetrics", package: root.lastPathComponent.lowercased())]
        )
    ],
    swiftLanguageModes: [.v6]
)
