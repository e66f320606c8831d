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

/// Prints one status line every `interval`: families, series, scrapes, rejected values,
/// and both ends of the push (pushes ok/failed, pending samples, last error; what the
/// embedded receiver accepted).
struct StatusReporter: Service {
    let registry: MetricsRegistry
    let exporter: MetricsExporter
    let writer: RemoteWriter
    let receiver: RemoteWriteReceiver?
    let interval: Duration

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { return }
            let snapshot = registry.snapshot()
            let rejected = RejectionReason.allCases.reduce(0) { $0 + registry.rejectedCount($1) }
            var line =
                "demo: \(snapshot.families.count) families, \(snapshot.seriesCount) series,"
                + " scrapes \(exporter.scrapeCount), rejected values \(rejected)"
            for status in writer.statuses {
                line += " | push \(status.name): ok \(status.succeededRequests), failed \(status.failedRequests),"
                line += " pending \(status.pendingSamples), last error \(status.lastError ?? "-")"
            }
            if let totals = receiver?.checker.totals {
                line += " | receiver: \(totals.acceptedRequests) requests, \(totals.samples) samples,"
                line += " \(totals.rejectedRequests) rejected"
            }
            // Written straight to the descriptor: a pipe or a log file gets each line as it
            // is printed, not when stdio's buffer fills or the process exits.
            writeLine(line)
        }
    }
}
