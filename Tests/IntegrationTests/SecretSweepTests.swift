import ConveyorMetricsTestSupport
import Foundation
import Logging
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsCLI
@testable import ConveyorMetricsRemoteWrite

/// Plants a secret in every secret-bearing key (passwords, tokens, URL user-info, query
/// values, a proxy's user-info, header values), breaks the file in every way the checks know,
/// and looks for the secrets in everything that comes out: `check-config`'s stdout and stderr,
/// the error descriptions, and, for the valid file, a writer's logs, metrics and description.
@Suite("Secret sweep")
struct SecretSweepTests {
    static let secrets = [
        "pw-S3CRET-basic", "tok-S3CRET-bearer", "url-S3CRET-pass", "query-S3CRET-key", "proxy-S3CRET-pass",
        "hdr-S3CRET-value",
    ]

    /// A valid file holding every secret.
    static let valid = """
        exporter:
          listen: 127.0.0.1:9090
        remote_write:
          - url: https://edge:url-S3CRET-pass@metrics.example/api/v1/write?api_key=query-S3CRET-key&tenant=a
            name: central
            basic_auth:
              username: edge
              password: pw-S3CRET-basic
            headers:
              X-Api-Key: hdr-S3CRET-value
            proxy_url: http://proxy-user:proxy-S3CRET-pass@127.0.0.1:3128
          - url: http://user:url-S3CRET-pass@127.0.0.1:8428/api/v1/write?api_key=query-S3CRET-key
            authorization:
              credentials: tok-S3CRET-bearer
            queue_config:
              capacity: 1000

        """

    /// `text` with each non-empty line broken in turn: each of `breakages` appended, the value
    /// after its colon replaced by each of `values`, and its key made unknown.
    static func breakEveryLine(of text: String, breakages: [String], values: [String]) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var files: [String] = []
        for (index, line) in lines.enumerated() where !line.isEmpty {
            for breakage in breakages {
                var broken = lines
                broken[index] = line + breakage
                files.append(broken.joined(separator: "\n"))
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            for value in values {
                var broken = lines
                broken[index] = String(line[...colon]) + " " + value
                files.append(broken.joined(separator: "\n"))
            }
            var unknown = lines
            unknown[index] = line.replacingOccurrences(of: ":", with: "x:", options: [], range: nil)
            files.append(unknown.joined(separator: "\n"))
        }
        return files
    }

    /// Every way to break the file: a syntax error on each line, a wrong type or value for
    /// each key, and URLs that are invalid in ways that touch their secrets.
    static func brokenFiles() -> [String] {
        var files = breakEveryLine(
            of: valid, breakages: [": : x", " \"", " [", "\t", " &", " *nowhere"],
            values: ["[1, 2]", "{a: b}", "", "0s"])
        for url in [
            "ftp://edge:url-S3CRET-pass@metrics.example/write?api_key=query-S3CRET-key",
            "https://edge:url-S3CRET/pass@metrics.example/write",
            "https://edge:url-S3CRET?pass@metrics.example/write",
            "https://edge:url-S3CRET#pass@metrics.example/write",
            "https://edge:url-S3CRET-pass@metrics.example:99999/write?api_key=query-S3CRET-key",
            "https://edge:url-S3CRET-pass@/write",
        ] {
            files.append(
                valid.replacingOccurrences(
                    of: "https://edge:url-S3CRET-pass@metrics.example/api/v1/write?api_key=query-S3CRET-key&tenant=a",
                    with: url))
        }
        files.append(
            valid.replacingOccurrences(
                of: "      password: pw-S3CRET-basic",
                with: "      password: pw-S3CRET-basic\n      password_file: /run/x"))
        files.append(
            valid.replacingOccurrences(
                of: "    proxy_url: http://proxy-user:proxy-S3CRET-pass@127.0.0.1:3128",
                with: "    proxy_url: gopher://proxy-user:proxy-S3CRET-pass@127.0.0.1:3128"))
        return files
    }

