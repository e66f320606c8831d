import ConveyorMetrics
import ConveyorMetricsRemoteWrite

/// One request a ``RemoteWriteReceiver`` received, and what it answered.
public struct ReceivedWriteRequest: Sendable {
    /// The request headers.
    public let headers: [(String, String)]
    /// Compressed body size.
    public let bodyBytes: Int
    /// The protocol the request's `Content-Type` announced; nil when it announced none the
    /// receiver knows (answered 415). A ``RemoteWriteReceiver/ProtocolSupport/v1Only``
    /// receiver decodes a 2.0 request as 1.0: then this is `.v2` and the decoded request's
    /// ``DecodedWriteRequest/protocolVersion`` `.v1`.
    public let protocolVersion: DecodedWriteRequest.ProtocolVersion?
    /// The decoded request, or why it was refused.
    public let decoded: Result<DecodedWriteRequest, WriteRequestError>
    /// The status answered (0 when the connection was closed without an answer).
    public let status: Int
    /// What the receiver's `X-Prometheus-Remote-Write-*-Written` headers reported; nil when
    /// it sent none (remote write 1.0, a receiver without 2.0, a 415, or a scripted
    /// ``ReceiverAction/respond(status:headers:body:)`` that set them itself).
    public let written: WrittenCounts?
    /// When it arrived (ms since the epoch).
    public let receivedAtMilliseconds: Int64

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// The decoded request if it was accepted (2xx).
    public var accepted: DecodedWriteRequest? {
        guard (200..<300).contains(status), case .success(let request) = decoded else { return nil }
        return request
    }
}
