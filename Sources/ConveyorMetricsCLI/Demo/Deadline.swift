import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import ConveyorMetricsTestKit
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finishes after a fixed time (so `--duration` shuts the group down gracefully).
struct Deadline: Service {
    let after: Duration
    init(after: Duration) { self.after = after }

    func run() async throws {
        // Ends early (and quietly) when the group shuts down for another reason.
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: after) }
    }
}