    @Test func noSecretInAnyErrorOfTheConfigFile() throws {
        let files = Self.brokenFiles()
        #expect(files.count > 150, "\(files.count) broken files")
        var errors = 0
        for (index, text) in files.enumerated() {
            do {
                _ = try ConfigFile.parse(text, file: "sweep-\(index).yml")
            } catch {
                errors += 1
                for secret in Self.secrets {
                    #expect(!error.description.contains(secret), "\(secret) in: \(error.description)")
                }
                #expect(error.line != nil, "a position for: \(error.description)")
            }
        }
        #expect(errors > 100, "\(errors) of \(files.count) broken files were refused")
    }

    @Test func noSecretInCheckConfigOutput() async throws {
        let executable = PackagePaths.executable.path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            Issue.record("conveyor-metrics not built at \(executable)")
            return
        }
        let files = [Self.valid] + Self.brokenFiles().enumerated().filter { $0.offset % 4 == 0 }.map(\.element)
        #expect(files.count > 40)
        // The runs block (Process, pipes): on a thread of their own, never the Swift pool.
        let results: [(status: Int32, output: String)] = try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    let directory = TemporaryDirectory()
                    try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
                    var results: [(status: Int32, output: String)] = []
                    for (index, text) in files.enumerated() {
                        let path = directory.path + "/sweep-\(index).yml"
                        try text.write(toFile: path, atomically: true, encoding: .utf8)
                        let result = try ExternalTool.runBlocking(executable, ["check-config", path])
                        results.append((result.status, result.output))
                    }
                    continuation.resume(returning: results)
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
        #expect(results.count == files.count)
        #expect(results.first?.status == 0, "the valid file passes: \(results.first?.output ?? "")")
        #expect(results.filter { $0.status != 0 }.count > 20)
        for result in results {
            for secret in Self.secrets {
                #expect(!result.output.contains(secret), "\(secret) in check-config output: \(result.output)")
            }
        }
    }

    /// A web configuration file whose basic-auth hash holds a planted secret (well-formed:
    /// bcrypt's alphabet has the letters and digits).
    static let webSecret = "HashS3CRETsweep"
    static let validWeb = """
        tls_server_config:
          cert_file: server.pem
          key_file: server-key.pem
          client_ca_file: ca.pem
          client_auth_type: RequireAndVerifyClientCert
          min_version: TLS12
        http_server_config:
          headers:
            X-Frame-Options: deny
        basic_auth_users:
          prometheus: $2y$10$HashS3CRETsweepAAAAAAOHashS3CRETsweepAAAAAAAAAAAAAAAA
          grafana: $2y$10$ZihjeECVuwy8MS4cflI/jeJU3sFcronddjh3ZdTvPw9g9IqUr0zcS

        """

    /// The web file broken every way the main file is (`brokenFiles`), plus the hash cut,
    /// lengthened and moved, and every unsupported key added.
    static func brokenWebFiles() -> [String] {
        var files = breakEveryLine(
            of: validWeb, breakages: [": : x", " \"", " [", "\t", " &", " *nowhere", "x", "!"],
            values: ["[1, 2]", "{a: b}", "", "TLS99"])
        for key in ["cipher_suites: [a]", "curve_preferences: [X25519]", "client_allowed_sans: [a]", "key: inline"] {
            files.append(
                validWeb.replacingOccurrences(of: "  min_version: TLS12", with: "  min_version: TLS12\n  \(key)"))
        }
        files.append(validWeb.replacingOccurrences(of: "sweepAAAAAAAAAAAAAAAA", with: "sweepAAAAAAAAAAAAAAA"))
        files.append(validWeb.replacingOccurrences(of: "sweepAAAAAAAAAAAAAAAA", with: "sweepAAAAAAAAAAAAAAAA="))
        files.append(validWeb.replacingOccurrences(of: "  prometheus: $2y$", with: "  prometheus: $1$"))
        files.append(validWeb.replacingOccurrences(of: "basic_auth_users:\n", with: "basic_auth_users:\n  - "))
        files.append(validWeb + "rate_limit: {burst: 1}\n")
        return files
    }

    @Test func noSecretInAnyErrorOfTheWebConfigFile() throws {
        let files = Self.brokenWebFiles()
        #expect(files.count > 100, "\(files.count) broken web config files")
        var errors = 0
        for (index, text) in files.enumerated() {
            do {
                _ = try WebConfig.parse(text, file: "web-\(index).yml")
            } catch {
                errors += 1
                #expect(!error.description.contains(Self.webSecret), "the hash in: \(error.description)")
                #expect(error.line != nil, "a position for: \(error.description)")
            }
        }
        #expect(errors > 80, "\(errors) of \(files.count) broken web config files were refused")
        // The valid file, its files missing: check-config's path, the secret never shows.
        do {
            _ = try WebConfig.parse(Self.validWeb, file: "/nonexistent/web.yml", checkFiles: true)
            Issue.record("missing certificate files were accepted")
        } catch {
            #expect(error.key == "tls_server_config.cert_file")
            #expect(!error.description.contains(Self.webSecret))
        }
    }

    @Test func noSecretInCheckConfigOutputForWebConfigs() async throws {
        let executable = PackagePaths.executable.path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            Issue.record("conveyor-metrics not built at \(executable)")
            return
        }
        let files = Self.brokenWebFiles().enumerated().filter { $0.offset % 5 == 0 }.map(\.element)
        #expect(files.count > 20)
        // Blocking process runs: on a thread of their own, never the Swift pool.
        let outputs: [String] = try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    let directory = TemporaryDirectory()
                    try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
                    let main = directory.path + "/conveyor.yml"
                    try "exporter:\n  web_config_file: web.yml\n".write(toFile: main, atomically: true, encoding: .utf8)
                    var outputs: [String] = []
                    for text in [Self.validWeb] + files {
                        try text.write(toFile: directory.path + "/web.yml", atomically: true, encoding: .utf8)
                        let result = try ExternalTool.runBlocking(executable, ["check-config", main])
                        outputs.append("\(result.status) \(result.output)")
                    }
                    continuation.resume(returning: outputs)
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
        #expect(outputs.allSatisfy { !$0.hasPrefix("0 ") }, "every one fails (the valid one: no certificate files)")
        for output in outputs {
            #expect(!output.contains(Self.webSecret), "the hash in check-config output: \(output)")
        }
    }

    @Test func noSecretInAWritersLogsMetricsOrDescription() async throws {
        let config = try ConfigFile.parse(
            Self.valid.replacingOccurrences(of: "metrics.example", with: "127.0.0.1:1"), file: "valid.yml")
        let logs = LogCapture()
        let registry = MetricsRegistry()
        var push = config.remoteWriteConfiguration
        for index in push.targets.indices {
            push.targets[index].pushInterval = .milliseconds(50)
            push.targets[index].queue.maxBackoff = .milliseconds(50)
            push.targets[index].proxyURL = nil  // no proxy listens here; the description test below covers it
        }
        push.shutdownTimeout = .milliseconds(200)
        let writer = try RemoteWriter(configuration: push, registry: registry, logger: logs.logger())
        let task = Task { try await writer.run() }
        for _ in 0..<100 where writer.statuses.contains(where: { $0.failedRequests < 2 }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        task.cancel()
        try await task.value
        let everything =
            logs.all.joined(separator: "\n") + registry.exposition() + registry.exposition(format: .openMetrics)
            + writer.statuses.map { "\($0)" }.joined() + config.remoteWrite.map { "\($0)" }.joined()
            + config.remoteWrite.map { "\(String(reflecting: $0))" }.joined()
        #expect(!logs.all.isEmpty, "the failing pushes were logged")
        #expect(everything.contains("api_key=<redacted>"), "query values are redacted, names kept")
        for secret in Self.secrets {
            #expect(!everything.contains(secret), "\(secret) leaked")
        }
    }
}
