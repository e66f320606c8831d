extension RemoteWriteReceiver {
    /// Which remote-write protocols a receiver speaks: the receiver a sender under test
    /// meets.
    public enum ProtocolSupport: Sendable, Hashable {
        /// Remote write 1.0 and 2.0, chosen by `Content-Type` (as Prometheus 3 does; the
        /// default). A 2.0 request must carry version header `2.0.0`, a 1.0 request `0.1.0`;
        /// any other `proto=` or media type is answered 415. Every answer to a 2.0 request
        /// carries `X-Prometheus-Remote-Write-Samples-Written`, `-Histograms-Written` and
        /// `-Exemplars-Written`: all it wrote on 2xx, 0 otherwise.
        case v1AndV2
        /// Only remote write 1.0, like Prometheus 2.42 or VictoriaMetrics 1.79: every body is
        /// decoded as a `prometheus.WriteRequest` and no answer carries `*-Written` headers.
        /// A 2.0 body decodes as an empty 1.0 request (2.0 uses fields 4 and 5 only) and is
        /// answered 204 with nothing stored. A request announcing 1.0 is checked as under
        /// ``v1AndV2``; for any other `Content-Type` neither it nor the version header is
        /// checked (a 1.x receiver reads neither).
        case v1Only
        /// Remote write 1.0 only, refusing a 2.0 request with 415 (no `*-Written` headers):
        /// the answer after which a 2.0 sender may retry with 1.0.
        case refusingV2
    }
}

extension RemoteWriteReceiver.ProtocolSupport {
    /// The protocol to decode a body as: `announced` (by `Content-Type`), except that a
    /// 1.0-only receiver decodes everything as 1.0.
    package func decodingVersion(announced: DecodedWriteRequest.ProtocolVersion?) -> DecodedWriteRequest.ProtocolVersion
    {
        self == .v1Only ? .v1 : announced ?? .v1
    }

    /// The counts an answer with `status` reports in its `*-Written` headers; nil when it
    /// carries none (not a 2.0 request, a receiver without 2.0, or a 415).
    package func written(
        announced: DecodedWriteRequest.ProtocolVersion?, status: Int, decoded: DecodedWriteRequest?
    ) -> ReceivedWriteRequest.WrittenCounts? {
        guard self == .v1AndV2, announced == .v2, status != 415 else { return nil }
        guard (200..<300).contains(status), let decoded else {
            return ReceivedWriteRequest.WrittenCounts(samples: 0, histograms: 0, exemplars: 0)
        }
        return ReceivedWriteRequest.WrittenCounts(
            samples: decoded.sampleCount, histograms: decoded.histogramCount, exemplars: decoded.exemplarCount)
    }
}
