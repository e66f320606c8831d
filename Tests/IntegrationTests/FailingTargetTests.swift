import ConveyorMetricsTestSupport
import Foundation
import Logging
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// Targets that never answer well: a host that does not resolve, a TLS server whose
/// certificate is not trusted (a real `openssl s_server`). Each is retried, logged once,
/// never a crash.
@Suite("Failing targets")
struct FailingTargetTests {
    @Test func anUnresolvableHostIsRetriedAndLoggedOnce() async throws {
        let logs = LogCapture()
        let status = try await Self.statusAfterThreeFailures(
            url: "http://conveyor-metrics-test.invalid/api/v1/write", logs: logs)
        #expect(status.failedRequests >= 3)
        #expect(status.lastError?.lowercased().contains("resolve") == true, "\(status.lastError ?? "-")")
        let logged = logs.all.filter { $0.contains("remote write failed") && $0.lowercased().contains("resolve") }
        #expect(logged.count == 1, "logged once for \(status.failedRequests) failures")
    }

    @Test func aSelfSignedCertificateWithoutCAFileFailsTheHandshakeCleanly() async throws {
        guard let openssl = ExternalTool.require("openssl") else { return }
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        let key = directory.path + "/key.pem"
        let cert = directory.path + "/cert.pem"
        let made = try await ExternalTool.run(
            openssl,
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout",
                key, "-out", cert,
            ])
        #expect(made.status == 0, "\(made.output)")
        let server = try await TLSServer(openssl: openssl, cert: cert, key: key)
        defer { server.stop() }
        let logs = LogCapture()
        let status = try await Self.statusAfterThreeFailures(
            url: "https://localhost:\(server.port)/api/v1/write", logs: logs)
        #expect(status.succeededRequests == 0)
        #expect(status.failedRequests >= 3)
        #expect(status.lastError?.lowercased().contains("certificate") == true, "\(status.lastError ?? "-")")
        let logged = logs.all.filter { $0.contains("remote write failed") && $0.lowercased().contains("certificate") }
        #expect(logged.count == 1, "logged once for \(status.failedRequests) failures")
        #expect(server.isRunning, "the server saw handshakes, not a crash")
    }

    /// Pushes to `url` until three requests failed; the status is read before shutdown,
    /// whose deadline may abort a last attempt with another error.
    private static func statusAfterThreeFailures(url: String, logs: LogCapture) async throws
        -> RemoteWriteTargetStatus
    {
        var target = RemoteWriteTargetConfiguration(url: url)
        target.name = "failing"
        target.pushInterval = .milliseconds(100)
        target.remoteTimeout = .seconds(2)
        target.queue.minBackoff = .milliseconds(10)
        target.queue.maxBackoff = .milliseconds(50)
        var configuration = RemoteWriteConfiguration(targets: [target])
        configuration.shutdownTimeout = .milliseconds(300)
        let writer = try RemoteWriter(configuration: configuration, registry: MetricsRegistry(), logger: logs.logger())
        let task = Task { try await writer.run() }
        for _ in 0..<100 where (writer.statuses.first?.failedRequests ?? 0) < 3 {
            try await Task.sleep(for: .milliseconds(50))
        }
        let status = try #require(writer.statuses.first)
        task.cancel()
        try await task.value
        return status
    }
}

/// `openssl s_server` with a self-signed certificate on a free loopback port.
final class TLSServer: Sendable {
    let port: Int
    private let process: Process

    init(openssl: String, cert: String, key: String) async throws {
        for _ in 0..<3 {
            let port = try ExternalServer.freePort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: openssl)
            process.arguments = [
                "s_server", "-quiet", "-accept", "127.0.0.1:\(port)", "-cert", cert, "-key", key, "-www",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            process.standardInput = Pipe()
            try process.run()
            for _ in 0..<50 where process.isRunning {
                if let socket = try? RawHTTPClient.connectSocket(host: "127.0.0.1", port: port, timeout: .seconds(1)) {
                    close(socket)
                    self.port = port
                    self.process = process
                    return
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        throw TestFailure("openssl s_server did not start")
    }

    var isRunning: Bool { process.isRunning }

    /// SIGKILL: s_server does not stop on SIGTERM while it waits for input.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
