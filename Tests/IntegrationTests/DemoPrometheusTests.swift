import ConveyorMetricsTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsCLI
@testable import ConveyorMetricsRemoteWrite

/// The demo as the issue promises it: scraped by a real Prometheus 2.42 with
/// `--enable-feature=native-histograms,exemplar-storage` and no further set-up, every panel
/// of the Grafana dashboard, the alert rules' latency expression and the README's latency
/// query have data, the routing latency is a native histogram, and its exemplars come back
/// with their trace ids (with CI=true a missing binary fails).
///
/// A Prometheus before 2.45 with native histograms enabled ingests only the native
/// representation of a histogram that has both (`scrape_classic_histograms` came in 2.45):
/// a query of `_bucket` alone would be empty here, which is why the latency queries read
/// the native series when the classic one is missing.
@Suite("Demo with Prometheus", .serialized)
struct DemoPrometheusTests {
    @Test func everyDashboardPanelHasDataWhenPrometheusScrapesNativeHistogramsAndExemplars() async throws {
        guard let binary = ExternalTool.require("prometheus") else { return }
        let port = Atomic<Int>(0)
        let runner = DemoRunner(
            listen: ListenAddress(host: "127.0.0.1", port: 0), duration: .seconds(240), statusInterval: .seconds(60),
            handleSignals: false)
        let demo = Task {
            try await runner.run(
                registry: MetricsRegistry(), logger: Logger(label: "demo", factory: { _ in SwiftLogNoOpLogHandler() }),
                onListening: { port.store($0, ordering: .relaxed) })
        }
        var server: ExternalServer?
        defer {
            server?.stop()
            demo.cancel()
        }
        let listening = ContinuousClock.now + .seconds(30)
        while port.load(ordering: .relaxed) == 0 && ContinuousClock.now < listening {
            try await Task.sleep(for: .milliseconds(20))
        }
        let demoPort = port.load(ordering: .relaxed)
        try #require(demoPort != 0, "the demo listens")
        let prometheus = try await ExternalServer.prometheusScraping(
            binary: binary, targetPort: demoPort, job: "demo", features: ["native-histograms", "exemplar-storage"])
        server = prometheus

        // The native series is there, and the classic `_bucket` series is not (see above).
        let count = try await ProtobufExpositionPrometheusTests.poll(
            prometheus, "sum(histogram_count(conveyor_router_routing_latency_ms))", deadline: .seconds(60))
        #expect(count > 0, "the routing latency arrives as a native histogram")
        #expect(
            try await ProtobufExpositionPrometheusTests.values(prometheus, "conveyor_router_routing_latency_ms_bucket")
                .isEmpty)

        let expressions = try Self.dashboardExpressions() + [Self.alertLatencyExpression(), Self.readmeLatencyQuery()]
        #expect(expressions.count >= 16, "the dashboard's panels, the alert and the README query: \(expressions.count)")
        var empty: [String] = []
        for expression in expressions {
            if try await Self.values(prometheus, expression).isEmpty { empty.append(expression) }
        }
        #expect(empty == [], "queries with no data")

