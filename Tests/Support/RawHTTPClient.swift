import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A deliberately low-level HTTP/1.1 client for tests: it sends exactly the bytes given
/// (so tests can send malformed, huge, pipelined or trickled requests) over loopback and
/// reads until the peer closes or the timeout passes. Blocking socket calls run on their
/// own thread, never on the Swift concurrency pool.
package struct RawHTTPClient {
    package struct Response {
        package let status: Int
        package let headers: [(String, String)]
        package let body: [UInt8]

        package func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        package var text: String { String(decoding: body, as: UTF8.self) }
    }

    package let host: String
    package let port: Int

    package init(host: String = "127.0.0.1", port: Int) {
        self.host = host
        self.port = port
    }

    /// Sends one request and parses one response (the connection is closed afterwards).
    package func get(_ path: String, method: String = "GET", headers: [(String, String)] = []) async throws -> Response
    {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        let raw = try await exchange(Array(request.utf8))
        guard let response = Self.parse(raw, isHead: method == "HEAD").first else {
            throw TestFailure("no HTTP response in \(raw.count) bytes")
        }
        return response
    }

    /// Sends `bytes` (in `chunks` with `pause` between them) and returns everything read
    /// until the peer closes or `timeout` passes.
    package func exchange(_ bytes: [UInt8], chunks: Int = 1, pause: Duration = .zero, timeout: Duration = .seconds(10))
        async throws -> [UInt8]
    {
        let host = host
        let port = port
        return try await Self.onOwnThread {
            try Self.blockingExchange(
                host: host, port: port, bytes: bytes, chunks: chunks, pause: pause, timeout: timeout)
        }
    }

    /// Sends `bytes` once `ready()` holds, polled every 5 ms for up to `wait` on the exchange's
    /// own thread, and returns everything read; nil when it never held. A condition a test
    /// must see just before sending (a request held for a while) is checked where a starved
    /// concurrency pool cannot put seconds between the check and the send.
    package func exchange(
        _ bytes: [UInt8], once ready: @escaping @Sendable () -> Bool, wait: Duration = .seconds(10),
        timeout: Duration = .seconds(10)
    ) async throws -> [UInt8]? {
        let host = host
        let port = port
        return try await Self.onOwnThread { () throws -> [UInt8]? in
            let deadline = ContinuousClock.now + wait
            while !ready() {
                guard ContinuousClock.now < deadline else { return nil }
                usleep(5_000)
            }
            return try Self.blockingExchange(
                host: host, port: port, bytes: bytes, chunks: 1, pause: .zero, timeout: timeout)
        }
    }

    /// Like ``exchange(_:chunks:pause:timeout:)``, and tells whether the peer closed the
    /// connection (rather than `timeout` passing with it open).
    package func exchangeUntilClosed(_ bytes: [UInt8], timeout: Duration = .seconds(10)) async throws
        -> (received: [UInt8], closedByPeer: Bool)
    {
        let host = host
        let port = port
        return try await Self.onOwnThread {
            var closed = false
            let received = try Self.blockingExchange(
                host: host, port: port, bytes: bytes, chunks: 1, pause: .zero, timeout: timeout,
                closedByPeer: &closed)
            return (received, closed)
        }
    }

    /// Runs `work` (blocking socket calls) on a thread of its own, never the concurrency pool.
    private static func onOwnThread<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws
        -> Result
    {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Swift.Result { try work() }) }.start()
        }
    }

    package static func parse(_ raw: [UInt8], isHead: Bool = false) -> [Response] {
        var responses: [Response] = []
        var rest = raw[...]
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while let end = rest.firstRange(of: separator) {
            let headText = String(decoding: rest[rest.startIndex..<end.lowerBound], as: UTF8.self)
            var lines = headText.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ")
            let status = statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
            let headers = lines.compactMap { line -> (String, String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            rest = rest[end.upperBound...]
            let chunked = headers.contains {
                $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked")
            }
            var body: [UInt8] = []
            if chunked && !isHead {
                // <hex size>\r\n<data>\r\n … 0\r\n\r\n
                while let lineEnd = rest.firstRange(of: Array("\r\n".utf8)) {
                    let size =
                        Int(
                            String(decoding: rest[rest.startIndex..<lineEnd.lowerBound], as: UTF8.self)
                                .split(separator: ";").first ?? "", radix: 16) ?? 0
                    rest = rest[lineEnd.upperBound...]
                    if size == 0 {
                        rest = rest.dropFirst(2)
                        break
                    }
                    body.append(contentsOf: rest.prefix(size))
                    rest = rest.dropFirst(size + 2)
                }
            } else {
                let length =
                    isHead ? 0 : Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "") ?? rest.count
                body = Array(rest.prefix(length))
                rest = rest.dropFirst(length)
            }
            responses.append(Response(status: status, headers: headers, body: body))
        }
        return responses
    }

    private static func blockingExchange(
        host: String, port: Int, bytes: [UInt8], chunks: Int, pause: Duration, timeout: Duration
    ) throws -> [UInt8] {
        var closed = false
        return try blockingExchange(
            host: host, port: port, bytes: bytes, chunks: chunks, pause: pause, timeout: timeout, closedByPeer: &closed)
    }

    private static func blockingExchange(
        host: String, port: Int, bytes: [UInt8], chunks: Int, pause: Duration, timeout: Duration,
        closedByPeer: inout Bool
    ) throws -> [UInt8] {
        let fd = try connectSocket(host: host, port: port, timeout: timeout)
        defer { close(fd) }
        let chunkSize = max(1, (bytes.count + chunks - 1) / max(chunks, 1))
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunkSize)
            let sent = bytes[offset..<end].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { break }  // the server may close early (e.g. 431); read what it said
            offset += sent
            if offset < bytes.count && pause > .zero { Thread.sleep(forTimeInterval: pause.seconds) }
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let deadline = Date().addingTimeInterval(timeout.seconds)
        while Date() < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 || (count < 0 && errno == ECONNRESET) { closedByPeer = true }
            if count <= 0 { break }
            received.append(contentsOf: buffer[0..<count])
        }
        return received
    }

    package static func connectSocket(host: String, port: Int, timeout: Duration) throws -> Int32 {
        let isV6 = host.contains(":")
        let fd = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed") }
        var tv = timeval(tv_sec: Int(timeout.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var result: Int32
        if isV6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET6, host, &address.sin6_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &address.sin_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard result == 0 else {
            close(fd)
            throw TestFailure("connect to \(host):\(port) failed: errno \(errno)")
        }
        return fd
    }
}

package struct TestFailure: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

extension Duration {
    package var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
