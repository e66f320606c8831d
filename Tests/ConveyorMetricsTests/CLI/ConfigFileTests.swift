import Foundation
import Testing

@testable import ConveyorMetricsCLI

@Suite("Config file")
struct ConfigFileTests {
    @Test func parsesTheExporterBlock() throws {
        let config = try ConfigFile.parse("exporter:\n  listen: 127.0.0.1:9191\n  path: /m\n", file: "c.yml")
        #expect(config.listen == ListenAddress(host: "127.0.0.1", port: 9191))
        #expect(config.metricsPath == "/m")
        #expect(try ConfigFile.parse("", file: "empty.yml") == ConfigFile())
    }

    @Test func theExampleConfigIsValid() throws {
        let config = try ConfigFile.load(path: PackagePaths.file("config/conveyor-metrics.yml").path)
        #expect(config.listen.port == 9090)
    }

    @Test(arguments: [
        ("exporter:\n  listne: 1.2.3.4:9\n", "exporter.listne", "unknown key"),
        ("exporter:\n  listen: nope\n", "exporter.listen", "expected HOST:PORT"),
        ("exporter:\n  listen: 1.2.3.4:99999\n", "exporter.listen", "port must be"),
        ("exporter:\n  path: metrics\n", "exporter.path", "must start with /"),
        ("exporter: [1, 2]\n", "exporter", "expected a mapping"),
        ("remote_writ: {}\n", "remote_writ", "unknown key"),
        ("exporter: {listen: \"a:1\", listen: \"b:2\"}\n", "", "duplicated key"),
        (": : :\n  - [\n", "", "not valid YAML"),
    ])
    func errorsNameFileKeyAndReason(yaml: String, key: String, reason: String) {
        do {
            _ = try ConfigFile.parse(yaml, file: "router.yml")
            Issue.record("accepted invalid config: \(yaml)")
        } catch {
            #expect(error.file == "router.yml")
            #expect(error.key == key || key.isEmpty)
            #expect(error.description.hasPrefix("router.yml: "))
            #expect(error.description.contains(reason))
        }
    }

    @Test func missingFileIsAClearError() {
        #expect(throws: ConfigError.self) { try ConfigFile.load(path: "/nonexistent/conveyor.yml") }
    }

    @Test(arguments: [
        ("0.0.0.0:9090", "0.0.0.0", 9090), (":9090", "0.0.0.0", 9090), ("[::1]:80", "::1", 80),
        ("localhost:0", "localhost", 0),
    ])
    func listenAddresses(text: String, host: String, port: Int) throws {
        #expect(try ListenAddress(parsing: text) == ListenAddress(host: host, port: port))
    }

    @Test(arguments: ["9090", "::1:80", "host:-1", "host:http"])
    func badListenAddresses(text: String) {
        #expect(throws: ListenAddressError.self) { try ListenAddress(parsing: text) }
    }

    @Test(arguments: [
        ("30ms", 30), ("5s", 5000), ("1m", 60_000), ("1h30m", 5_400_000), ("2d", 172_800_000), ("1m30s500ms", 90_500),
    ])
    func prometheusDurations(text: String, milliseconds: Int64) {
        #expect(PrometheusDuration.parse(text) == .milliseconds(milliseconds))
    }

    @Test(arguments: ["", "5", "s", "1.5s", "5sec", "1s1m", "1m1m", "-5s", "99999999999999999y"])
    func badDurations(text: String) {
        #expect(PrometheusDuration.parse(text) == nil)
    }
}
