import CCurlShim
import ConveyorMetrics

/// What to do after a request: remote write 1.0's rules plus Prometheus' defaults.
///
/// Network errors and 5xx are retried without limit, 429 when `retryOnHTTP429`; every
/// other status drops the batch. Retries wait `minBackoff` doubling up to `maxBackoff`,
/// with jitter (a random wait between half and all of it); `Retry-After` overrides that.
struct RetryPolicy: Sendable {
    let minBackoff: Duration
    let maxBackoff: Duration
    let retryOnHTTP429: Bool

    enum Decision: Equatable {
        case delivered
        case retry(after: Duration?)
        case drop
    }

    func decide(_ outcome: TransportOutcome, now: Int64 = WallClock.unixMilliseconds()) -> Decision {
        switch outcome {
        case .failure:
            return .retry(after: nil)
        case .response(let status, let retryAfter, _, _):
            switch status {
            case 200..<300: return .delivered
            case 429 where retryOnHTTP429, 500..<600:
                return .retry(after: retryAfter.flatMap { Self.parseRetryAfter($0, nowMilliseconds: now) })
            default: return .drop
            }
        }
    }

    /// The wait before retry number `attempt` (0-based), jittered.
    func backoff(attempt: Int, random: Double = Double.random(in: 0.5...1)) -> Duration {
        var delay = minBackoff
        for _ in 0..<min(attempt, 62) where delay < maxBackoff { delay *= 2 }
        let capped = min(delay, maxBackoff)
        // Clamped: Double(Int64.max) rounds up to 2^63, which Int64 cannot hold.
        let jittered = min(Double(capped.nanoseconds) * max(0, min(random, 1)), 9.2e18)
        return .nanoseconds(Int64(jittered))
    }

    /// A header value without surrounding spaces, tabs and line ends (byte-wise: in Swift
    /// "\r\n" is one Character, so character filters miss it).
    static func trimmedHTTPValue<S: StringProtocol>(_ text: S) -> String {
        Array(text.utf8).withUnsafeBytes { trimmedHTTPValue($0) }
    }

    static func trimmedHTTPValue(_ bytes: UnsafeRawBufferPointer) -> String {
        let isSpace = { (byte: UInt8) in byte == 32 || byte == 9 || byte == 13 || byte == 10 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }

    /// `Retry-After` as seconds (`120`) or an HTTP date; nil when unreadable. Capped at 1 hour.
    static func parseRetryAfter(_ text: String, nowMilliseconds: Int64) -> Duration? {
        let trimmed = trimmedHTTPValue(text)
        let cap = Duration.seconds(3600)
        if let seconds = Int64(trimmed) {
            return seconds >= 0 ? min(.seconds(seconds), cap) : nil
        }
        var seconds: Int64 = 0
        guard trimmed.withCString({ cm_parse_http_date($0, &seconds) }) == 0 else { return nil }
        let when = seconds * 1000
        return min(.milliseconds(max(0, when - nowMilliseconds)), cap)
    }
}
