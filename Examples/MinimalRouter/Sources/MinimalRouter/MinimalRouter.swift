import ConveyorMetrics
import ConveyorMetricsExporter
import ConveyorMetricsRemoteWrite
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A router that records the Conveyor metrics, serves them on `METRICS_PORT` (9090) and
/// pushes them every 15 s to `REMOTE_WRITE_URL` (a local VictoriaMetrics by default). It stops
/// gracefully on SIGTERM or SIGINT, or after `RUN_SECONDS` when that is set.
@main
struct MinimalRouter {
    static func main() async throws {
        let logger = Logger(label: "minimal-router")
        let environment = Environment()

        // The free record functions write to MetricsRegistry.default, which the exporter
        // and the writer read by default.
        MetricsRegistry.default.registerProcessMetrics()
        let exporter = MetricsExporter(port: environment.metricsPort)

        var target = RemoteWriteTargetConfiguration(url: environment.remoteWriteURL)
        target.pushInterval = .seconds(15)
        let writer = try RemoteWriter(
            configuration: RemoteWriteConfiguration(
                targets: [target], externalLabels: ["cluster": "example", "instance": "minimal-router"]))

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: Router()), .init(service: exporter), .init(service: writer),
        ]
        if let seconds = environment.runSeconds {
            services.append(
                .init(service: StopAfter(seconds: seconds), successTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// The router's work, reduced to recording what a real one would.
struct Router: Service {
    func run() async throws {
        recordRaftState(isLeader: true, term: 1)
        var tick = 0
        while !Task.isShuttingDownGracefully {
            tick += 1
            recordRecordsReceived(sourceID: "kafka-source-1", count: 100)
            recordRecordsRouted(pipelineID: "user-analytics", stageID: "filter-stage", count: 95)
            recordRecordsDelivered(sinkID: "s3-sink", count: 90)
            recordRoutingLatency(pipelineID: "user-analytics", latencyMs: Double(10 + tick % 20))
            recordBufferUtilization(stageID: "filter-stage", utilization: Double(tick % 100) / 100)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(100)) }
        }
    }
}

/// Ends the group after a fixed time (for a smoke run).
struct StopAfter: Service {
    let seconds: Int
    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(seconds)) }
    }
}

/// The settings, from the environment.
struct Environment {
    var metricsPort = 9090
    var remoteWriteURL = "http://127.0.0.1:8428/api/v1/write"
    var runSeconds: Int?

    init() {
        if let port = Self.variable("METRICS_PORT").flatMap(Int.init) { metricsPort = port }
        if let url = Self.variable("REMOTE_WRITE_URL") { remoteWriteURL = url }
        runSeconds = Self.variable("RUN_SECONDS").flatMap(Int.init)
    }

    private static func variable(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
