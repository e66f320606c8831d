import ConveyorMetricsTestSupport
import Foundation
import NIOCore
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsExporter

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Exporter")
struct MetricsExporterTests {
    /// Starts an exporter on a free loopback port, runs `body`, always stops it.
    private func withExporter(
        configure: (inout MetricsExporter.Configuration) -> Void = { _ in },
        _ body: (MetricsRegistry, RawHTTPClient) async throws -> Void
    ) async throws {
        let registry = MetricsRegistry()
        ConveyorRouterMetrics(registry: registry).recordRecordsReceived(sourceID: "src", count: 5)
        var configuration = MetricsExporter.Configuration(host: "127.0.0.1", port: 0)
        configure(&configuration)
        let exporter = MetricsExporter(configuration: configuration, registry: registry)
        try await exporter.start()
        do {
            let port = try #require(exporter.boundPort)
            try await body(registry, RawHTTPClient(port: port))
        } catch {
            await exporter.shutdown()
            throw error
        }
        await exporter.shutdown()
    }

    @Test func servesPrometheusTextByDefault() async throws {
        try await withExporter { _, client in
            let response = try await client.get("/metrics")
            #expect(response.status == 200)
            #expect(response.header("content-type") == "text/plain; version=0.0.4; charset=utf-8")
            #expect(response.text.contains("conveyor_router_records_received_total{source_id=\"src\"} 5\n"))
            #expect(Int(response.header("content-length") ?? "") == response.body.count)
        }
    }

    @Test func negotiatesOpenMetrics() async throws {
        try await withExporter { _, client in
            let response = try await client.get(
                "/metrics", headers: [("Accept", "application/openmetrics-text;version=1.0.0,text/plain;q=0.5")])
            #expect(response.header("content-type") == "application/openmetrics-text; version=1.0.0; charset=utf-8")
            #expect(response.text.hasSuffix("# EOF\n"))
        }
    }

    /// What Prometheus 2.42 sends with `--enable-feature=native-histograms`.
    static let protobufAccept =
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"
        + "application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,"
        + "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

