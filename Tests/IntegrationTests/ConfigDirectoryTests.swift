import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsCLI

/// The files in config/ are checked by the real promtool.
@Suite("config/ directory")
struct ConfigDirectoryTests {
    private func promtool(_ arguments: [String]) async throws -> ExternalTool.Result? {
        guard let promtool = ExternalTool.require("promtool") else { return nil }
        return try await ExternalTool.run(promtool, arguments)
    }

    @Test func prometheusConfigIsValid() async throws {
        guard let result = try await promtool(["check", "config", PackagePaths.file("config/prometheus.yml").path])
        else {
            return
        }
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("conveyor") || result.output.contains("SUCCESS"))
    }

    /// `promtool check web-config` reads the certificate and key files the example names
    /// (relative to the file), so the example is copied next to files of the same names made
    /// by openssl. promtool and conveyor-metrics (the web config alone, and `check-config` of a
    /// main file that names it) must both accept it, and agree on what it enables.
    @Test func webConfigExampleIsValidForPromtoolAndForUs() async throws {
        guard let openssl = ExternalTool.require("openssl") else { return }
        let pki = try await TestCertificates.make(openssl: openssl)
        defer { pki.remove() }
        let web = pki.path("web-config.yml")
        try FileManager.default.copyItem(atPath: PackagePaths.file("config/web-config.yml").path, toPath: web)
        if let result = try await promtool(["check", "web-config", web]) {
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("SUCCESS"), "\(result.output)")
        }
        let config = try WebConfig.load(path: web)
        #expect(config.tls?.clientAuth == .requireAndVerifyClientCert)
        #expect(config.tls?.certificateFile == pki.serverCertificateFile)
        #expect(config.basicAuthUsers.keys.sorted() == ["prometheus"])
        let main = pki.path("conveyor-metrics.yml")
        try "exporter:\n  listen: 127.0.0.1:9090\n  web_config_file: web-config.yml\n".write(
            toFile: main, atomically: true, encoding: .utf8)
        let check = try await ExternalTool.run(PackagePaths.executable.path, ["check-config", main])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("TLS (client auth RequireAndVerifyClientCert), basic auth (1 user)"))
        // Without the key file both refuse it, and ours names the key, its line and the path.
        try FileManager.default.removeItem(atPath: pki.serverKeyFile)
        if let result = try await promtool(["check", "web-config", web]) { #expect(result.status != 0) }
        let broken = try await ExternalTool.run(PackagePaths.executable.path, ["check-config", main])
        #expect(broken.status != 0)
        #expect(
            broken.output.contains("\(web):24:3: tls_server_config.key_file: \(pki.serverKeyFile)"), "\(broken.output)")
        #expect(!broken.output.contains("$2y$"), "no hash in the output")
    }

    @Test func scrapeJobIsTheSpecsJob() throws {
        let text = try String(contentsOf: PackagePaths.file("config/prometheus.yml"), encoding: .utf8)
        #expect(text.contains("job_name: 'conveyor-router'"))
        #expect(text.contains("['conveyor-router-0:9090', 'conveyor-router-1:9090', 'conveyor-router-2:9090']"))
    }

    @Test func alertRulesAreValidAndTheirUnitTestsPass() async throws {
        guard let check = try await promtool(["check", "rules", PackagePaths.file("config/alerts.yml").path]) else {
            return
        }
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("SUCCESS: 6 rules found"))
        guard let test = try await promtool(["test", "rules", PackagePaths.file("config/alerts_test.yml").path]) else {
            return
        }
        #expect(test.status == 0, "\(test.output)")
    }

    @Test func dashboardQueriesAreValidPromQLAndCoverEveryMetric() async throws {
        let data = try Data(contentsOf: PackagePaths.file("config/grafana/conveyor-router.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let expressions = panels.flatMap { panel in
            (panel["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String }
        }
        let seedQueries = [
            "rate(conveyor_router_records_received_total[1m])",
            "histogram_quantile(0.99, rate(conveyor_router_routing_latency_ms_bucket[5m]))",
            "conveyor_router_buffer_utilization",
            "changes(conveyor_router_raft_is_leader[1h])",
        ]
        // As the spec writes them, or (the latency) followed by `or` the native histogram's form.
        for query in seedQueries {
            #expect(expressions.contains { $0 == query || $0.hasPrefix(query + " or ") }, "the spec's query \(query)")
        }
        #expect(MetricSetSpec.names.count == 12, "the spec fixture lists twelve metrics")
        for metric in MetricSetSpec.names {
            #expect(expressions.contains { $0.contains(metric) }, "a panel for \(metric)")
        }
        // PromQL syntax: let promtool parse every expression as a recording rule.
        var rules = "groups:\n  - name: dashboard\n    rules:\n"
        for (index, expression) in expressions.enumerated() {
            rules +=
                "      - record: dashboard:expr_\(index)\n        expr: '\(expression.replacingOccurrences(of: "'", with: "''"))'\n"
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dashboard-rules-\(UUID().uuidString).yml")
        try rules.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        guard let result = try await promtool(["check", "rules", file.path]) else { return }
        #expect(result.status == 0, "\(result.output)")
    }
}
