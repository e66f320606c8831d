import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

@Suite("Secrets")
struct SecretsTests {
    @Test func passwordsAndTokensNeverReachLogsStatusOrMetrics() async throws {
        let capture = LogCapture()
        let receiver = RemoteWriteReceiver(script: { _ in .respond(status: 401, body: "unauthorized\n") })
        try await receiver.start()
        let registry = MetricsRegistry()
        registry.gaugeFamily(name: "g", help: "g").series().set(1)
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
        try "file-token-xyz\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: tokenFile) }

        var withPassword = RemoteWriteTargetConfiguration(url: receiver.url)
        withPassword.name = "basic"
        withPassword.basicAuth = .init(username: "edge", password: "pw-s3cret-basic")
        withPassword.pushInterval = .milliseconds(100)
        var withToken = RemoteWriteTargetConfiguration(url: "http://user:url-s3cret@127.0.0.1:1/api/v1/write")
        withToken.name = "token"
        withToken.authorization = .init(credentialsFile: tokenFile.path)
        withToken.pushInterval = .milliseconds(100)
        withToken.queue.maxBackoff = .milliseconds(50)
        var configuration = RemoteWriteConfiguration(targets: [withPassword, withToken])
        configuration.shutdownTimeout = .milliseconds(300)
        let writer = try RemoteWriter(configuration: configuration, registry: registry, logger: capture.logger())
        let task = Task { try await writer.run() }
        // Until both targets failed at least once (a fixed sleep was too short under TSan).
        _ = try await receiver.waitUntil(timeout: .seconds(20)) { _ in
            writer.statuses.allSatisfy { $0.failedRequests >= 1 }
        }
        task.cancel()
        try await task.value
        await receiver.shutdown()

        let request = try #require(receiver.requests.first)
        #expect(request.header("Authorization") == "Basic " + Data("edge:pw-s3cret-basic".utf8).base64EncodedString())
        let everything =
            capture.all.joined(separator: "\n")
            + writer.statuses.map { "\($0)" }.joined(separator: "\n")
            + registry.exposition(format: .prometheusText)
            + "\(configuration.targets.map { "\($0)" })"
        #expect(!capture.all.isEmpty, "failures were logged")
        #expect(everything.contains("HTTP 401: unauthorized"), "the error body is logged as-is")
        for secret in ["pw-s3cret-basic", "file-token-xyz", "url-s3cret"] {
            #expect(!everything.contains(secret), "\(secret) leaked")
        }
    }

    @Test func unreadableCredentialsFileIsAClearStartupError() async throws {
        var target = RemoteWriteTargetConfiguration(url: "http://127.0.0.1:1/api/v1/write")
        target.basicAuth = .init(username: "u", passwordFile: "/nonexistent/secret")
        // The writer reads credential files on its target's thread, at run, not in init.
        let writer = try RemoteWriter(configuration: RemoteWriteConfiguration(targets: [target]))
        await #expect {
            try await writer.run()
        } throws: { error in
            "\(error)".contains("remote_write[0].basic_auth.password_file: cannot read '/nonexistent/secret'")
        }
    }

    @Test func worldReadableCredentialsFileEarnsAWarning() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)")
        try "hunter2-file\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        func warnings(mode: Int) async throws -> [String] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file.path)
            let capture = LogCapture()
            var target = RemoteWriteTargetConfiguration(url: "http://127.0.0.1:1/api/v1/write")
            target.basicAuth = .init(username: "u", passwordFile: file.path)
            var configuration = RemoteWriteConfiguration(targets: [target])
            configuration.shutdownTimeout = .milliseconds(100)
            let writer = try RemoteWriter(configuration: configuration, logger: capture.logger())
            let run = Task { try await writer.run() }
            // Set-up (and its warning) comes before the first request, which logs a failure.
            for _ in 0..<200 where !capture.all.contains(where: { $0.contains("failed") }) {
                try await Task.sleep(for: .milliseconds(10))
            }
            run.cancel()
            try await run.value
            #expect(capture.all.contains { $0.contains("failed") }, "the writer ran past set-up")
            return capture.all.filter { $0.contains("readable by every user") }
        }
        let loose = try await warnings(mode: 0o644)
        #expect(loose.count == 1)
        #expect(loose.first?.contains(file.path) == true)
        #expect(loose.first?.contains("hunter2") == false)
        #expect(try await warnings(mode: 0o600).isEmpty)
    }

    @Test func serverNameKeepsTheURLsUserInfo() async throws {
        let receiver = RemoteWriteReceiver()
        try await receiver.start()
        let port = try #require(receiver.boundPort)
        var target = RemoteWriteTargetConfiguration(url: "http://edge:pw%2Fsecret@127.0.0.1:\(port)/api/v1/write")
        target.name = "named"
        target.pushInterval = .milliseconds(100)
        var tls = RemoteWriteTargetConfiguration.TLSSettings()
        tls.serverName = "localhost"
        target.tls = tls
        let registry = MetricsRegistry()
        registry.gaugeFamily(name: "g", help: "g").series().set(1)
        let writer = try RemoteWriter(configuration: RemoteWriteConfiguration(targets: [target]), registry: registry)
        let task = Task { try await writer.run() }
        // (30 s: in a full suite on 2 cores the receiver's decode can wait behind other work.)
        #expect(try await receiver.waitUntil(timeout: .seconds(30)) { !$0.requests.isEmpty })
        task.cancel()
        try await task.value
        await receiver.shutdown()
        let request = try #require(receiver.requests.first)
        #expect(request.header("Host") == "localhost:\(port)", "server_name is the Host")
        #expect(
            request.header("Authorization") == "Basic " + Data("edge:pw/secret".utf8).base64EncodedString(),
            "the URL's user-info is still sent")
    }

    @Test(arguments: [
        ("https://u:p/ss@metrics.example/write", "percent-encode"),
        ("https://u:p?ss@metrics.example/write", "percent-encode"),
        ("https://u:p#ss@metrics.example/write", "percent-encode"),
        ("https://metrics.example:99999/write", "the port"),
        ("https://metrics.example:http/write", "the port"),
    ])
    func urlsThatWouldLeakOrCannotWorkAreRefusedWithoutEchoingThem(url: String, reason: String) {
        var target = RemoteWriteTargetConfiguration(url: url)
        target.name = "x"
        #expect {
            try RemoteWriteConfiguration(targets: [target]).validate()
        } throws: { error in
            "\(error)".contains(reason) && !"\(error)".contains("ss@") && !"\(error)".contains("p/ss")
        }
    }

    @Test func theDefaultRemoteNameIsHostAndPathWithoutUserInfoOrQuery() {
        let target = RemoteWriteTargetConfiguration(
            url: "https://u:secret@metrics.example:8443/api/v1/write?key=secret")
        #expect(target.resolvedName == "metrics.example:8443/api/v1/write")
        #expect("\(target)".contains("url: https://metrics.example:8443/api/v1/write?key=<redacted>"))
        #expect(!"\(target)".contains("secret"))
    }
}
