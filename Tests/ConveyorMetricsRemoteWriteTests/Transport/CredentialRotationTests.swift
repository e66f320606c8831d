import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

/// `credentials_file` and `password_file` are read again when they change: a rotated token is
/// used by the next request; a file that disappears keeps the last token, logged once, counted.
@Suite("Credential rotation")
struct CredentialRotationTests {
    @Test func aRotatedTokenIsUsedWithoutARestartAndAVanishedFileKeepsTheLastOne() async throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        let tokenFile = directory.path + "/token"
        try "token-one\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let passwordFile = directory.path + "/password"
        try "password-one\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let logs = LogCapture()
        let harness = try await PushHarness.make(
            configure: { target in target.authorization = .init(credentialsFile: tokenFile) }, logger: logs.logger())
        let basicReceiver = RemoteWriteReceiver()
        try await basicReceiver.start()
        var basic = RemoteWriteTargetConfiguration(url: basicReceiver.url)
        basic.name = "basic"
        basic.pushInterval = .milliseconds(100)
        basic.basicAuth = .init(username: "edge", passwordFile: passwordFile)
        let basicWriter = try RemoteWriter(
            configuration: RemoteWriteConfiguration(targets: [basic]), registry: harness.registry)
        let basicTask = Task { try await basicWriter.run() }
        let receiver = harness.receiver
        func tokens() -> [String] { receiver.requests.compactMap { $0.header("Authorization") } }
        func passwords() -> [String] {
            basicReceiver.requests.compactMap { $0.header("Authorization") }.compactMap { header in
                Data(base64Encoded: String(header.dropFirst("Basic ".count))).map {
                    String(decoding: $0, as: UTF8.self)
                }
            }
        }
        let writer = harness.writer
        let task = Task { try await writer.run() }
        var rotated = false
        var removed = false
        var afterRemoval = 0
        for _ in 0..<400 {
            try await Task.sleep(for: .milliseconds(50))
            if !rotated && tokens().contains("Bearer token-one") && passwords().contains("edge:password-one") {
                rotated = true
                try "token-two\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
                try "password-two\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
            } else if rotated && !removed && tokens().last == "Bearer token-two"
                && passwords().last == "edge:password-two"
            {
                removed = true
                afterRemoval = tokens().count
                try FileManager.default.removeItem(atPath: tokenFile)
            } else if removed && tokens().count >= afterRemoval + 3 {
                break
            }
        }
        #expect(removed && tokens().count >= afterRemoval + 3, "rotated, removed, and three requests after")
        task.cancel()
        try await task.value
        await receiver.shutdown()
        basicTask.cancel()
        try await basicTask.value
        await basicReceiver.shutdown()
        let seen = tokens()
        #expect(!seen.isEmpty)
        #expect(seen.first == "Bearer token-one")
        #expect(seen.contains("Bearer token-two"), "the rotated token is used without a restart")
        #expect(seen.last == "Bearer token-two", "the last good token stays in use after the file vanished")
        let oneThenTwo = seen.drop { $0 == "Bearer token-one" }.allSatisfy { $0 == "Bearer token-two" }
        #expect(oneThenTwo, "never back to the old token: \(seen)")
        #expect(passwords().contains("edge:password-two"), "a rotated password_file too")
        let warnings = logs.all.filter { $0.contains("authorization.credentials_file: cannot read") }
        #expect(warnings.count == 1, "logged once while the file stays unreadable: \(warnings)")
        #expect(!logs.all.joined().contains("token-two"), "the secret itself is never logged")
        #expect(
            harness.selfMetric("conveyor_metrics_remote_write_credential_read_failures_total", ["remote_name": "test"])
                == 1)
    }
}
