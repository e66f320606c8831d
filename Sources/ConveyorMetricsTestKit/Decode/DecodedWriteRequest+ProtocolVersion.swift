import ConveyorMetricsRemoteWrite

extension DecodedWriteRequest {
    /// A remote-write protocol, as a request's `Content-Type` announces it and as its body is
    /// decoded.
    public enum ProtocolVersion: String, Sendable, Hashable, CustomStringConvertible {
        /// Remote write 1.0: `prometheus.WriteRequest`, `Content-Type: application/x-protobuf`
        /// (optionally `;proto=prometheus.WriteRequest`), version header `0.1.0`.
        case v1
        /// Remote write 2.0: `io.prometheus.write.v2.Request`,
        /// `Content-Type: application/x-protobuf;proto=io.prometheus.write.v2.Request`,
        /// version header `2.0.0`.
        case v2

        /// "remote write 1.0" or "remote write 2.0".
        public var description: String { self == .v1 ? "remote write 1.0" : "remote write 2.0" }

        /// The protobuf message's full name.
        package var messageName: String {
            self == .v1 ? RemoteWriteProtocol.v1Message : RemoteWriteProtocol.v2Message
        }

        /// The `X-Prometheus-Remote-Write-Version` it requires.
        package var versionHeader: String {
            self == .v1 ? RemoteWriteProtocol.version : RemoteWriteProtocol.v2Version
        }
    }
}
