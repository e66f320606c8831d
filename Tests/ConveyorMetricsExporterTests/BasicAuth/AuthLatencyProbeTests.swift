import ConveyorMetricsTestSupport
import Foundation
import NIOPosix
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsExporter

/// Prints what bcrypt and the cache cost (no speed assertion: the machine decides); asserts
/// only that the first request ran bcrypt and the later ones did not.
@Suite("Basic auth latency probe")
struct AuthLatencyProbeTests {
    @Test func firstVerificationVersusCacheHits() async throws {
        var configuration = MetricsExporter.Configuration(host: "127.0.0.1", port: 0)
        configuration.basicAuthUsers = ["prometheus": "$2y$10$Ty5la3g9FfQLc4iHs0SAyOv2hVyE0V0cn10cjXb2d3Kax0ws6hDwC"]
        let exporter = MetricsExporter(configuration: configuration, registry: MetricsRegistry())
        try await exporter.start()
        let client = RawHTTPClient(port: exporter.boundPort ?? 0)
        let header = ("Authorization", "Basic " + base64(Array("prometheus:scrape-S3CRET-pw".utf8)))
        let clock = ContinuousClock()
        var statuses: [Int] = []
        var start = clock.now
        statuses.append(try await client.get("/metrics", headers: [header]).status)
        let first = clock.now - start
        var cached: [Duration] = []
        for _ in 0..<20 {
            start = clock.now
            statuses.append(try await client.get("/metrics", headers: [header]).status)
            cached.append(clock.now - start)
        }
        start = clock.now
        let refused = try await client.get("/metrics").status
        let unauthenticated = clock.now - start
        #expect(statuses == Array(repeating: 200, count: 21))
        #expect(refused == 401)
        #expect(exporter.authenticator?.bcryptRunCount == 1)
        let hash = configuration.basicAuthUsers["prometheus"] ?? ""
        // Blocking: on NIO's thread pool, as the exporter runs it.
        let bcrypt = try await NIOThreadPool.singleton.runIfActive {
            ContinuousClock().measure { _ = Bcrypt.verify(password: Array("x".utf8), hash: hash) }
        }
        print(
            "ℹ️  bcrypt cost 10: \(bcrypt); scrape with first verification: \(first); "
                + "cached: median \(cached.sorted()[cached.count / 2]); 401 without header: \(unauthenticated)")
        await exporter.shutdown()
    }
}
