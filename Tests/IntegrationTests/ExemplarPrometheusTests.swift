import ConveyorMetricsTestSupport
import Foundation
import Logging
import ServiceContextModule
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsExporter
@testable import ConveyorMetricsRemoteWrite

/// Exemplars read back from a real Prometheus 2.42 with `--enable-feature=exemplar-storage`
/// through `/api/v1/query_exemplars`: (a) scraped from a `MetricsExporter` over OpenMetrics,
/// (b) pushed with `send_exemplars`. Trace ids come from a `ServiceContext` through the
/// registry's provider (counter) and are passed by hand (histogram buckets). With CI=true a
/// missing binary fails.
@Suite("Exemplars with Prometheus 2.42", .serialized)
struct ExemplarPrometheusTests {
    /// A registry whose provider reads the ServiceContext, with a counter and a latency
    /// histogram carrying known trace ids.
    static func registry(prefix: String) -> MetricsRegistry {
        var configuration = MetricsRegistry.Configuration()
        configuration.exemplarProvider = .serviceContext
        let registry = MetricsRegistry(configuration: configuration)
        let jobs = registry.counterFamily(name: "\(prefix)_jobs_total", help: "Jobs", labelNames: ["queue"])
        var context = ServiceContext.topLevel
        context.exemplarTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        context.exemplarSpanID = "00f067aa0ba902b7"
        ServiceContext.withValue(context) {
            jobs.series("mail").increment(by: 3 as UInt64)
        }
        let latency = registry.histogramFamily(name: "\(prefix)_latency_seconds", help: "Latency", buckets: [0.1, 1])
        latency.series().observe(0.05, exemplar: Exemplar(["trace_id": "fast0001"]))
        latency.series().observe(0.5, exemplar: Exemplar(["trace_id": "slow0002"]))
        latency.series().observe(0.7)
        return registry
    }

    /// Each exemplar of `query` in the last hour as (series `__name__`/`le`, trace id, value).
    static func exemplars(_ server: ExternalServer, _ query: String) async throws -> [String] {
        let now = Double(WallClock.unixMilliseconds()) / 1000
        let response = try await server.get(
            "/api/v1/query_exemplars?query=\(query.queryEncoded)&start=\(now - 3600)&end=\(now + 3600)")
        guard response.status == 200,
            let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let data = json["data"] as? [[String: Any]]
        else { throw TestFailure("query_exemplars \(query): HTTP \(response.status): \(response.text.prefix(300))") }
        var found: [String] = []
        for series in data {
            let labels = series["seriesLabels"] as? [String: String] ?? [:]
            for exemplar in series["exemplars"] as? [[String: Any]] ?? [] {
                let exemplarLabels = exemplar["labels"] as? [String: String] ?? [:]
                let le = labels["le"].map { "{le=\($0)}" } ?? ""
                found.append(
                    "\(labels["__name__"] ?? "?")\(le) \(exemplarLabels["trace_id"] ?? "-")"
                        + (exemplarLabels["span_id"].map { "/\($0)" } ?? "") + " \(exemplar["value"] as? String ?? "?")"
                )
            }
        }
        return found.sorted()
    }

    /// Polls `query_exemplars` until `expected` many are there (or 30 s pass).
    static func poll(_ server: ExternalServer, _ query: String, expected: Int) async throws -> [String] {
        let end = ContinuousClock.now + .seconds(30)
        while true {
            let found = try await exemplars(server, query)
            if found.count >= expected || ContinuousClock.now > end { return found }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    @Test func prometheusScrapesExemplarsOverOpenMetrics() async throws {
        guard let binary = ExternalTool.require("prometheus") else { return }
        let registry = Self.registry(prefix: "scraped")
        let exporter = MetricsExporter(
            configuration: MetricsExporter.Configuration(host: "127.0.0.1", port: 0), registry: registry)
        try await exporter.start()
        var server: ExternalServer?
        do {
            let exporterPort = try #require(exporter.boundPort)
            let prometheus = try await ExternalServer.prometheusScraping(
                binary: binary, targetPort: exporterPort, job: "exemplars", features: ["exemplar-storage"])
            server = prometheus
            let counter = try await Self.poll(prometheus, "scraped_jobs_total", expected: 1)
            #expect(counter == ["scraped_jobs_total 4bf92f3577b34da6a3ce929d0e0e4736/00f067aa0ba902b7 3"])
            let buckets = try await Self.poll(prometheus, "scraped_latency_seconds_bucket", expected: 2)
            #expect(
                buckets == [
                    "scraped_latency_seconds_bucket{le=0.1} fast0001 0.05",
                    "scraped_latency_seconds_bucket{le=1} slow0002 0.5",
                ])
            // The OpenMetrics text parsed: the scrape is up and the values are in.
            #expect(try await ProtobufExpositionPrometheusTests.value(prometheus, "up{job=\"exemplars\"}") == 1)
            #expect(try await ProtobufExpositionPrometheusTests.value(prometheus, "scraped_jobs_total") == 3)
            print("ℹ️  scraped exemplars: \(counter + buckets)")
        } catch {
            server?.stop()
            await exporter.shutdown()
            throw error
        }
        server?.stop()
        await exporter.shutdown()
    }

    /// Prometheus text 0.0.4 carries no exemplars and stays promtool-clean with them recorded
    /// (promtool 2.42 reads only that format: the OpenMetrics text is checked by the scrape).
    @Test func prometheusTextWithExemplarsRecordedIsPromtoolClean() async throws {
        let text = Self.registry(prefix: "linted").exposition(format: .prometheusText)
        #expect(!text.contains("trace_id"))
        if let findings = try await Promtool.findings(text) { #expect(findings == [], "\(text)") }
    }

    @Test func prometheusReceivesPushedExemplars() async throws {
        guard let binary = ExternalTool.require("prometheus") else { return }
        let server = try await ExternalServer.prometheusReceiver(binary: binary, features: ["exemplar-storage"])
        defer { server.stop() }
        let registry = Self.registry(prefix: "pushed")
        var target = RemoteWriteTargetConfiguration(url: "http://127.0.0.1:\(server.port)/api/v1/write")
        target.name = "exemplars"
        target.pushInterval = .seconds(1)
        target.sendExemplars = true
        let writer = try RemoteWriter(
            configuration: RemoteWriteConfiguration(targets: [target], externalLabels: ["instance": "exemplars"]),
            registry: registry, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task { try await writer.run() }
        try await Task.sleep(for: .milliseconds(2300))
        task.cancel()
        try await task.value
        let counter = try await Self.poll(server, "pushed_jobs_total", expected: 1)
        #expect(counter == ["pushed_jobs_total 4bf92f3577b34da6a3ce929d0e0e4736/00f067aa0ba902b7 3"])
        let buckets = try await Self.poll(server, "pushed_latency_seconds_bucket", expected: 2)
        #expect(
            buckets
                == [
                    "pushed_latency_seconds_bucket{le=1} slow0002 0.5",
                    "pushed_latency_seconds_bucket{le=0.1} fast0001 0.05",
                ].sorted())
        print("ℹ️  pushed exemplars: \(counter + buckets)")
    }
}
