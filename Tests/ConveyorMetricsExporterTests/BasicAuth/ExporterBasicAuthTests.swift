import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsExporter

/// Basic auth on the exporter over plain HTTP (TLS is ExporterTLSTests').
@Suite("Exporter basic auth")
struct ExporterBasicAuthTests {
    static let users = ["alice": "$2y$04$8ajJ3lvlcgFioFu0feEY4epWBZDypnzXt1WO3IlwkOo5TcAYR9EGK"]  // "correct horse"
    static let good = ("Authorization", "Basic " + base64(Array("alice:correct horse".utf8)))

    private func withExporter(
        configure: (inout MetricsExporter.Configuration) -> Void = { _ in },
        _ body: (MetricsExporter, MetricsRegistry, RawHTTPClient) async throws -> Void
    ) async throws {
        let registry = MetricsRegistry()
        ConveyorRouterMetrics(registry: registry).recordRecordsReceived(sourceID: "src", count: 5)
        var configuration = MetricsExporter.Configuration(host: "127.0.0.1", port: 0)
        configuration.basicAuthUsers = Self.users
        configure(&configuration)
        let exporter = MetricsExporter(configuration: configuration, registry: registry)
        try await exporter.start()
        do {
            try await body(exporter, registry, RawHTTPClient(port: try #require(exporter.boundPort)))
        } catch {
            await exporter.shutdown()
            throw error
        }
        await exporter.shutdown()
    }

    private func failures(_ registry: MetricsRegistry, _ reason: String) -> Int? {
        let prefix = "conveyor_metrics_exporter_auth_failures_total{reason=\"\(reason)\"} "
        return registry.exposition().split(separator: "\n").first { $0.hasPrefix(prefix) }
            .flatMap { Int($0.dropFirst(prefix.count)) }
    }

    @Test func missingCredentialsGet401WithAChallengeOnEveryPath() async throws {
        try await withExporter { (_, registry, client) async throws in
            for path in ["/metrics", "/", "/-/healthy", "/nope"] {
                let response = try await client.get(path)
                #expect(response.status == 401, "\(path)")
                #expect(response.header("www-authenticate") == "Basic realm=\"conveyor-metrics\", charset=\"UTF-8\"")
                #expect(!response.text.contains("conveyor_router"), "no metrics without credentials")
            }
            #expect(try await client.get("/metrics", method: "HEAD").status == 401)
            #expect(failures(registry, "missing") == 5)
        }
    }

    @Test func correctCredentialsGetMetricsAndTheSecondScrapeIsACacheHit() async throws {
        try await withExporter { (exporter, registry, client) async throws in
            let response = try await client.get("/metrics", headers: [Self.good])
            #expect(response.status == 200)
            #expect(response.text.contains("conveyor_router_records_received_total{source_id=\"src\"} 5\n"))
            #expect(exporter.authenticator?.bcryptRunCount == 1)
            #expect(try await client.get("/metrics", headers: [Self.good]).status == 200)
            #expect(try await client.get("/-/healthy", headers: [Self.good]).text == "OK\n")
            #expect(try await client.get("/nope", headers: [Self.good]).status == 404, "routing after auth")
            #expect(exporter.authenticator?.bcryptRunCount == 1, "later requests use the cached verification")
            #expect(failures(registry, "invalid") == 0)
            #expect(exporter.scrapeCount == 2)
        }
    }

    @Test func wrongPasswordsUnknownUsersAndOddPasswordsGet401AndAreCounted() async throws {
        try await withExporter { (exporter, registry, client) async throws in
            let nul: [UInt8] = Array("alice:correct horse".utf8) + [0, UInt8(ascii: "x")]
            let long: [UInt8] = Array("alice:".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 73)
            let notUTF8: [UInt8] = [0xFF, 0xFE] + Array(":correct horse".utf8)
            let attempts: [[UInt8]] = [
                Array("alice:wrong".utf8), Array("bob:correct horse".utf8), Array("alice:".utf8), nul, long,
                Array("alice:Correct horse".utf8), notUTF8,
            ]
            for credentials in attempts {
                let response = try await client.get(
                    "/metrics", headers: [("Authorization", "Basic " + base64(credentials))])
                #expect(response.status == 401)
                #expect(response.header("www-authenticate")?.hasPrefix("Basic realm=") == true)
            }
            #expect(failures(registry, "invalid") == 7)
            #expect((exporter.authenticator?.bcryptRunCount ?? 0) >= 4, "unknown users run bcrypt too")
            #expect(try await client.get("/metrics", headers: [Self.good]).status == 200)
        }
    }

    @Test func malformedAuthorizationHeadersGet401AndNeverCrash() async throws {
        try await withExporter { (_, registry, client) async throws in
            let malformed: [[(String, String)]] = [
                [("Authorization", "Bearer abc")], [("Authorization", "Basic")], [("Authorization", "Basic !!!!")],
                [("Authorization", "Basic " + base64(Array("nocolon".utf8)))],
                [("Authorization", "Basic " + String(repeating: "QUFB", count: 2000))],
                [Self.good, Self.good], [("Authorization", "")], [("Authorization", "Basic YTpi=")],
            ]
            for headers in malformed {
                let response = try await client.get("/metrics", headers: headers)
                #expect(response.status == 401)
            }
            #expect(failures(registry, "malformed") == malformed.count)
            let after = try await client.get("/metrics", headers: [Self.good])
            #expect(after.status == 200, "still serving")
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrderWhileAChecksRuns() async throws {
        try await withExporter { (_, _, client) async throws in
            let good = "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: \(Self.good.1)\r\n\r\n"
            let none = "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"
            let wrong =
                "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic \(base64(Array("alice:x".utf8)))\r\n\r\n"
            let last =
                "GET /-/healthy HTTP/1.1\r\nHost: x\r\nAuthorization: \(Self.good.1)\r\nConnection: close\r\n\r\n"
            let raw = try await client.exchange(Array((good + none + wrong + good + last).utf8))
            let responses = RawHTTPClient.parse(raw)
            #expect(responses.map(\.status) == [200, 401, 401, 200, 200])
            #expect(responses.last?.text == "OK\n")
        }
    }

    @Test func configuredResponseHeadersAreOnEveryResponse() async throws {
        try await withExporter(configure: { $0.responseHeaders = ["X-Frame-Options": "deny"] }) {
            (_, _, client) async throws in
            let denied = try await client.get("/metrics")
            let allowed = try await client.get("/metrics", headers: [Self.good])
            #expect(denied.status == 401)
            #expect(denied.header("x-frame-options") == "deny", "on a 401")
            #expect(allowed.header("x-frame-options") == "deny")
        }
    }

    @Test func startRefusesHashesThatAreNotBcryptAndInvalidHeaders() async throws {
        for configure: (inout MetricsExporter.Configuration) -> Void in [
            { $0.basicAuthUsers = ["ops": "plain-S3CRET-password"] },
            { $0.responseHeaders = ["X-Evil": "a\r\nSet-Cookie: x"] },
            { $0.responseHeaders = ["Content-Type": "text/html"] },
        ] {
            var configuration = MetricsExporter.Configuration(host: "127.0.0.1", port: 0)
            configure(&configuration)
            let exporter = MetricsExporter(configuration: configuration, registry: MetricsRegistry())
            do {
                try await exporter.start()
                Issue.record(
                    "start() accepted \(configuration.basicAuthUsers.keys) \(configuration.responseHeaders.keys)")
            } catch let error as MetricsExporter.ConfigurationError {
                #expect(!error.description.contains("S3CRET"), "\(error)")
            }
            #expect(exporter.boundPort == nil, "nothing listens")
            await exporter.shutdown()
        }
    }
}
