import CCurl
import CCurlShim
import ConveyorMetrics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Collects one response: the first 1 KB of the body and `Retry-After`.
final class ResponseCollector {
    var shouldAbort: @Sendable () -> Bool = { false }
    private(set) var body: [UInt8] = []
    private(set) var retryAfter: String?

    func reset() {
        body.removeAll(keepingCapacity: true)
        retryAfter = nil
    }

    func appendBody(_ bytes: UnsafeRawBufferPointer) {
        let room = 1024 - body.count
        if room > 0 { body.append(contentsOf: bytes.prefix(room)) }
    }

    func header(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self)
        if line.hasPrefix("HTTP/") { retryAfter = nil }  // a new response (e.g. after 100 Continue)
        guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == "retry-after" else { return }
        retryAfter = RetryPolicy.trimmedHTTPValue(line[line.index(after: colon)...])
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}
