/// The remote-write 1.0 protocol's fixed header values: what the transport sends and what
/// the TestKit's checker requires.
package enum RemoteWriteProtocol {
    /// `X-Prometheus-Remote-Write-Version`.
    package static let version = "0.1.0"
    /// `Content-Type`.
    package static let contentType = "application/x-protobuf"
    /// `Content-Encoding`.
    package static let contentEncoding = "snappy"
}
