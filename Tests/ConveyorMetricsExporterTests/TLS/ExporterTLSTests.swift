import ConveyorMetricsTestSupport
import Foundation
import NIOSSL
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsExporter

/// HTTPS on the exporter with certificates made by the real `openssl` (with CI=true a
/// missing openssl fails), checked with a swift-nio-ssl client.
@Suite("Exporter TLS", .serialized)
struct ExporterTLSTests {
    /// Makes a PKI, starts an exporter with `tls(pki)`, runs `body`; always stops and cleans up.
    private func withTLSExporter(
        _ tls: (TestCertificates) -> MetricsExporter.TLSSettings,
        configure: (inout MetricsExporter.Configuration) -> Void = { _ in },
        _ body: (TestCertificates, Int) async throws -> Void
    ) async throws {
        guard let openssl = ExternalTool.require("openssl") else { return }
        let pki = try await TestCertificates.make(openssl: openssl)
        defer { pki.remove() }
        let registry = MetricsRegistry()
        ConveyorRouterMetrics(registry: registry).recordRecordsReceived(sourceID: "src", count: 5)
        var configuration = MetricsExporter.Configuration(host: "127.0.0.1", port: 0)
        configuration.tls = tls(pki)
        configure(&configuration)
        let exporter = MetricsExporter(configuration: configuration, registry: registry)
        try await exporter.start()
        do {
            try await body(pki, try #require(exporter.boundPort))
        } catch {
            await exporter.shutdown()
            throw error
        }
        await exporter.shutdown()
    }

    private static func server(_ pki: TestCertificates) -> MetricsExporter.TLSSettings {
        .init(certificateFile: pki.serverCertificateFile, privateKeyFile: pki.serverKeyFile)
    }

    private static func client(_ pki: TestCertificates, _ port: Int, as name: String? = nil) -> TLSTestClient {
        var client = TLSTestClient(port: port, caFile: pki.caFile)
        if let name { client.certificate = (pki.path("\(name).pem"), pki.path("\(name)-key.pem")) }
        return client
    }

    @Test func servesMetricsOverTLSAndClosesPlainHTTPConnections() async throws {
        try await withTLSExporter(Self.server) { (pki, port) async throws in
            let response = try await Self.client(pki, port).get("/metrics")
            #expect(response.status == 200)
            #expect(response.text.contains("conveyor_router_records_received_total{source_id=\"src\"} 5\n"))
            // Plain HTTP to the TLS port: no HTTP answer, the connection is closed (not left open).
            let started = ContinuousClock.now
            let raw = try await RawHTTPClient(port: port).exchange(
                Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8), timeout: .seconds(8))
            #expect(!String(decoding: raw, as: UTF8.self).contains("HTTP/1.1 200"))
            #expect(!String(decoding: raw, as: UTF8.self).contains("conveyor_router"))
            #expect(ContinuousClock.now - started < .seconds(7), "closed by the server, not by our timeout")
            #expect(try await Self.client(pki, port).get("/-/healthy").status == 200, "still serving TLS")
        }
    }

