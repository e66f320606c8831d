import ConveyorMetrics
import ConveyorMetricsRemoteWrite

/// What a receiver does with a request: accept it (after checking it), answer something
/// else, wait first, or drop the connection. Tests script faults with it.
public indirect enum ReceiverAction: Sendable {
    /// Check the request; answer 204, or 400 (413 over a limit, 415 for a protocol the
    /// receiver does not speak) with the reason.
    case accept
    /// Answer `status` with these headers and body without checking the request (a fault;
    /// a decodable request answered 2xx still counts in ``ReceivedWriteRequest/accepted``).
    /// A receiver speaking 2.0 adds the `*-Written` headers to its answer to a 2.0 request
    /// (all written on 2xx, 0 otherwise) unless `headers` sets any of them.
    case respond(status: Int, headers: [(String, String)] = [], body: String = "")
    /// Wait, then do the next action (a slow receiver; a long delay is a hang).
    case delay(Duration, then: ReceiverAction)
    /// Close the connection without answering (a reset).
    case closeConnection
}
