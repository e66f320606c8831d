import ConveyorMetricsExporter
import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetricsCLI

/// `exporter.web_config_file` and the web configuration file it names (TLS, basic auth).
@Suite("Web config")
struct WebConfigTests {
    static let hash = "$2y$10$ZihjeECVuwy8MS4cflI/jeJU3sFcronddjh3ZdTvPw9g9IqUr0zcS"
    /// A hash whose text must never appear in an error (it is well-formed: the errors below
    /// come from other keys, or from its user's entry being moved into the wrong place).
    static let secretHash = "$2y$10$HashS3CRETsaltAAAAAAAOHashS3CRETvalueAAAAAAAAAAAAAAAA"

    @Test func readsTLSBasicAuthAndHeaders() throws {
        let yaml = """
            tls_server_config:
              cert_file: certs/server.pem
              key_file: /etc/conveyor/server-key.pem
              client_ca_file: ca.pem
              client_auth_type: RequireAndVerifyClientCert
              min_version: TLS13
              max_version: TLS13
            http_server_config:
              http2: false
              headers: { X-Frame-Options: deny, Strict-Transport-Security: "max-age=60", X-XSS-Protection: "" }
            basic_auth_users:
              prometheus: \(Self.hash)
              grafana: \(Self.secretHash)
            """
        let config = try WebConfig.parse(yaml, file: "/srv/conveyor/web.yml")
        let tls = try #require(config.tls)
        #expect(tls.certificateFile == "/srv/conveyor/certs/server.pem", "relative to the web config's directory")
        #expect(tls.privateKeyFile == "/etc/conveyor/server-key.pem")
        #expect(tls.clientCAFile == "/srv/conveyor/ca.pem")
        #expect(tls.clientAuth == .requireAndVerifyClientCert)
        #expect(tls.minimumVersion == .tls13 && tls.maximumVersion == .tls13)
        #expect(config.basicAuthUsers == ["prometheus": Self.hash, "grafana": Self.secretHash])
        #expect(config.responseHeaders == ["X-Frame-Options": "deny", "Strict-Transport-Security": "max-age=60"])
        var exporter = MetricsExporter.Configuration()
        config.apply(to: &exporter)
        #expect(exporter.tls == tls && exporter.basicAuthUsers.count == 2)
    }

    @Test func emptySectionsAndDefaults() throws {
        #expect(try WebConfig.parse("", file: "w.yml") == WebConfig())
        #expect(try WebConfig.parse("basic_auth_users:\ntls_server_config: {}\n", file: "w.yml") == WebConfig())
        let tls = try #require(try WebConfig.parse("tls_server_config: {cert_file: a, key_file: b}", file: "w.yml").tls)
        #expect(tls.clientAuth == .noClientCert && tls.minimumVersion == .tls12 && tls.maximumVersion == .tls13)
        #expect(tls.certificateFile == "a", "no directory in the file name: relative to the working directory")
        let legacy = try WebConfig.parse(
            "tls_server_config: {cert_file: a, key_file: b, client_auth_type: RequireClientCert}", file: "w.yml")
        #expect(legacy.tls?.clientAuth == .requireAnyClientCert, "exporter-toolkit's old name")
    }

