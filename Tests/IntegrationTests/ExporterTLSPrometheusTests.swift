import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsExporter

/// A real Prometheus 2.42 scrapes two exporters over HTTPS, with certificates made by the
/// real openssl (with CI=true a missing binary fails): one with basic auth (a job with the
/// right password, one with a wrong one), one with mutual TLS (a job with a client
/// certificate, one without). `up` must say which scrapes succeed. A plain-HTTP request to
/// the TLS port is closed, and the exporter keeps serving the scrapes that follow.
@Suite("Exporter TLS with Prometheus", .serialized)
struct ExporterTLSPrometheusTests {
    static let password = "scrape-S3CRET-pw"
    static let hash = "$2y$10$Ty5la3g9FfQLc4iHs0SAyOv2hVyE0V0cn10cjXb2d3Kax0ws6hDwC"  // htpasswd -nbBC 10

    @Test func prometheusScrapesOverHTTPSWithBasicAuthAndClientCertificates() async throws {
        guard let openssl = ExternalTool.require("openssl"), let binary = ExternalTool.require("prometheus") else {
            return
        }
        let started = ContinuousClock.now
        let pki = try await TestCertificates.make(openssl: openssl)
        defer { pki.remove() }
        let registry = MetricsRegistry()
        ConveyorRouterMetrics(registry: registry).recordRecordsReceived(sourceID: "src", count: 5)
        var basic = MetricsExporter.Configuration(host: "127.0.0.1", port: 0)
        basic.tls = .init(certificateFile: pki.serverCertificateFile, privateKeyFile: pki.serverKeyFile)
        basic.basicAuthUsers = ["prometheus": Self.hash]
        var mutual = MetricsExporter.Configuration(host: "127.0.0.1", port: 0)
        mutual.tls = .init(certificateFile: pki.serverCertificateFile, privateKeyFile: pki.serverKeyFile)
        mutual.tls?.clientCAFile = pki.caFile
        mutual.tls?.clientAuth = .requireAndVerifyClientCert
        let basicExporter = MetricsExporter(configuration: basic, registry: registry)
        let mutualExporter = MetricsExporter(configuration: mutual, registry: MetricsRegistry())
        try await basicExporter.start()
        try await mutualExporter.start()
        var server: ExternalServer?
        do {
            let basicPort = try #require(basicExporter.boundPort)
            let mutualPort = try #require(mutualExporter.boundPort)
            let prometheus = try await ExternalServer(binary: binary, readyPath: "/-/ready") { port, directory in
                let config = directory.appendingPathComponent("prometheus.yml")
                try? Self.scrapeConfig(pki, basicPort: basicPort, mutualPort: mutualPort).write(
                    to: config, atomically: true, encoding: .utf8)
                return [
                    "--config.file=\(config.path)",
                    "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
                    "--web.listen-address=127.0.0.1:\(port)",
                ]
            }
            server = prometheus
            let expected = ["basic": 1.0, "wrong-password": 0, "client-certificate": 1, "no-client-certificate": 0]
            let up = try await Self.waitForUp(prometheus, toBe: expected)
            #expect(up == expected)

            // Plain HTTP to the TLS port: closed without an HTTP answer; scrapes go on.
            let raw = try await RawHTTPClient(port: basicPort).exchange(
                Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8), timeout: .seconds(8))
            #expect(!String(decoding: raw, as: UTF8.self).hasPrefix("HTTP/1.1"), "no plain-HTTP answer")
            let scrapes = basicExporter.scrapeCount
            // Four more: enough answered scrapes that, without the cache, bcrypt runs for the
            // right password would exceed the bound below.
            for _ in 0..<150 where basicExporter.scrapeCount < scrapes + 4 {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(basicExporter.scrapeCount >= scrapes + 4, "Prometheus' TLS scrapes still succeed")
            #expect(try await Self.up(prometheus)["basic"] == 1)

            // Every scrape of both basic-auth jobs was decided. Only successes are cached, so
            // bcrypt runs for each wrong-password scrape, but for the right password about
            // once: its other scrapes came from the cache. (Runs are read before refusals:
            // one wrong-password check may be under way between the two reads; the right
            // password may run twice when its first two scrapes race. How many scrapes
            // happen depends on how fast the machine runs the test.)
            let runs = Int(basicExporter.authenticator?.bcryptRunCount ?? 0)
            let failures = registry.exposition().split(separator: "\n").first {
                $0.hasPrefix("conveyor_metrics_exporter_auth_failures_total{reason=\"invalid\"} ")
            }
            let refused = Int(failures?.split(separator: " ").last ?? "") ?? 0
            #expect(refused >= 2, "the wrong password's scrapes are refused and counted")
            let answered = Int(basicExporter.scrapeCount)
            #expect(
                runs >= 2 && runs - refused <= 3 && answered >= 5,
                "bcrypt ran \(runs) times for \(answered) answered and \(refused) refused scrapes")
            let durations = try await Self.query(prometheus, "scrape_duration_seconds")
            print(
                "ℹ️  TLS scrapes: \(basicExporter.scrapeCount) answered, \(refused) refused, bcrypt runs \(runs); "
                    + "scrape_duration_seconds \(durations.sorted { $0.key < $1.key }); took \(ContinuousClock.now - started)"
            )
        } catch {
            server?.stop()
            await basicExporter.shutdown()
            await mutualExporter.shutdown()
            throw error
        }
        server?.stop()
        await basicExporter.shutdown()
        await mutualExporter.shutdown()
    }

    static func scrapeConfig(_ pki: TestCertificates, basicPort: Int, mutualPort: Int) -> String {
        func job(_ name: String, port: Int, extra: String) -> String {
            """
              - job_name: \(name)
                scheme: https
                tls_config:
                  ca_file: \(pki.caFile)
                  server_name: localhost
            \(extra)
                static_configs:
                  - targets: ['127.0.0.1:\(port)']

            """
        }
        return "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n"
            + job(
                "basic", port: basicPort,
                extra: "    basic_auth:\n      username: prometheus\n      password: \(password)")
            + job(
                "wrong-password", port: basicPort,
                extra: "    basic_auth:\n      username: prometheus\n      password: not-the-password")
            + job(
                "client-certificate", port: mutualPort,
                extra: "      cert_file: \(pki.clientCertificateFile)\n      key_file: \(pki.clientKeyFile)")
            + job("no-client-certificate", port: mutualPort, extra: "")
    }

    /// `up` by job once every job has a value equal to `expected` (or after 30 s).
    static func waitForUp(_ prometheus: ExternalServer, toBe expected: [String: Double]) async throws -> [String:
        Double]
    {
        var last: [String: Double] = [:]
        for _ in 0..<150 {
            last = try await up(prometheus)
            if last == expected { return last }
            try await Task.sleep(for: .milliseconds(200))
        }
        return last
    }

    static func up(_ prometheus: ExternalServer) async throws -> [String: Double] {
        try await query(prometheus, "up")
    }

    /// An instant query: job → value.
    static func query(_ prometheus: ExternalServer, _ promql: String) async throws -> [String: Double] {
        let response = try await prometheus.get("/api/v1/query?query=\(promql.queryEncoded)")
        guard response.status == 200,
            let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]]
        else { throw TestFailure("query \(promql): HTTP \(response.status): \(response.text.prefix(300))") }
        var values: [String: Double] = [:]
        for item in result {
            guard let job = (item["metric"] as? [String: String])?["job"], let sample = item["value"] as? [Any],
                sample.count == 2, let value = Double(sample[1] as? String ?? "")
            else { continue }
            values[job] = value
        }
        return values
    }
}
