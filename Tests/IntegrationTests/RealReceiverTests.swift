import ConveyorMetricsTestSupport
import Foundation
import Synchronization
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsCLI
@testable import ConveyorMetricsRemoteWrite

/// The demo pushes to real Prometheus 2.42 and VictoriaMetrics 1.79 (Debian's packages,
/// installed by `make test`); with CI=true a missing binary fails.
@Suite("Real receivers", .serialized)
struct RealReceiverTests {
    /// Runs the demo for `seconds`, pushing every 500 ms to `url`.
    private func pushDemo(to url: String, seconds: Double) async throws {
        var runner = DemoRunner(
            listen: ListenAddress(host: "127.0.0.1", port: 0), duration: .milliseconds(Int64(seconds * 1000)),
            statusInterval: .seconds(60), handleSignals: false)
        var target = RemoteWriteTargetConfiguration(url: url)
        target.pushInterval = .milliseconds(500)
        runner.push = RemoteWriteConfiguration(
            targets: [target], externalLabels: ["instance": "router-test", "cluster": "ci"])
        try await runner.run()
    }

    @Test func everyReadmeQueryReturnsDataFromPrometheus() async throws {
        guard let binary = ExternalTool.require("prometheus") else { return }
        let server = try await ExternalServer.prometheusReceiver(binary: binary)
        defer { server.stop() }
        // Query while the demo still pushes: its graceful shutdown ends every series with a stale marker.
        async let demo: Void = pushDemo(to: "http://127.0.0.1:\(server.port)/api/v1/write", seconds: 14)
        try await Task.sleep(for: .seconds(3))

        let readme = try String(contentsOf: PackagePaths.file("README.md"), encoding: .utf8)
        let block = try #require(
            readme.components(separatedBy: "```promql\n").dropFirst().first?.components(separatedBy: "```").first)
        let queries = block.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(queries.count == 4)
        for query in queries {
            // A loaded machine may have pushed too few samples for a rate yet: ask again for
            // up to 8 s while the demo pushes.
            var response = try await server.get("/api/v1/query?query=\(query.queryEncoded)")
            var result: [[String: Any]] = []
            for attempt in 0..<16 {
                if attempt > 0 {
                    try await Task.sleep(for: .milliseconds(500))
                    response = try await server.get("/api/v1/query?query=\(query.queryEncoded)")
                }
                let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
                result = (json?["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
                if !result.isEmpty { break }
            }
            #expect(response.status == 200, "\(query): \(response.text)")
            #expect(!result.isEmpty, "\(query) returned no data: \(response.text.prefix(300))")
        }
        // Every family of the set arrived, with the external labels.
        #expect(MetricSetSpec.names.count == 12, "the spec fixture lists twelve metrics")
        for name in MetricSetSpec.names {
            let selector = name.hasSuffix("_ms") ? name + "_count" : name
            let response = try await server.get(
                "/api/v1/query?query=\("\(selector){instance=\"router-test\",cluster=\"ci\"}".queryEncoded)")
            #expect(response.text.contains("\"result\":[{"), "\(name): \(response.text.prefix(200))")
        }
        try await demo
        // After the demo stopped, its series are stale: an instant query now finds nothing.
        let stale = try await server.get("/api/v1/query?query=\("conveyor_router_raft_term".queryEncoded)")
        #expect(stale.text.contains("\"result\":[]"), "stale markers ended the series: \(stale.text.prefix(300))")
    }

    @Test func pushedSeriesReadBackFromVictoriaMetrics() async throws {
        guard let binary = ExternalTool.require("victoria-metrics") else { return }
        let server = try await ExternalServer(binary: binary, readyPath: "/health") { port, directory in
            ["-storageDataPath=\(directory.path)", "-httpListenAddr=127.0.0.1:\(port)", "-loggerLevel=ERROR"]
        }
        defer { server.stop() }
        try await pushDemo(to: "http://127.0.0.1:\(server.port)/api/v1/write", seconds: 3)
        _ = try await server.get("/internal/force_flush")
        let response = try await server.get(
            "/api/v1/export?\("match[]".queryEncoded)=\("{__name__=~\"conveyor_router_.*\"}".queryEncoded)")
        #expect(response.status == 200)
        var names = Set<String>()
        var bucketLabels = Set<String>()
        for line in response.text.split(separator: "\n") {
            guard let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let metric = json["metric"] as? [String: String], let values = json["values"] as? [Any]
            else { continue }
            names.insert(metric["__name__"] ?? "")
            if let le = metric["le"] { bucketLabels.insert(le) }
            #expect(metric["instance"] == "router-test")
            #expect(!values.isEmpty)
        }
        #expect(MetricSetSpec.names.count == 12, "the spec fixture lists twelve metrics")
        for name in MetricSetSpec.names {
            let expected = name.hasSuffix("_ms") ? [name + "_bucket", name + "_sum", name + "_count"] : [name]
            for series in expected { #expect(names.contains(series), "\(series) in VictoriaMetrics") }
        }
        #expect(bucketLabels.isSuperset(of: ["0.5", "1", "2.5", "10000", "+Inf"]))
    }
}
