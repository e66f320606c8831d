import ConveyorMetricsTestSupport
import Foundation
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsExporter

/// The exporter under many connections and clients that half-close.
@Suite("Exporter under load")
struct ExporterLoadTests {
    @Test func fiveHundredConcurrentConnectionsAreAllServedAndAllReleased() async throws {
        let registry = MetricsRegistry()
        ConveyorRouterMetrics(registry: registry).recordRecordsReceived(sourceID: "s", count: 1)
        let exporter = MetricsExporter(configuration: .init(host: "127.0.0.1", port: 0), registry: registry)
        try await exporter.start()
        let port = exporter.boundPort ?? 0
        // Blocking socket calls run on their own thread, never on the Swift concurrency pool.
        var sockets = try await Self.offPool {
            try (0..<500).map { _ in
                try RawHTTPClient.connectSocket(host: "127.0.0.1", port: port, timeout: .seconds(20))
            }
        }
        defer { for fd in sockets { close(fd) } }
        for _ in 0..<500 where exporter.openConnections < 500 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(exporter.openConnections == 500, "all 500 held at once")
        let held = sockets
        let served = try await Self.offPool {
            let request = Array("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
            for fd in held { _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) } }
            return held.filter { fd in
                let response = RawHTTPClient.parse(Self.readToEnd(fd)).first
                return response?.status == 200
                    && response?.text.contains("conveyor_router_records_received_total") == true
            }.count
        }
        #expect(served == 500)
        for fd in sockets { close(fd) }
        sockets = []
        for _ in 0..<500 where exporter.openConnections > 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(exporter.openConnections == 0, "every connection's descriptor is released")
        await exporter.shutdown()
    }

    @Test func fiftySlowClientsTricklingHeadersDoNotStopOthersBeingServed() async throws {
        // A request deadline no loaded machine reaches during the rounds: the slow clients
        // must still be connected at the end (the deadline has tests of its own).
        var configuration = MetricsExporter.Configuration(host: "127.0.0.1", port: 0)
        configuration.requestDeadline = .seconds(120)
        let exporter = MetricsExporter(configuration: configuration, registry: MetricsRegistry())
        try await exporter.start()
        let port = exporter.boundPort ?? 0
        var slow: [Int32] = []
        defer { for fd in slow { close(fd) } }
        for _ in 0..<50 {
            let fd = try RawHTTPClient.connectSocket(host: "127.0.0.1", port: port, timeout: .seconds(5))
            let partial = Array("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: a".utf8)
            _ = partial.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            slow.append(fd)
        }
        for round in 0..<10 {
            for fd in slow { _ = [UInt8(ascii: "a")].withUnsafeBytes { send(fd, $0.baseAddress, 1, 0) } }
            let status = try await RawHTTPClient(port: port).get("/-/healthy").status
            #expect(status == 200, "round \(round): served while 50 clients trickle")
        }
        #expect(exporter.openConnections >= 50, "the slow clients are still connected (within the deadline)")
        await exporter.shutdown()
    }

    @Test func aClientThatHalfClosesAfterItsRequestStillGetsTheAnswer() async throws {
        let exporter = MetricsExporter(configuration: .init(host: "127.0.0.1", port: 0), registry: MetricsRegistry())
        try await exporter.start()
        let port = exporter.boundPort ?? 0
        let response = try await Self.offPool {
            let fd = try RawHTTPClient.connectSocket(host: "127.0.0.1", port: port, timeout: .seconds(5))
            defer { close(fd) }
            let request = Array("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            shutdown(fd, Int32(SHUT_WR))
            return RawHTTPClient.parse(Self.readToEnd(fd))
        }
        #expect(response.first?.status == 200)
        for _ in 0..<200 where exporter.openConnections > 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(exporter.openConnections == 0, "the half-closed connection is closed after the answer")
        await exporter.shutdown()
    }

    /// Runs blocking work on a new thread and waits for it without holding a pool thread.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Reads until the peer closes or the socket's receive timeout passes.
    static func readToEnd(_ fd: Int32) -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received.append(contentsOf: buffer[0..<count])
        }
        return received
    }
}
