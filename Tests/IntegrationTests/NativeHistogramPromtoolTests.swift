import ConveyorMetrics
import ConveyorMetricsTestSupport
import Testing

/// The text output of native-only and "both" histogram families, checked by promtool.
@Suite("Native histograms, promtool")
struct NativeHistogramPromtoolTests {
    @Test func nativeOnlyAndBothFamiliesArePromtoolClean() async throws {
        let registry = MetricsRegistry()
        let nativeOnly = registry.histogramFamily(
            name: "native_only_seconds", help: "Native only", labelNames: ["route"], buckets: [0.1, 1],
            native: NativeHistogramOptions())
        let both = registry.histogramFamily(
            name: "both_seconds", help: "Classic and native", labelNames: ["route"], buckets: [0.1, 1],
            native: NativeHistogramOptions(bucketFactor: 1.5, maxBucketCount: 4, keepClassicBuckets: true))
        for value in [0.01, 0.2, 3, 40, -1, 0, .nan, .infinity] {
            nativeOnly.series("/a").observe(value)
            both.series("/a").observe(value)
        }
        _ = nativeOnly.series("/empty")
        for format in [ExpositionFormat.prometheusText, .openMetrics] {
            let text = registry.exposition(format: format)
            #expect(text.contains("native_only_seconds_bucket{route=\"/a\",le=\"+Inf\"} 8"))
            #expect(text.contains("both_seconds_bucket{route=\"/a\",le=\"0.1\"} 3"))
            if format == .prometheusText, let findings = try await Promtool.findings(text) {
                #expect(findings == [], "\(text)")
            }
        }
    }
}
