import ConveyorMetricsTestSupport
import Foundation
import NIOCore
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite
@testable import ConveyorMetricsTestKit

#if canImport(Glibc)
    import Glibc
#endif

/// Each limit of a receiver facing a hostile peer: what the peer gets, and that the
/// receiver still serves the next well-behaved request.
@Suite("Receiver limits")
struct ReceiverLimitsTests {
    private static let protocolHeaders = [
        ("Content-Encoding", "snappy"), ("Content-Type", "application/x-protobuf"),
        ("X-Prometheus-Remote-Write-Version", "0.1.0"),
    ]

    private static func request(_ body: [UInt8], keepAlive: Bool = false, extraHeaders: String = "") -> [UInt8] {
        let headers = protocolHeaders.map { "\($0.0): \($0.1)\r\n" }.joined()
        let connection = keepAlive ? "" : "Connection: close\r\n"
        let head =
            "POST /api/v1/write HTTP/1.1\r\nHost: x\r\n\(connection)\(headers)\(extraHeaders)"
            + "Content-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }

    private static let validBody = Snappy.compress(
        WriteRequestEncoder().encode([
            RemoteTimeSeries(
                labels: [Label(name: "__name__", value: "up")],
                samples: [RemoteSample(value: 1, timestampMilliseconds: 1_700_000_000_000)])
        ]))

    private static func status(_ raw: [UInt8]) -> Int? { RawHTTPClient.parse(raw).first?.status }

    private func withReceiver(
        _ limits: RemoteWriteReceiver.Limits = .init(),
        script: @escaping @Sendable (Int) -> ReceiverAction = { _ in .accept },
        _ body: (RemoteWriteReceiver, RawHTTPClient) async throws -> Void
    ) async throws {
        let receiver = RemoteWriteReceiver(limits: limits, script: script)
        try await receiver.start()
        do {
            try await body(receiver, RawHTTPClient(port: try #require(receiver.boundPort)))
        } catch {
            await receiver.shutdown()
            throw error
        }
        await receiver.shutdown()
    }

    /// Polls `condition` for up to 10 s (a bound, not a speed assertion).
    private func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<200 {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    /// The issue's expansion: a few MiB of empty labels is 413 with the limit's name, decoded
    /// off the event loop, and the receiver goes on.
    @Test func anExpandingBodyIsRefusedWithTheLimitItBroke() async throws {
        var series = WireBytes()
        for _ in 0..<3_000_000 { series.field(1, bytes: []) }
        var request = WireBytes()
        request.field(1, bytes: series.bytes)
        let body = Snappy.compress(request.bytes)
        try await withReceiver { receiver, client in
            let raw = try await client.exchange(Self.request(body))
            let response = try #require(RawHTTPClient.parse(raw).first)
            #expect(response.status == 413)
            #expect(response.text.contains("limit max_"), "\(response.text)")
            #expect(Self.status(try await client.exchange(Self.request(Self.validBody))) == 204)
            #expect(receiver.decodes.load(ordering: .relaxed) == 2)
            #expect(receiver.decodesOnEventLoop.load(ordering: .relaxed) == 0)
            #expect(receiver.checker.totals.rejectedRequests == 1 && receiver.checker.totals.acceptedRequests == 1)
        }
    }

    @Test func connectionsBeyondTheCapAreClosedOnArrival() async throws {
        var limits = RemoteWriteReceiver.Limits()
        limits.maxConnections = 4
        try await withReceiver(limits) { receiver, client in
            let held = try (0..<4).map { _ in
                try RawHTTPClient.connectSocket(host: "127.0.0.1", port: client.port, timeout: .seconds(5))
            }
            // Each descriptor is closed once: a second close could hit a number another test reuses.
            defer { held.dropFirst().forEach { close($0) } }
            #expect(try await eventually { receiver.openConnections == 4 })
            let refused = try await client.exchangeUntilClosed(Self.request(Self.validBody))
            #expect(refused.closedByPeer && refused.received.isEmpty)
            #expect(receiver.refusedConnections == 1)
            close(held[0])
            #expect(try await eventually { receiver.openConnections == 3 })
            #expect(Self.status(try await client.exchange(Self.request(Self.validBody))) == 204)
        }
    }

    @Test func aHeadThatNeverEndsIsCutOffAt408() async throws {
        var limits = RemoteWriteReceiver.Limits()
        limits.headerReadTimeout = .milliseconds(300)
        try await withReceiver(limits) { _, client in
            let slow = try await client.exchangeUntilClosed(Array("POST /api/v1/write HTTP/1.1\r\nHost: x\r\n".utf8))
            #expect(slow.closedByPeer)
            #expect(Self.status(slow.received) == 408)
            #expect(Self.status(try await client.exchange(Self.request(Self.validBody))) == 204)
        }
    }

    @Test func aBodyThatNeverEndsIsCutOffAt408() async throws {
        var limits = RemoteWriteReceiver.Limits()
        limits.bodyReadTimeout = .milliseconds(300)
        try await withReceiver(limits) { receiver, client in
            let partial = Array(Self.request(Self.validBody).dropLast(5))
            let slow = try await client.exchangeUntilClosed(partial)
            #expect(slow.closedByPeer)
            #expect(Self.status(slow.received) == 408)
            #expect(try await eventually { receiver.heldBodyBytes == 0 }, "a cut-off body gives its bytes back")
        }
    }

    @Test func anIdleConnectionIsClosed() async throws {
        var limits = RemoteWriteReceiver.Limits()
        limits.idleTimeout = .milliseconds(300)
        try await withReceiver(limits) { _, client in
            let idle = try await client.exchangeUntilClosed([])
            #expect(idle.closedByPeer && idle.received.isEmpty)
            // After an answered keep-alive request, too.
            let afterRequest = try await client.exchangeUntilClosed(Self.request(Self.validBody, keepAlive: true))
            #expect(afterRequest.closedByPeer && Self.status(afterRequest.received) == 204)
        }
    }

    /// NIO passes a pipelined request on before the previous answer reaches the socket: that
    /// answer must not make the connection look idle while the next request is worked on.
    @Test func aPipelinedRequestIsNotCutOffByTheIdleTimeout() async throws {
        var limits = RemoteWriteReceiver.Limits()
        limits.idleTimeout = .milliseconds(300)
        try await withReceiver(
            limits, script: { index in index == 1 ? .delay(.milliseconds(900), then: .accept) : .accept }
        ) {
            _, client in
            let both = Self.request(Self.validBody, keepAlive: true) + Self.request(Self.validBody)
            // (A 204 carries no Content-Length, so the answers are counted by their status lines.)
            let raw = String(decoding: try await client.exchange(both), as: UTF8.self)
            #expect(raw.components(separatedBy: "HTTP/1.1 204").count - 1 == 2, "\(raw)")
        }
    }

    /// Requests answered 404 or 405 keep none of their body in the shared budget.
    @Test func requestsToOtherPathsHoldNoBodyBytes() async throws {
        var limits = RemoteWriteReceiver.Limits()
        limits.maxBufferedBodyBytes = 10_000
        try await withReceiver(limits) { receiver, client in
            var requests: [UInt8] = []
            for path in ["/x", "/api/v1/write?x", "/metrics"] {
                let head = "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n"
                requests += Array(head.utf8) + [UInt8](repeating: 1, count: 4000)
            }
            requests += Array("GET /api/v1/write HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n".utf8)
            requests += [UInt8](repeating: 1, count: 4000)
            requests += Self.request(Self.validBody)
            let statuses = RawHTTPClient.parse(try await client.exchange(requests)).map(\.status)
            #expect(statuses.count == 5 && statuses[0] == 404 && statuses[2] == 404 && statuses[3] == 405)
            #expect(statuses.last == 204, "the valid request still fits the budget: \(statuses)")
            #expect(try await eventually { receiver.heldBodyBytes == 0 })
        }
    }

    @Test func anOversizedHeadIs431() async throws {
        var limits = RemoteWriteReceiver.Limits()
        limits.maxHeaderBytes = 1024
        try await withReceiver(limits) { _, client in
            let padding = "X-Padding: \(String(repeating: "p", count: 8192))\r\n"
            let raw = try await client.exchange(Self.request(Self.validBody, extraHeaders: padding))
            #expect(Self.status(raw) == 431)
            #expect(Self.status(try await client.exchange(Self.request(Self.validBody))) == 204)
        }
    }

    @Test func anOversizedBodyIs413WhetherDeclaredOrNot() async throws {
        var limits = RemoteWriteReceiver.Limits()
        limits.maxBodyBytes = 1000
        try await withReceiver(limits) { receiver, client in
            let large = [UInt8](repeating: 7, count: 5000)
            let declared = try await client.exchange(Self.request(large))
            #expect(Self.status(declared) == 413)
            // Chunked: no length up front, refused as it grows past the limit.
            let headers = Self.protocolHeaders.map { "\($0.0): \($0.1)\r\n" }.joined()
            var chunked = Array(
                "POST /api/v1/write HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\(headers)Transfer-Encoding: chunked\r\n\r\n"
                    .utf8)
            let chunk: [UInt8] = Array("3e8\r\n".utf8) + [UInt8](repeating: 1, count: 1000) + Array("\r\n".utf8)
            for _ in 0..<5 { chunked.append(contentsOf: chunk) }
            chunked.append(contentsOf: Array("0\r\n\r\n".utf8))
            let undeclared = try await client.exchange(chunked)
            #expect(Self.status(undeclared) == 413)
            #expect(receiver.heldBodyBytes == 0)
            let valid = try await client.exchange(Self.request(Self.validBody))
            #expect(Self.status(valid) == 204)
        }
    }

    /// Bodies held at once are bounded over all connections: while one request is held (a
    /// slow answer), another that does not fit is told to retry.
    @Test func bodiesBeyondTheSharedBudgetAreAnswered503() async throws {
        var limits = RemoteWriteReceiver.Limits()
        limits.maxBufferedBodyBytes = Self.validBody.count + 10
        try await withReceiver(
            limits,
            script: { index in
                index == 0 ? .delay(.seconds(3), then: .accept) : .accept
            }
        ) { receiver, client in
            async let held = client.exchange(Self.request(Self.validBody))
            // Sent as soon as the first body is held, from a thread of its own.
            let raw = try await client.exchange(Self.request(Self.validBody)) {
                receiver.heldBodyBytes == Self.validBody.count
            }
            let sent = try #require(raw, "the first body was never held")
            let busy = try #require(RawHTTPClient.parse(sent).first)
            #expect(busy.status == 503 && busy.header("Retry-After") == "1")
            #expect(Self.status(try await held) == 204)
            #expect(try await eventually { receiver.heldBodyBytes == 0 })
            #expect(Self.status(try await client.exchange(Self.request(Self.validBody))) == 204)
        }
    }
}