    @Test func requireAndVerifyClientCertIsMutualTLS() async throws {
        let mtls = { (pki: TestCertificates) -> MetricsExporter.TLSSettings in
            var settings = Self.server(pki)
            settings.clientCAFile = pki.caFile
            settings.clientAuth = .requireAndVerifyClientCert
            return settings
        }
        try await withTLSExporter(mtls) { (pki, port) async throws in
            #expect(try await Self.client(pki, port, as: "client").get("/metrics").status == 200)
            await #expect(throws: (any Error).self, "no client certificate") {
                try await Self.client(pki, port).get("/metrics")
            }
            await #expect(throws: (any Error).self, "a certificate from a CA the server does not trust") {
                try await Self.client(pki, port, as: "stranger").get("/metrics")
            }
            #expect(try await Self.client(pki, port, as: "client").get("/-/healthy").status == 200)
        }
    }

    @Test func verifyClientCertIfGivenAndRequireAnyClientCert() async throws {
        let ifGiven = { (pki: TestCertificates) -> MetricsExporter.TLSSettings in
            var settings = Self.server(pki)
            settings.clientCAFile = pki.caFile
            settings.clientAuth = .verifyClientCertIfGiven
            return settings
        }
        try await withTLSExporter(ifGiven) { (pki, port) async throws in
            #expect(try await Self.client(pki, port).get("/metrics").status == 200, "none given")
            #expect(try await Self.client(pki, port, as: "client").get("/metrics").status == 200)
            await #expect(throws: (any Error).self) { try await Self.client(pki, port, as: "stranger").get("/metrics") }
        }
        let requireAny = { (pki: TestCertificates) -> MetricsExporter.TLSSettings in
            var settings = Self.server(pki)
            settings.clientAuth = .requireAnyClientCert
            return settings
        }
        try await withTLSExporter(requireAny) { (pki, port) async throws in
            #expect(try await Self.client(pki, port, as: "stranger").get("/metrics").status == 200, "not verified")
            await #expect(throws: (any Error).self) { try await Self.client(pki, port).get("/metrics") }
        }
    }

    @Test func minimumVersionIsEnforced() async throws {
        let tls13 = { (pki: TestCertificates) -> MetricsExporter.TLSSettings in
            var settings = Self.server(pki)
            settings.minimumVersion = .tls13
            return settings
        }
        try await withTLSExporter(tls13) { (pki, port) async throws in
            var old = Self.client(pki, port)
            old.maximumVersion = .tlsv12
            await #expect(throws: (any Error).self, "a TLS 1.2 client") { try await old.get("/metrics") }
            #expect(try await Self.client(pki, port).get("/metrics").status == 200)
        }
    }

    @Test func basicAuthOverTLS() async throws {
        let users = ["alice": "$2y$04$8ajJ3lvlcgFioFu0feEY4epWBZDypnzXt1WO3IlwkOo5TcAYR9EGK"]
        try await withTLSExporter(Self.server, configure: { $0.basicAuthUsers = users }) { (pki, port) async throws in
            let client = Self.client(pki, port)
            #expect(try await client.get("/metrics").status == 401)
            let good = ("Authorization", "Basic " + base64(Array("alice:correct horse".utf8)))
            #expect(try await client.get("/metrics", headers: [good]).status == 200)
        }
    }

    /// A file that cannot be used is an error from start() naming the setting and the path.
    @Test func badFilesAndSettingsAreErrorsFromStart() async throws {
        guard let openssl = ExternalTool.require("openssl") else { return }
        let pki = try await TestCertificates.make(openssl: openssl)
        defer { pki.remove() }
        let missing = pki.path("missing.pem")
        let notPEM = pki.path("server.ext")
        let cases: [(String, String, (inout MetricsExporter.TLSSettings) -> Void)] = [
            ("tls.certificateFile", "No such file", { $0.certificateFile = missing }),
            ("tls.certificateFile", "no PEM certificate", { $0.certificateFile = notPEM }),
            ("tls.certificateFile", "no PEM certificate", { $0.certificateFile = pki.serverKeyFile }),
            ("tls.privateKeyFile", "No such file", { $0.privateKeyFile = missing }),
            ("tls.privateKeyFile", "not an unencrypted PEM private key", { $0.privateKeyFile = pki.caFile }),
            ("tls.privateKeyFile", "cannot be used with the certificate", { $0.privateKeyFile = pki.clientKeyFile }),
            (
                "tls.clientCAFile", "No such file",
                {
                    $0.clientCAFile = missing
                    $0.clientAuth = .requireAndVerifyClientCert
                }
            ),
            ("tls.clientCAFile", "required by client auth", { $0.clientAuth = .requireAndVerifyClientCert }),
            ("tls.clientCAFile", "required by client auth", { $0.clientAuth = .verifyClientCertIfGiven }),
            ("tls.clientAuth", "NoClientCert", { $0.clientCAFile = pki.caFile }),
            (
                "tls.minimumVersion", "newer than the maximum",
                {
                    $0.minimumVersion = .tls13
                    $0.maximumVersion = .tls12
                }
            ),
        ]
        for (setting, reason, change) in cases {
            var tls = Self.server(pki)
            change(&tls)
            var configuration = MetricsExporter.Configuration(host: "127.0.0.1", port: 0)
            configuration.tls = tls
            let exporter = MetricsExporter(configuration: configuration, registry: MetricsRegistry())
            do {
                try await exporter.start()
                Issue.record("start() accepted a bad \(setting)")
            } catch let error as MetricsExporter.ConfigurationError {
                #expect(error.setting == setting, "\(error)")
                #expect(error.description.contains(reason), "\(error)")
                if let path = error.path { #expect(error.description.contains(path)) }
                #expect(!error.description.contains("PRIVATE KEY"), "no file contents")
            }
            #expect(exporter.boundPort == nil)
            await exporter.shutdown()
        }
    }
}
