import ConveyorMetricsTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// `protobuf_message: auto` against the real 1.x receivers from Debian (Prometheus 2.42,
/// VictoriaMetrics 1.79): both answer a 2.0 request 204 and store nothing. The target must
/// settle on 1.0 and lose nothing, the first attempt's samples included. With CI=true a
/// missing binary fails.
@Suite("Protocol negotiation with real receivers", .serialized)
struct ProtocolNegotiationIntegrationTests {
    private static let interval = Duration.seconds(4)

    /// When the registry was first read (ms): the writer's first snapshot (or the metadata
    /// read beside it). On a loaded machine the writer may start seconds after it is run.
    private final class FirstRead: Sendable {
        let milliseconds = Atomic<Int64>(0)
    }

    /// Pushes one gauge with `auto` for three snapshots (the first at once, then every 4 s,
    /// then the final one at shutdown); returns when the registry was first read (ms) and the
    /// writer's registry.
    private func push(to url: String) async throws -> (startedAt: Int64, registry: MetricsRegistry) {
        let registry = MetricsRegistry()
        registry.gaugeFamily(name: "rw2_negotiation_probe", help: "A probe").series().set(42)
        let firstRead = FirstRead()
        registry.addCollector {
            _ = firstRead.milliseconds.compareExchange(
                expected: 0, desired: WallClock.unixMilliseconds(), ordering: .relaxed)
        }
        var target = RemoteWriteTargetConfiguration(url: url)
        target.name = "real"
        target.pushInterval = Self.interval
        target.protobufMessage = .auto
        let writer = try RemoteWriter(
            configuration: RemoteWriteConfiguration(targets: [target], externalLabels: ["instance": "negotiation"]),
            registry: registry, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task { try await writer.run() }
        try await Task.sleep(for: .milliseconds(5500))
        task.cancel()
        try await task.value
        return (firstRead.milliseconds.load(ordering: .relaxed), registry)
    }

    private func expectSettledOn1(_ registry: MetricsRegistry) {
        let snapshot = registry.snapshot()
        let protocolInUse = snapshot.family(named: "conveyor_metrics_remote_write_protocol")
        #expect(
            protocolInUse?.series(["remote_name": "real", "protobuf_message": "prometheus.WriteRequest"])?.value.scalar
                == 1)
        #expect(
            protocolInUse?.series(["remote_name": "real", "protobuf_message": "io.prometheus.write.v2.Request"])?.value
                .scalar == 0)
        let fallbacks = snapshot.family(named: "conveyor_metrics_remote_write_protocol_fallbacks_total")?.series.first
        #expect(fallbacks?.value.scalar == 1, "fell back once, at the first request")
        let dropped = snapshot.family(named: "conveyor_metrics_remote_write_samples_dropped_total")?.series ?? []
        #expect(!dropped.isEmpty && dropped.allSatisfy { $0.value.scalar == 0 }, "nothing dropped")
        let failed = snapshot.family(named: "conveyor_metrics_remote_write_samples_failed_total")?.series.first
        #expect(failed?.value.scalar == 0)
    }

    @Test func prometheus242GetsEverySampleAs1() async throws {
        guard let binary = ExternalTool.require("prometheus") else { return }
        let server = try await ExternalServer.prometheusReceiver(binary: binary)
        defer { server.stop() }
        let (startedAt, registry) = try await push(to: "http://127.0.0.1:\(server.port)/api/v1/write")
        expectSettledOn1(registry)
        // Raw samples (a range selector leaves the final stale marker out).
        let response = try await server.get("/api/v1/query?query=\("rw2_negotiation_probe[1h]".queryEncoded)")
        let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let result = (json?["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
        let values = (result.first?["values"] as? [[Any]]) ?? []
        let times = values.compactMap { ($0.first as? NSNumber).map { Int64(($0.doubleValue * 1000).rounded()) } }
        #expect(times.count >= 2, "the snapshots arrived: \(response.text.prefix(300))")
        #expect(values.allSatisfy { $0.last as? String == "42" })
        // The second snapshot is stamped 4 s after the first read: anything well below is the
        // first snapshot's sample.
        let first = try #require(times.min())
        #expect(
            first - startedAt < 3500, "the first snapshot (the 2.0 attempt's) is stored: \(first - startedAt) ms in")
    }

    @Test func victoriaMetrics179GetsEverySampleAs1() async throws {
        guard let binary = ExternalTool.require("victoria-metrics") else { return }
        let server = try await ExternalServer(binary: binary, readyPath: "/health") { port, directory in
            ["-storageDataPath=\(directory.path)", "-httpListenAddr=127.0.0.1:\(port)", "-loggerLevel=ERROR"]
        }
        defer { server.stop() }
        let (startedAt, registry) = try await push(to: "http://127.0.0.1:\(server.port)/api/v1/write")
        expectSettledOn1(registry)
        _ = try await server.get("/internal/force_flush")
        let response = try await server.get(
            "/api/v1/export?\("match[]".queryEncoded)=\("rw2_negotiation_probe".queryEncoded)")
        let line = try #require(response.text.split(separator: "\n").first, "exported: \(response.text.prefix(300))")
        let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        let values = (json?["values"] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.doubleValue }
        let times = (json?["timestamps"] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.int64Value }
        let stored = zip(times, values).filter { !$0.1.isNaN }  // VictoriaMetrics keeps stale markers as NaN
        #expect(stored.count >= 2 && stored.allSatisfy { $0.1 == 42 }, "\(line.prefix(300))")
        // The second snapshot is stamped 4 s after the first read: anything well below is the
        // first snapshot's sample.
        let first = try #require(stored.map(\.0).min())
        #expect(
            first - startedAt < 3500, "the first snapshot (the 2.0 attempt's) is stored: \(first - startedAt) ms in")
    }
}
