import Testing

@testable import ConveyorMetrics

/// Negotiation with protobuf in the running: q-values decide, a wildcard never picks it,
/// and headers without it negotiate as before.
@Suite("Exposition format negotiation")
struct ExpositionFormatTests {
    /// What Prometheus 2.42 sends with `--enable-feature=native-histograms`
    /// (scrape/scrape.go, `scrapeAcceptHeaderWithProtobuf`, tag v2.42.0).
    static let prometheusWithNativeHistograms =
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"
        + "application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,"
        + "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    /// And without it (`scrapeAcceptHeader`).
    static let prometheusWithout =
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
        + "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    static let protobuf = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"

    @Test(arguments: [
        (prometheusWithNativeHistograms, ExpositionFormat.protobuf),
        (prometheusWithout, .openMetrics),
        // Older Prometheus versions and other scrapers: protobuf preferred by q.
        (protobuf + ";q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2", .protobuf),
        (protobuf, .protobuf),
        ("application/vnd.google.protobuf; proto=\"io.prometheus.client.MetricFamily\"; encoding=Delimited", .protobuf),
        ("APPLICATION/VND.GOOGLE.PROTOBUF;proto=io.prometheus.client.MetricFamily;encoding=delimited", .protobuf),
        // A tie goes to protobuf.
        (protobuf + ";q=0.5,text/plain;q=0.5", .protobuf),
        // q-values honoured.
        (protobuf + ";q=0.5,text/plain;q=0.9", .prometheusText),
        (protobuf + ";q=0.5,application/openmetrics-text;version=1.0.0;q=0.6", .openMetrics),
        (protobuf + ";q=0.5,*/*", .prometheusText),
        (protobuf + ";q=0.5,text/*;q=0.8", .prometheusText),
        (protobuf + ";q=0,text/plain;q=0.1", .prometheusText),
        (protobuf + ";q=0", .prometheusText),
        // Not the delimited MetricFamily encoding: not ours.
        ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text", .prometheusText),
        ("application/vnd.google.protobuf;proto=other.Message;encoding=delimited", .prometheusText),
        ("application/vnd.google.protobuf", .prometheusText),
        // Wildcards and nothing.
        ("*/*", .prometheusText), ("application/*", .prometheusText), ("", .prometheusText),
        ("text/plain;version=0.0.4", .prometheusText),
    ])
    func negotiation(accept: String, expected: ExpositionFormat) {
        #expect(ExpositionFormat.negotiate(accept: accept) == expected)
    }

    @Test func noAcceptHeaderGetsText() {
        #expect(ExpositionFormat.negotiate(accept: nil) == .prometheusText)
    }

    @Test func protobufContentTypeIsClientModels() {
        #expect(
            ExpositionFormat.protobuf.contentType
                == "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited")
    }
}
