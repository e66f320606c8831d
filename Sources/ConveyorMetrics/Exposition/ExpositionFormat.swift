/// The formats `/metrics` can answer in.
public enum ExpositionFormat: Sendable, Equatable {
    /// Prometheus text format 0.0.4.
    case prometheusText
    /// OpenMetrics 1.0.0 (ends with `# EOF`).
    case openMetrics
    /// Length-delimited `io.prometheus.client.MetricFamily` messages (client_model's
    /// `metrics.proto`): the one format that carries native histograms. Binary: render it
    /// with ``MetricsRegistry/emit(into:format:)``, not as a `String`.
    case protobuf

    /// The `Content-Type` header value for this format.
    public var contentType: String {
        switch self {
        case .prometheusText: "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8"
        case .protobuf: "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
        }
    }

    /// Picks the format an `Accept` header asks for.
    ///
    /// Protobuf when the header lists `application/vnd.google.protobuf` with
    /// `proto=io.prometheus.client.MetricFamily` and `encoding=delimited` at a non-zero
    /// quality no lower than that of any text range (`text/plain`, `text/*`,
    /// `application/openmetrics-text`, `*/*`); a wildcard alone never selects it. Otherwise
    /// OpenMetrics when the header lists `application/openmetrics-text` with a non-zero
    /// quality, text 0.0.4 otherwise (also without a header).
    ///
    /// Prometheus 2.42 asks for protobuf first when its `native-histograms` feature is on.
    public static func negotiate(accept: String?) -> ExpositionFormat {
        guard let accept else { return .prometheusText }
        let ranges = AcceptHeader.parse(accept)
        let protobufQuality = ranges.filter(\.isDelimitedMetricFamily).map(\.quality).max() ?? 0
        let textQuality = ranges.filter(\.acceptsText).map(\.quality).max() ?? 0
        if protobufQuality > 0 && protobufQuality >= textQuality { return .protobuf }
        if ranges.contains(where: { $0.mediaType == "application/openmetrics-text" && $0.quality > 0 }) {
            return .openMetrics
        }
        return .prometheusText
    }
}
