/// The remote-write protocols' fixed header values: what the transport sends and what the
/// TestKit's checker requires.
package enum RemoteWriteProtocol {
    /// `X-Prometheus-Remote-Write-Version` of remote write 1.0.
    package static let version = "0.1.0"
    /// `Content-Type` of remote write 1.0.
    package static let contentType = "application/x-protobuf"
    /// `Content-Encoding` (both versions).
    package static let contentEncoding = "snappy"

    /// The protobuf message of remote write 1.0, as `Content-Type`'s `proto=` names it and
    /// as Prometheus' `protobuf_message` setting does.
    package static let v1Message = "prometheus.WriteRequest"
    /// The protobuf message of remote write 2.0.
    package static let v2Message = "io.prometheus.write.v2.Request"
    /// `X-Prometheus-Remote-Write-Version` of remote write 2.0.
    package static let v2Version = "2.0.0"
    /// `Content-Type` of remote write 2.0.
    package static let v2ContentType = "application/x-protobuf;proto=io.prometheus.write.v2.Request"

    /// Response headers of remote write 2.0: what the receiver wrote.
    package static let samplesWrittenHeader = "X-Prometheus-Remote-Write-Samples-Written"
    package static let histogramsWrittenHeader = "X-Prometheus-Remote-Write-Histograms-Written"
    package static let exemplarsWrittenHeader = "X-Prometheus-Remote-Write-Exemplars-Written"
}
