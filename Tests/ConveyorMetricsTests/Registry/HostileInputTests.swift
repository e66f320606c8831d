import ConveyorMetrics
import CoreMetrics
import Foundation
import Synchronization
import Testing

/// Values and label values no caller should send, through every entry point.
@Suite("Hostile input")
struct HostileInputTests {
    static let labelValues = [
        "", String(repeating: "k", count: 64 * 1024), "\u{0}\u{1}\u{7}\t\r", "quote \" here", "back\\slash\\",
        "new\nline", "ünï\u{FFFD}cödé", String(decoding: [0xC3, 0x28, 0xFF, 0x41] as [UInt8], as: UTF8.self),
    ]
    static let values: [Double] = [
        .nan, .infinity, -.infinity, -1, -0.0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
        .leastNonzeroMagnitude, 1e308, 0.1,
    ]

    /// Every hostile value and label value through the record functions and a swift-metrics factory.
    static func record(into registry: MetricsRegistry) {
        let metrics = ConveyorRouterMetrics(registry: registry)
        let factory: any MetricsFactory = registry
        for label in labelValues {
            for value in values {
                metrics.recordRecordsReceived(
                    sourceID: label, count: value.isFinite && value >= 0 ? UInt64(min(value, 1e18)) : 0)
                metrics.recordRoutingLatency(pipelineID: label, latencyMs: value)
                metrics.recordBufferUtilization(stageID: label, utilization: value)
                metrics.recordActiveServices(serviceType: label, count: value)
                factory.makeCounter(label: "hostile_requests", dimensions: [("who", label)]).increment(by: -5)
                factory.makeFloatingPointCounter(label: "hostile_bytes", dimensions: [("who", label)])
                    .increment(by: value)
                factory.makeRecorder(label: "hostile_level", dimensions: [("who", label)], aggregate: false)
                    .record(value)
                factory.makeRecorder(label: "hostile_size", dimensions: [("who", label)], aggregate: true)
                    .record(value)
                factory.makeTimer(label: "hostile_wait", dimensions: [("who", label)]).recordNanoseconds(Int64.min)
            }
        }
    }

    @Test func hostileValuesAreRejectedAndCountedAndTheExpositionStaysValid() throws {
        let registry = MetricsRegistry()
        Self.record(into: registry)
        let rejected = Dictionary(
            uniqueKeysWithValues: RejectionReason.allCases.map { ($0, registry.rejectedCount($0)) })
        #expect(rejected[.notANumber, default: 0] > 0)
        #expect(rejected[.labelValueTooLong, default: 0] > 0, "the 64 KiB label value is refused")
        #expect(rejected[.negativeIncrement, default: 0] > 0)
        var text: [UInt8] = []
        registry.emit(into: &text)
        if let findings = try Promtool.findings(String(decoding: text, as: UTF8.self)) {
            #expect(findings.allSatisfy { $0.contains("_ms") }, "only the spec's own _ms names: \(findings)")
        }
        let snapshot = registry.snapshot()
        let latency = snapshot.family(named: "conveyor_router_routing_latency_ms")
        for series in latency?.series ?? [] {
            if case .histogram(let histogram) = series.value {
                #expect(!histogram.sum.isNaN, "NaN never reaches a histogram sum")
            }
        }
    }

    @Test func oneMillionDistinctLabelValuesStayWithinTheCardinalityGuard() throws {
        let registry = MetricsRegistry()
        let metrics = ConveyorRouterMetrics(registry: registry)
        func resident() -> Int {
            let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? "0 0"
            return (Int(statm.split(separator: " ")[1]) ?? 0) * 4096
        }
        for index in 0..<100_000 { metrics.recordRecordsReceived(sourceID: "source-\(index)", count: 1) }
        let afterFirst = resident()
        for index in 100_000..<1_000_000 { metrics.recordRecordsReceived(sourceID: "source-\(index)", count: 1) }
        let growth = resident() - afterFirst
        let family = registry.snapshot().family(named: "conveyor_router_records_received_total")
        #expect(family?.series.count == 10_000, "the default guard: 10,000 series per family")
        #expect(registry.rejectedCount(.cardinalityLimit) == 990_000, "every refused series counted")
        // 900,000 refused attempts: a leak of even 100 bytes each would show as 86 MiB. Loose
        // bound: other tests run in parallel in this process. Not under AddressSanitizer,
        // whose quarantine and shadow memory keep freed memory resident.
        if ProcessInfo.processInfo.environment["CONVEYOR_SANITIZER"] != "address" {  // set by make test-asan
            #expect(growth < 64 << 20, "resident memory grew \(growth >> 20) MiB over 900,000 refused series")
        }
    }

    @Test func hostileValuesPushedToRealPrometheusAreAccepted() async throws {
        guard let binary = ExternalTool.require("prometheus") else { return }
        let server = try await ExternalServer.prometheusReceiver(binary: binary)
        defer { server.stop() }
        let registry = MetricsRegistry()
        Self.record(into: registry)
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