        // The latency panels' exemplars, as Grafana asks for them (the panel's expression).
        let latencyPanels = try Self.dashboardExpressions().filter { $0.contains("routing_latency") }
        #expect(!latencyPanels.isEmpty)
        for expression in latencyPanels {
            let exemplars = try await ExemplarPrometheusTests.poll(prometheus, expression, expected: 1)
            #expect(!exemplars.isEmpty, "exemplars for \(expression)")
            #expect(
                exemplars.allSatisfy { $0.split(separator: " ").dropFirst().first.map { $0.count == 32 } ?? false },
                "every exemplar carries a 32-digit trace id: \(exemplars.prefix(3))")
        }
    }

    /// The demo pushing with `send_native_histograms` and `send_exemplars` to a Prometheus
    /// with both feature flags: the routing latency arrives as a native histogram (and its
    /// classic buckets), every latency panel has data, and the exemplars come back.
    @Test func theDemoPushingWithBothKeysShowsNativeHistogramsAndExemplars() async throws {
        guard let binary = ExternalTool.require("prometheus") else { return }
        let server = try await ExternalServer.prometheusReceiver(
            binary: binary, features: ["native-histograms", "exemplar-storage"])
        defer { server.stop() }
        var target = RemoteWriteTargetConfiguration(url: "http://127.0.0.1:\(server.port)/api/v1/write")
        target.name = "prometheus"
        target.pushInterval = .seconds(1)
        target.sendNativeHistograms = true
        target.sendExemplars = true
        var runner = DemoRunner(
            listen: ListenAddress(host: "127.0.0.1", port: 0), duration: .seconds(240), statusInterval: .seconds(60),
            handleSignals: false)
        runner.push = RemoteWriteConfiguration(targets: [target])
        let demo = Task {
            try await runner.run(
                registry: MetricsRegistry(), logger: Logger(label: "demo", factory: { _ in SwiftLogNoOpLogHandler() }))
        }
        defer { demo.cancel() }

        let count = try await ProtobufExpositionPrometheusTests.poll(
            server, "sum(histogram_count(conveyor_router_routing_latency_ms))", deadline: .seconds(60))
        #expect(count > 0, "the routing latency arrives as a native histogram")
        let latencyPanels = try Self.dashboardExpressions().filter { $0.contains("routing_latency") }
        #expect(!latencyPanels.isEmpty)
        for expression in latencyPanels {
            #expect(try await !Self.values(server, expression).isEmpty, "data for \(expression)")
            let exemplars = try await ExemplarPrometheusTests.poll(server, expression, expected: 1)
            #expect(!exemplars.isEmpty, "exemplars for \(expression)")
        }
    }

    /// The values of `expression`, asked again for up to 30 s while there are none (a rate
    /// needs two scrapes or pushes).
    static func values(_ prometheus: ExternalServer, _ expression: String) async throws -> [Double] {
        let end = ContinuousClock.now + .seconds(30)
        var found = try await ProtobufExpositionPrometheusTests.values(prometheus, expression)
        while found.isEmpty && ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(500))
            found = try await ProtobufExpositionPrometheusTests.values(prometheus, expression)
        }
        return found
    }

    /// Every `expr` of the Grafana dashboard in `config/grafana`.
    static func dashboardExpressions() throws -> [String] {
        let data = try Data(contentsOf: PackagePaths.file("config/grafana/conveyor-router.json"))
        var found: [String] = []
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                if let expression = object["expr"] as? String { found.append(expression) }
                object.values.forEach(walk)
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(try JSONSerialization.jsonObject(with: data))
        return found
    }

    /// The latency alert's expression without its threshold (`config/alerts.yml`).
    static func alertLatencyExpression() throws -> String {
        let text = try String(contentsOf: PackagePaths.file("config/alerts.yml"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.contains("alert: ConveyorRouterRoutingLatencyHigh") }),
            let expression = lines[start...].firstIndex(where: { $0.contains("expr:") })
        else { throw TestFailure("no ConveyorRouterRoutingLatencyHigh alert in config/alerts.yml") }
        var body: [Substring] = []
        for line in lines[(expression + 1)...] {
            guard line.hasPrefix("          ") else { break }
            body.append(line.drop(while: { $0 == " " }))
        }
        let joined = body.joined(separator: " ")
        guard let threshold = joined.range(of: " > ", options: .backwards) else {
            throw TestFailure("the latency alert has no threshold: \(joined)")
        }
        return String(joined[..<threshold.lowerBound])
    }

    /// The README's "Routing latency p99" PromQL example.
    static func readmeLatencyQuery() throws -> String {
        let text = try String(contentsOf: PackagePaths.file("README.md"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let heading = lines.firstIndex(where: { $0.hasPrefix("# Routing latency p99") }),
            let query = lines[heading...].first(where: { !$0.hasPrefix("#") && !$0.isEmpty })
        else { throw TestFailure("no '# Routing latency p99' example in README.md") }
        return String(query)
    }
}
