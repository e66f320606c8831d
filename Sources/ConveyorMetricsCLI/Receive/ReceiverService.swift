import ArgumentParser
import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit
import Foundation
import Logging
import ServiceLifecycle

/// Keeps the receiver open until graceful shutdown.
struct ReceiverService: Service {
    let receiver: RemoteWriteReceiver

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(100_000_000)) }
    }
}