    @Test(arguments: [
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [x]\n",
            "tls_server_config.cipher_suites", "4:3"
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: [X25519]\n",
            "tls_server_config.curve_preferences", "4:3"
        ),
        (
            "tls_server_config:\n  prefer_server_cipher_suites: true\n",
            "tls_server_config.prefer_server_cipher_suites", "2:3"
        ),
        ("tls_server_config:\n  client_allowed_sans: [a]\n", "tls_server_config.client_allowed_sans", "2:3"),
        ("tls_server_config:\n  cert: inline\n", "tls_server_config.cert", "2:3"),
        ("tls_server_config:\n  key: inline\n", "tls_server_config.key", "2:3"),
        ("rate_limit:\n  burst: 1\n", "rate_limit", "1:1"),
        ("http_server_config:\n  http2: true\n", "http_server_config.http2", "2:3"),
    ])
    func unsupportedKeysAreErrorsThatSaySo(yaml: String, key: String, position: String) {
        let text = yaml + "basic_auth_users:\n  ops: \(Self.secretHash)\n"
        do {
            _ = try WebConfig.parse(text, file: "web.yml")
            Issue.record("accepted \(key)")
        } catch {
            #expect(error.key == key)
            #expect(error.description.hasPrefix("web.yml:\(position): \(key): not supported"), "\(error)")
            #expect(!error.description.contains("S3CRET"))
        }
    }

    @Test(arguments: [
        ("tls_server_config:\n  cert_fil: a\n", "tls_server_config.cert_fil", "unknown key", "2:3"),
        ("tls_server_config:\n  key_file: b\n", "tls_server_config.cert_file", "required", "1:1"),
        ("tls_server_config:\n  cert_file: a\n", "tls_server_config.key_file", "required", "1:1"),
        ("tls_server_config:\n  cert_file: ''\n  key_file: b\n", "tls_server_config.cert_file", "empty", "2:3"),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Sometimes\n",
            "tls_server_config.client_auth_type", "expected one of NoClientCert, RequestClientCert", "4:3"
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14\n",
            "tls_server_config.min_version",
            "expected one of TLS10, TLS11, TLS12, TLS13, got 'TLS14'", "4:3"
        ),
        ("basic_auth_users:\n  ops: not-a-hash\n", "basic_auth_users.ops", "expected a bcrypt hash", "2:3"),
        ("basic_auth_users:\n  ops: [1]\n", "basic_auth_users.ops", "expected a bcrypt hash", "2:3"),
        ("basic_auth_users: [a]\n", "basic_auth_users", "expected a mapping", "1:1"),
        (
            "http_server_config:\n  headers:\n    X-Powered-By: me\n", "http_server_config.headers.X-Powered-By",
            "cannot be set", "3:19"
        ),
        (
            "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
            "http_server_config.headers.X-Frame-Options",
            "expected one of deny, sameorigin", "3:22"
        ),
        ("tls_server_confg: {}\n", "tls_server_confg", "unknown key", "1:1"),
    ])
    func errorsNameFileLineColumnKeyAndReason(yaml: String, key: String, reason: String, position: String) {
        let text = yaml + "\n# \(Self.secretHash)\n"
        do {
            _ = try WebConfig.parse(text, file: "web.yml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.key == key, "\(error)")
            #expect(error.description.hasPrefix("web.yml:\(position): "), "\(error)")
            #expect(error.description.contains(reason), "\(error)")
            #expect(!error.description.contains("not-a-hash"), "a hash is never quoted: \(error)")
        }
    }

    @Test func aBadHashIsNamedByItsUserNeverQuoted() {
        let broken = String(Self.secretHash.dropLast())  // 59 characters: not a bcrypt hash
        do {
            _ = try WebConfig.parse("basic_auth_users:\n  alice: \(Self.hash)\n  ops: \(broken)\n", file: "web.yml")
            Issue.record("accepted a 59-character hash")
        } catch {
            #expect(error.description.hasPrefix("web.yml:3:3: basic_auth_users.ops: expected a bcrypt hash"))
            #expect(!error.description.contains("S3CRET"))
        }
    }

    /// `load` reads the files: a missing or unusable one is an error on the key that names it.
    @Test func loadChecksTheFilesItNames() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("webcfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let web = directory.appendingPathComponent("web.yml").path
        try "garbage\n".write(
            toFile: directory.appendingPathComponent("server.pem").path, atomically: true, encoding: .utf8)
        try
            "tls_server_config:\n  cert_file: server.pem\n  key_file: key.pem\nbasic_auth_users: {ops: \(Self.secretHash)}\n"
            .write(toFile: web, atomically: true, encoding: .utf8)
        do {
            _ = try WebConfig.load(path: web)
            Issue.record("accepted a certificate file without a certificate")
        } catch {
            #expect(error.file == web)
            #expect(error.key == "tls_server_config.cert_file")
            #expect(error.line == 2, "\(error)")
            #expect(error.description.contains(directory.appendingPathComponent("server.pem").path))
            #expect(error.description.contains("holds no PEM certificate"))
            #expect(!error.description.contains("S3CRET") && !error.description.contains("garbage"))
        }
        // The main file's key: resolved against its directory; a missing file is an error there.
        let main = directory.appendingPathComponent("conveyor.yml").path
        try "exporter:\n  listen: 127.0.0.1:9191\n  web_config_file: nowhere.yml\n".write(
            toFile: main, atomically: true, encoding: .utf8)
        do {
            _ = try ConfigFile.load(path: main)
            Issue.record("accepted a missing web config file")
        } catch {
            #expect(error.description.hasPrefix("\(main):3:3: exporter.web_config_file: "), "\(error)")
            #expect(
                error.description.contains(directory.appendingPathComponent("nowhere.yml").path + " does not exist"))
        }
        let parsed = try ConfigFile.parse("exporter:\n  web_config_file: web.yml\n", file: main)
        #expect(parsed.webConfigFile == web)
        #expect(parsed.web == WebConfig(), "parse alone reads no other file")
    }
}
