import ConveyorMetricsTestSupport
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A client that pipelines requests and never reads its answers, against the demo
/// executable (its own process, so its resident memory is its own).
@Suite("Exporter under a pipelining flood", .serialized)
struct ExporterFloodTests {
    /// What the flooding connection did.
    struct Flood: Sendable {
        var requestsSent = 0
        var closedByServer = false
    }

    /// ``Flood`` shared with the flooding thread.
    final class FloodState: Sendable {
        let value = Mutex(Flood())
    }

    @Test func pipelinedRequestsThatAreNeverReadStayBoundedAndOthersAreServed() async throws {
        let executable = PackagePaths.executable.path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            Issue.record("conveyor-metrics not built at \(executable)")
            return
        }
        let (process, port) = try await Self.startDemo(executable)
        defer {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        let client = RawHTTPClient(port: port)
        for _ in 0..<5 { #expect(try await client.get("/metrics").status == 200) }
        let before = try #require(Self.residentBytes(of: process.processIdentifier))

        // 100,000 pipelined requests on one connection that is never read, for up to 15 s:
        // longer than the exporter's 10 s request deadline.
        let flood = FloodState()
        let flooding = Task.detached {
            try await Self.flood(port: port, requests: 100_000, for: .seconds(15), into: flood)
        }
        var peak = before
        var served = 0
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(250))
            if (try? await client.get("/metrics").status) == 200 { served += 1 }
            peak = max(peak, Self.residentBytes(of: process.processIdentifier) ?? 0)
        }
        try await flooding.value
        for _ in 0..<20 {
            peak = max(peak, Self.residentBytes(of: process.processIdentifier) ?? 0)
            try await Task.sleep(for: .milliseconds(100))
        }
        let after = try #require(Self.residentBytes(of: process.processIdentifier))
        let result = flood.value.withLock { $0 }
        print(
            "flood: \(result.requestsSent) pipelined requests sent, closed by the server: \(result.closedByServer);"
                + " demo resident \(before >> 10) KiB before, peak +\((peak - before) >> 10) KiB,"
                + " after +\((after - before) >> 10) KiB; \(served) of 20 scrapes served meanwhile")
        #expect(result.requestsSent > 1_000, "the flood got going: \(result.requestsSent) requests sent")
        #expect(served == 20, "normal scrapes are served during the flood (\(served) of 20)")
        #expect(peak - before < 16 << 20, "resident memory grew \((peak - before) >> 10) KiB under the flood")
        #expect(after - before < 16 << 20, "and stays down after it: \((after - before) >> 10) KiB")
        #expect(result.closedByServer, "the server closes a connection whose answers are never read")
        #expect(try await client.get("/metrics").status == 200)
    }

    /// Writes `requests` pipelined GETs without reading, until all are sent, the server
    /// closes, or `duration` passes (on its own thread: blocking socket calls).
    static func flood(port: Int, requests: Int, for duration: Duration, into state: FloodState) async throws {
        let request = Array("GET /metrics HTTP/1.1\r\nHost: flood\r\n\r\n".utf8)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread {
                do {
                    let fd = try RawHTTPClient.connectSocket(host: "127.0.0.1", port: port, timeout: .seconds(1))
                    defer { close(fd) }
                    let batch = Array([[UInt8]](repeating: request, count: 100).joined())
                    let deadline = Date().addingTimeInterval(duration.seconds)
                    var sentRequests = 0
                    var offset = 0
                    while sentRequests < requests && Date() < deadline {
                        let sent = batch[offset...].withUnsafeBytes {
                            send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                        }
                        if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                            if Self.peerClosed(fd) { break }
                            continue  // SO_SNDTIMEO (1 s) passed: the server is not reading
                        }
                        if sent <= 0 { break }
                        offset += sent
                        if offset == batch.count {
                            offset = 0
                            sentRequests += 100
                            state.value.withLock { $0.requestsSent = sentRequests }
                        }
                    }
                    while Date() < deadline && !Self.peerClosed(fd) { Thread.sleep(forTimeInterval: 0.2) }
                    let closed = Self.peerClosed(fd)
                    state.value.withLock { $0.closedByServer = closed }
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    /// Whether the server closed (or reset) the connection, asked without reading: reading
    /// the answers would let the server go on.
    static func peerClosed(_ fd: Int32) -> Bool {
        let rdhup: Int16 = 0x2000  // POLLRDHUP (Linux), which Glibc does not export to Swift
        var entry = pollfd(fd: fd, events: rdhup, revents: 0)
        guard poll(&entry, 1, 0) > 0 else { return false }
        return entry.revents & (rdhup | Int16(POLLHUP) | Int16(POLLERR)) != 0
    }

    /// VmRSS of `pid`, in bytes.
    static func residentBytes(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    /// The demo on a free loopback port (a port taken meanwhile is tried again).
    static func startDemo(_ executable: String) async throws -> (Process, Int) {
        for _ in 0..<3 {
            let port = try ExternalServer.freePort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["demo", "--listen", "127.0.0.1:\(port)", "--status-interval", "60"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            for _ in 0..<100 where process.isRunning {
                if (try? await RawHTTPClient(port: port).get("/-/healthy").status) == 200 { return (process, port) }
                try await Task.sleep(for: .milliseconds(100))
            }
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        throw TestFailure("the demo did not start")
    }
}