    @Test func negotiatesProtobufAndGzipsIt() async throws {
        try await withExporter { _, client in
            let response = try await client.get("/metrics", headers: [("Accept", Self.protobufAccept)])
            #expect(response.status == 200)
            #expect(
                response.header("content-type")
                    == "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited")
            #expect(Int(response.header("content-length") ?? "") == response.body.count)
            // Length-delimited messages that end exactly at the end of the body.
            var position = 0
            var messages = 0
            while position < response.body.count {
                var length = 0
                var shift = 0
                while position < response.body.count {
                    let byte = response.body[position]
                    position += 1
                    length |= Int(byte & 0x7F) << shift
                    shift += 7
                    if byte < 0x80 { break }
                }
                position += length
                messages += 1
            }
            #expect(position == response.body.count && messages > 0)
            #expect(String(decoding: response.body, as: UTF8.self).contains("conveyor_router_records_received_total"))
            let gzipped = try await client.get(
                "/metrics", headers: [("Accept", Self.protobufAccept), ("Accept-Encoding", "gzip")])
            #expect(gzipped.header("content-encoding") == "gzip")
            #expect(gzipped.header("content-type")?.hasPrefix("application/vnd.google.protobuf;") == true)
            #expect(gzipped.body.starts(with: [0x1f, 0x8b]), "gzip magic")
        }
    }

    @Test func gzipIsNegotiated() async throws {
        try await withExporter { _, client in
            let response = try await client.get("/metrics", headers: [("Accept-Encoding", "gzip")])
            #expect(response.status == 200)
            #expect(response.header("content-encoding") == "gzip")
            #expect(response.body.starts(with: [0x1f, 0x8b]), "gzip magic")
            let plain = try await client.get("/metrics", headers: [("Accept-Encoding", "identity")])
            #expect(plain.header("content-encoding") == nil)
            #expect(plain.text.contains("conveyor_router_records_received_total"))
        }
    }

    @Test func headRootHealthy404And405() async throws {
        try await withExporter { _, client in
            let head = try await client.get("/metrics", method: "HEAD")
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(Int(head.header("content-length") ?? "0")! > 0)
            let root = try await client.get("/")
            #expect(root.status == 200)
            #expect(root.text.contains("href=\"/metrics\""))
            #expect(try await client.get("/-/healthy").status == 200)
            #expect(try await client.get("/nope").status == 404)
            let post = try await client.get("/metrics", method: "POST")
            #expect(post.status == 405)
            #expect(post.header("allow") == "GET, HEAD")
            #expect(try await client.get("/metrics?x=1").status == 200, "query strings are ignored")
        }
    }

    @Test func customPath() async throws {
        try await withExporter(configure: { $0.path = "/custom" }) { _, client in
            let custom = try await client.get("/custom")
            let old = try await client.get("/metrics")
            #expect(custom.status == 200)
            #expect(old.status == 404)
        }
    }

    @Test func keepAliveAndPipelinedRequestsOnOneConnection() async throws {
        try await withExporter { _, client in
            let one = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
            let last = "GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let raw = try await client.exchange(Array((one + one + last).utf8))
            let responses = RawHTTPClient.parse(raw)
            #expect(responses.map(\.status) == [200, 200, 200])
            #expect(responses.last?.text == "OK\n")
        }
    }

    @Test func oversizedHeadersAre431AndClosed() async throws {
        try await withExporter(configure: { $0.maxRequestBytes = 8 * 1024 }) { _, client in
            let huge = "GET /metrics HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 1 << 20))\r\n\r\n"
            let raw = try await client.exchange(Array(huge.utf8))
            #expect(String(decoding: raw, as: UTF8.self).hasPrefix("HTTP/1.1 431"))
            #expect(try await client.get("/-/healthy").status == 200, "the server still serves others")
        }
    }

    @Test func slowHeaderTrickleIsCutOffAtTheDeadline() async throws {
        try await withExporter(configure: { $0.requestDeadline = .milliseconds(300) }) { _, client in
            let request = Array("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa\r\n\r\n".utf8)
            let raw = try await client.exchange(request, chunks: 20, pause: .milliseconds(100), timeout: .seconds(5))
            #expect(String(decoding: raw, as: UTF8.self).hasPrefix("HTTP/1.1 408"))
        }
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        try await withExporter(configure: { $0.idleTimeout = .milliseconds(200) }) { _, client in
            // Sends nothing; the server closes the idle connection long before our 30 s
            // timeout (the exporter's default idle timeout is 60 s, so a close at 200 ms's
            // place is the setting at work).
            let (raw, closedByPeer) = try await client.exchangeUntilClosed([], timeout: .seconds(30))
            #expect(raw.isEmpty)
            #expect(closedByPeer, "closed by the server, not by our timeout")
        }
    }

    @Test func nonHTTPBytesGetAnErrorNotACrash() async throws {
        try await withExporter { _, client in
            let raw = try await client.exchange(Array("\u{16}\u{3}\u{1}garbage\r\n\r\n".utf8), timeout: .seconds(3))
            #expect(String(decoding: raw, as: UTF8.self).hasPrefix("HTTP/1.1 400"))
            #expect(try await client.get("/-/healthy").status == 200)
        }
    }

    @Test func connectionsBeyondTheCapAreClosedAndTheCapFreesUp() async throws {
        var configuration = MetricsExporter.Configuration(host: "127.0.0.1", port: 0)
        configuration.maxConnections = 3
        let exporter = MetricsExporter(configuration: configuration, registry: MetricsRegistry())
        try await exporter.start()
        let client = RawHTTPClient(port: exporter.boundPort ?? 0)
        var held: [Int32] = []
        for _ in 0..<3 {
            held.append(try RawHTTPClient.connectSocket(host: "127.0.0.1", port: client.port, timeout: .seconds(5)))
        }
        for _ in 0..<200 where exporter.openConnections < 3 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(exporter.openConnections == 3, "the three held connections were accepted")
        // A served request would be answered (and then closed: Connection: close); a refused one gets nothing.
        let request = Array("GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
        let refused = try await client.exchange(request, timeout: .seconds(5))
        #expect(refused.isEmpty, "a fourth connection is closed without an answer")
        close(held.removeLast())
        var served = false
        for _ in 0..<100 where !served {
            try await Task.sleep(for: .milliseconds(20))
            served = (try? await client.get("/-/healthy").status) == 200
        }
        #expect(served, "closing one frees a place")
        for fd in held { close(fd) }
        await exporter.shutdown()
    }

    @Test func concurrentScrapes() async throws {
        try await withExporter { _, client in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await client.get("/metrics").status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 20))
        }
    }

    @Test func listensOnIPv6Loopback() async throws {
        let registry = MetricsRegistry()
        let exporter = MetricsExporter(configuration: .init(host: "::1", port: 0), registry: registry)
        do {
            try await exporter.start()
        } catch {
            print("⚠️  SKIPPED: IPv6 loopback unavailable: \(error)")
            return
        }
        defer { Task { await exporter.shutdown() } }
        let response = try await RawHTTPClient(host: "::1", port: exporter.boundPort ?? 0).get("/-/healthy")
        #expect(response.status == 200)
        await exporter.shutdown()
    }

    @Test func runStopsOnCancellation() async throws {
        let exporter = MetricsExporter(configuration: .init(host: "127.0.0.1", port: 0), registry: MetricsRegistry())
        let task = Task { try await exporter.run() }
        while exporter.boundPort == nil { try await Task.sleep(for: .milliseconds(20)) }
        let port = exporter.boundPort ?? 0
        task.cancel()
        try await task.value
        await #expect(throws: (any Error).self) { try await RawHTTPClient(port: port).get("/-/healthy") }
    }
}
