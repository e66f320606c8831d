import ConveyorMetricsTestSupport
import Foundation
import Logging
import Metrics
import ServiceContextModule
import ServiceLifecycle
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsExporter
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

/// Every Swift block of README.md stands in this file, so the test build compiles it; the
/// test below fails when a README block is not found here verbatim.
@Suite("README")
struct ReadmeExamplesTests {
    @Test func everySwiftBlockOfTheReadmeIsCompiledHere() throws {
        let readme = try String(contentsOf: PackagePaths.file("README.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let sourceLines = source.split(separator: "\n", omittingEmptySubsequences: false).map(Self.normalized)
        let blocks = readme.components(separatedBy: "```swift\n").dropFirst().compactMap {
            $0.components(separatedBy: "```").first
        }
        #expect(blocks.count >= 7)
        for block in blocks where !block.contains(".package(url:") {
            let lines = block.split(separator: "\n").map(Self.normalized).filter {
                !$0.isEmpty && !$0.hasPrefix("import ")
            }
            let found = sourceLines.indices.contains { start in
                var index = start
                for line in lines {
                    while index < sourceLines.count && sourceLines[index].isEmpty { index += 1 }
                    guard index < sourceLines.count, sourceLines[index] == line else { return false }
                    index += 1
                }
                return true
            }
            #expect(found, "README block not compiled by this file:\n\(block)")
        }
    }

    private static func normalized<S: StringProtocol>(_ line: S) -> String {
        line.trimmingCharacters(in: .whitespaces)
    }

    @Test func recordingExampleRecordsIntoTheDefaultRegistry() {
        // Record incoming records
        recordRecordsReceived(sourceID: "kafka-source-1", count: 100)

        // Record routing through pipeline
        recordRecordsRouted(pipelineID: "user-analytics", stageID: "filter-stage", count: 95)

        // Record latency
        recordRoutingLatency(pipelineID: "user-analytics", latencyMs: 15.5)

        // Record buffer state
        recordBufferUtilization(stageID: "filter-stage", utilization: 0.45)

        // Record Raft state
        recordRaftState(isLeader: true, term: 42)  // isLeader, term

        let snapshot = MetricsRegistry.default.snapshot()
        #expect(snapshot.family(named: "conveyor_router_raft_term")?.series.first?.value == .gauge(42))
    }

    @Test func instanceExample() {
        let registry = MetricsRegistry()
        let metrics = ConveyorRouterMetrics(registry: registry, latencyBucketsMs: [1, 5, 10, 50, 100])
        metrics.recordRecordsDelivered(sinkID: "s3-sink", count: 90)
        let snapshot = registry.snapshot()

        #expect(snapshot.family(named: "conveyor_router_records_delivered_total")?.series.first?.value == .counter(90))
        let jobs = registry.counterFamily(name: "jobs_total", help: "Jobs run", labelNames: ["queue"])
        jobs.series("emails").increment()
        let depth = registry.gaugeFamily(name: "queue_depth", help: "Jobs waiting", labelNames: ["queue"])
        depth.series("emails").set(12)
        #expect(registry.snapshot().family(named: "queue_depth")?.series.first?.value == .gauge(12))
    }

    @Test func nativeHistogramExample() {
        let registry = MetricsRegistry()
        let latency = registry.histogramFamily(
            name: "request_ms", help: "Request latency", labelNames: ["route"], buckets: [1, 10, 100],
            native: NativeHistogramOptions(bucketFactor: 1.1, maxBucketCount: 160, keepClassicBuckets: true))
        latency.series("/orders").observe(12.5)

        guard case .histogram(let value) = registry.snapshot().family(named: "request_ms")?.series.first?.value else {
            Issue.record("no histogram")
            return
        }
        #expect(value.native?.schema == 3 && value.native?.count == 1 && value.cumulativeCounts == [0, 0, 1, 1])
    }

    @Test func exemplarsExample() {
        let registry = MetricsRegistry()
        let jobs = registry.counterFamily(name: "jobs_total", help: "Jobs run", labelNames: ["queue"])
        let requests = registry.histogramFamily(name: "request_seconds", help: "Latency", buckets: [0.1, 0.5, 1])
        requests.series().observe(0.42, exemplar: Exemplar(["trace_id": "4bf92f3577b34da6"]))
        jobs.series("emails").increment(by: 1, exemplar: Exemplar(["trace_id": "4bf92f3577b34da6"]))
        recordRoutingLatency(
            pipelineID: "user-analytics", latencyMs: 15.5, exemplar: Exemplar(["trace_id": "4bf92f3577b34da6"]))
        #expect(registry.exposition(format: .openMetrics).contains("# {trace_id=\"4bf92f3577b34da6\"} 0.42 "))

        var configuration = MetricsRegistry.Configuration()
        configuration.exemplarProvider = .serviceContext
        let traced = MetricsRegistry(configuration: configuration)
        var context = ServiceContext.topLevel
        context.exemplarTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        context.exemplarSpanID = "00f067aa0ba902b7"
        ServiceContext.withValue(context) {
            traced.counterFamily(name: "jobs_total", help: "Jobs").series().increment()  // # {trace_id=…,span_id=…} 1
        }
        #expect(traced.exposition(format: .openMetrics).contains("span_id=\"00f067aa0ba902b7\"} 1 "))
    }

    /// Compiled, not run: binds port 9090 and bootstraps the process-wide MetricsSystem.
    func exportingExample(logger: Logger) async throws {
        let exporter = MetricsExporter(port: 9090)
        try await exporter.start()

        // Metrics available at http://localhost:9090/metrics
        let group = ServiceGroup(services: [exporter], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    /// Compiled, not run: the files do not exist here (ExporterTLSTests start it with real ones).
    func tlsAndBasicAuthExample() async throws {
        var configuration = MetricsExporter.Configuration(host: "0.0.0.0", port: 9090)
        var tls = MetricsExporter.TLSSettings(
            certificateFile: "/etc/conveyor/server.pem", privateKeyFile: "/etc/conveyor/server-key.pem")
        tls.clientCAFile = "/etc/conveyor/scrapers-ca.pem"  // mutual TLS
        tls.clientAuth = .requireAndVerifyClientCert
        configuration.tls = tls
        // user -> bcrypt hash, as `htpasswd -nBC 10 prometheus` prints it
        configuration.basicAuthUsers = ["prometheus": "$2y$10$ZihjeECVuwy8MS4cflI/jeJU3sFcronddjh3ZdTvPw9g9IqUr0zcS"]
        let secured = MetricsExporter(configuration: configuration)
        try await secured.start()  // throws ConfigurationError naming a file it cannot use
    }

    /// Compiled, not run: pushes to a placeholder URL until SIGTERM.
    func pushingExample(exporter: MetricsExporter, logger: Logger) async throws {
        var target = RemoteWriteTargetConfiguration(url: "https://metrics.example/api/v1/write")
        target.headers = ["X-Scope-OrgID": "tenant-a"]
        target.pushInterval = .seconds(15)
        let writer = try RemoteWriter(
            configuration: RemoteWriteConfiguration(
                targets: [target], externalLabels: ["cluster": "edge-eu-1", "instance": "router-7"]))
        let services = ServiceGroup(services: [exporter, writer], gracefulShutdownSignals: [.sigterm], logger: logger)
        try await services.run()
    }

    @Test func diskQueueExample() throws {
        var target = RemoteWriteTargetConfiguration(url: "http://127.0.0.1:9/api/v1/write")
        target.queue.storagePath = "/var/lib/conveyor/remote-write"  // a subdirectory per target
        target.queue.maxDiskBytes = 1 << 30  // default 1 GiB
        target.queue.sampleAgeLimit = .seconds(6 * 3600)  // optional
        try RemoteWriteConfiguration(targets: [target]).validate()
        #expect(target.queue.maxDiskBytes == 1 << 30)
    }

    @Test func processMetricsExample() {
        MetricsRegistry.default.registerProcessMetrics()

        #expect(MetricsRegistry.default.snapshot().family(named: "process_resident_memory_bytes") != nil)
    }

    @Test func testKitExample() async throws {
        // Two 503s, then accept: the writer retries and nothing is lost.
        let receiver = RemoteWriteReceiver(script: { index in index < 2 ? .respond(status: 503) : .accept })
        try await receiver.start()
        var target = RemoteWriteTargetConfiguration(url: receiver.url)
        target.pushInterval = .milliseconds(100)
        let registry = MetricsRegistry()
        let jobs = registry.counterFamily(name: "jobs_total", help: "Jobs run", labelNames: ["queue"])
        jobs.series("emails").increment()
        let writer = try RemoteWriter(configuration: RemoteWriteConfiguration(targets: [target]), registry: registry)
        let pushing = Task { try await writer.run() }
        let arrived = try await receiver.waitUntil(timeout: .seconds(30)) {
            $0.latestValue(of: "jobs_total", labels: ["queue": "emails"]) == 1
        }
        pushing.cancel()
        await receiver.shutdown()

        try await pushing.value
        #expect(arrived)
        #expect(receiver.requests.filter { $0.status == 503 }.count == 2)
    }

    /// Compiled, not run here: bootstrap happens once per process (see MetricsBootstrapTests).
    func swiftMetricsExample() {
        MetricsSystem.bootstrap(MetricsRegistry.default)
        Counter(label: "http.requests", dimensions: [("method", "GET")]).increment()
        // exported as http_requests_total{method="GET"} 1
    }
}
