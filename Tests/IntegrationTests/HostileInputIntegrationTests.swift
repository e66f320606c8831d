import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// Hostile values (see ``HostileInput``) against real peers: promtool and Prometheus.
@Suite("Hostile input, real peers")
struct HostileInputIntegrationTests {
    @Test func theExpositionOfHostileValuesStaysPromtoolClean() async throws {
        let registry = MetricsRegistry()
        HostileInput.record(into: registry)
        if let findings = try await Promtool.findings(registry.exposition()) {
            #expect(findings.allSatisfy { $0.contains("_ms") }, "only the spec's own _ms names: \(findings)")
        }
    }

    @Test func hostileValuesPushedToRealPrometheusAreAccepted() async throws {
        guard let binary = ExternalTool.require("prometheus") else { return }
        let server = try await ExternalServer.prometheusReceiver(binary: binary)
        defer { server.stop() }
        let registry = MetricsRegistry()
        HostileInput.record(into: registry)
        var target = RemoteWriteTargetConfiguration(url: "http://127.0.0.1:\(server.port)/api/v1/write")
        target.name = "prometheus"
        target.pushInterval = .milliseconds(200)
        var configuration = RemoteWriteConfiguration(targets: [target])
        configuration.sendMetadata = false
        let writer = try RemoteWriter(configuration: configuration, registry: registry)
        let task = Task { try await writer.run() }
        for _ in 0..<100 where (writer.statuses.first?.succeededRequests ?? 0) < 2 {
            try await Task.sleep(for: .milliseconds(100))
        }
        let status = try #require(writer.statuses.first)
        #expect(status.succeededRequests >= 2)
        #expect(status.failedRequests == 0, "Prometheus refused: \(status.lastError ?? "-")")
        let query = "count(hostile_level)"
        let response = try await server.get("/api/v1/query?query=\(query.queryEncoded)")
        #expect(response.text.contains("\"result\":[{"), "\(response.text.prefix(300))")
        task.cancel()
        try await task.value
    }
}

/// promtool on label values that need escaping.
@Suite("Exposition, promtool")
struct ExpositionPromtoolTests {
    @Test func oddLabelValuesArePromtoolClean() async throws {
        let registry = MetricsRegistry()
        let family = registry.counterFamily(name: "odd_total", help: "Odd values", labelNames: ["v"])
        for value in [
            "quote\"inside", "back\\slash", "new\nline", "tab\there", "ünïcödé ✓ 日本", "", "{}=,", "trailing\\",
        ] {
            family.series(value).increment()
        }
        if let findings = try await Promtool.findings(registry.exposition()) {
            #expect(findings == [])
        }
    }
}
