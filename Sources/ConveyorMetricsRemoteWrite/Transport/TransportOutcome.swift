import CCurlShim
import ConveyorMetrics

/// The result of one HTTP request.
enum TransportOutcome: Equatable {
    /// The server answered: status, `Retry-After` if any, the first 1 KB of the body, and what
    /// it says it wrote (nil when it sent no `X-Prometheus-Remote-Write-Samples-Written`).
    case response(status: Int, retryAfter: String?, body: String, written: WrittenCounts? = nil)
    /// No answer: connection refused, reset, timeout, DNS or TLS failure.
    case failure(String)
}
