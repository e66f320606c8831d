import ConveyorMetrics
import ConveyorMetricsRemoteWrite

/// One request a ``RemoteWriteReceiver`` received, and what it answered.
package struct ReceivedWriteRequest: Sendable {
    /// The request headers.
    package let headers: [(String, String)]
    /// Compressed body size.
    package let bodyBytes: Int
    /// The decoded request, or why it was refused.
    package let decoded: Result<DecodedWriteRequest, WriteRequestError>
    /// The status answered (0 when the connection was closed without an answer).
    package let status: Int
    /// When it arrived (ms since the epoch).
    package let receivedAtMilliseconds: Int64

    package func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// The decoded request if it was accepted (2xx).
    package var accepted: DecodedWriteRequest? {
        guard (200..<300).contains(status), case .success(let request) = decoded else { return nil }
        return request
    }
}

/// What a receiver does with a request: accept it (after checking it), answer something
/// else, wait first, or drop the connection. Tests script faults with it.
package indirect enum ReceiverAction: Sendable {
    case accept
    case respond(status: Int, headers: [(String, String)] = [], body: String = "")
    case delay(Duration, then: ReceiverAction)
    case closeConnection
}
