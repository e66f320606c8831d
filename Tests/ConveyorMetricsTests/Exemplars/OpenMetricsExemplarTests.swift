import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics

/// Exemplars in the OpenMetrics text: after a counter's `_total` value and after bucket
/// counts, never on `_sum`/`_count`; Prometheus text 0.0.4 has none.
@Suite("OpenMetrics exemplars")
struct OpenMetricsExemplarTests {
    static func registry() -> MetricsRegistry {
        let registry = MetricsRegistry()
        let requests = registry.counterFamily(name: "requests_total", help: "Requests", labelNames: ["path"])
        requests.series("/a").increment(
            by: 3,
            exemplar: Exemplar(["trace_id": "abc", "span_id": "s\"1\\"], timestampMilliseconds: 1_520_879_607_789))
        requests.series("/b").increment(by: 1 as UInt64)
        let latency = registry.histogramFamily(name: "latency_seconds", help: "Latency", buckets: [0.5, 1])
        latency.series().observe(0.42, exemplar: Exemplar(["trace_id": "x"], timestampMilliseconds: 1_520_879_607_000))
        latency.series().observe(0.9)
        latency.series().observe(7, exemplar: Exemplar(labels: [], timestampMilliseconds: 5))
        let native = registry.histogramFamily(
            name: "native_seconds", help: "Native", buckets: [1], native: NativeHistogramOptions())
        native.series().observe(2, exemplar: Exemplar(["trace_id": "old"], timestampMilliseconds: 1_000))
        native.series().observe(3, exemplar: Exemplar(["trace_id": "new"], timestampMilliseconds: 2_000))
        return registry
    }

    @Test func openMetricsIsExact() {
        let text = Self.registry().exposition(format: .openMetrics)
        let own = text.split(separator: "\n").filter { !$0.contains("conveyor_metrics_rejected_values") }
            .joined(separator: "\n")
        let expected = """
            # TYPE latency_seconds histogram
            # HELP latency_seconds Latency
            latency_seconds_bucket{le="0.5"} 1 # {trace_id="x"} 0.42 1520879607.000
            latency_seconds_bucket{le="1"} 2
            latency_seconds_bucket{le="+Inf"} 3 # {} 7 0.005
            latency_seconds_sum 8.32
            latency_seconds_count 3
            # TYPE native_seconds histogram
            # HELP native_seconds Native
            native_seconds_bucket{le="+Inf"} 2 # {trace_id="new"} 3 2.000
            native_seconds_sum 5
            native_seconds_count 2
            # TYPE requests counter
            # HELP requests Requests
            requests_total{path="/a"} 3 # {trace_id="abc",span_id="s\\"1\\\\"} 3 1520879607.789
            requests_total{path="/b"} 1
            # EOF
            """
        #expect(own == expected, "\(text)")
    }

    @Test func prometheusTextCarriesNoExemplars() {
        let text = Self.registry().exposition(format: .prometheusText)
        #expect(!text.contains(" # "), "\(text)")
        #expect(text.contains("requests_total{path=\"/a\"} 3\n"))
        #expect(text.contains("latency_seconds_bucket{le=\"+Inf\"} 3\n"))
    }
}
