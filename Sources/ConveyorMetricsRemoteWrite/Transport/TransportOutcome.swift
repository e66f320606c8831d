import CCurlShim
import ConveyorMetrics

/// The result of one HTTP request.
enum TransportOutcome: Equatable {
    /// The server answered: status, `Retry-After` if any, the first 1 KB of the body.
    case response(status: Int, retryAfter: String?, body: String)
    /// No answer: connection refused, reset, timeout, DNS or TLS failure.
    case failure(String)
}
