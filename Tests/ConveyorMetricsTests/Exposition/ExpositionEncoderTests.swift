import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics

@Suite("Exposition")
struct ExpositionEncoderTests {
    private func sampleRegistry() -> MetricsRegistry {
        let registry = MetricsRegistry()
        let counter = registry.counterFamily(
            name: "requests_total", help: "Requests \\ served\nby path", labelNames: ["path"])
        counter.series("/a").increment(by: 3 as UInt64)
        counter.series("/b").increment(by: 0.25)
        registry.gaugeFamily(name: "temperature", help: "Temp").series().set(-1.5)
        let histogram = registry.histogramFamily(
            name: "latency_seconds", help: "Latency", labelNames: ["route"], buckets: [0.5, 1, 1_000_000])
        histogram.series("x").observe(0.25)
        histogram.series("x").observe(2)
        return registry
    }

    @Test func prometheusTextIsExact() {
        let text = sampleRegistry().exposition(format: .prometheusText)
        let expected = """
            # HELP latency_seconds Latency
            # TYPE latency_seconds histogram
            latency_seconds_bucket{route="x",le="0.5"} 1
            latency_seconds_bucket{route="x",le="1"} 1
            latency_seconds_bucket{route="x",le="1e+06"} 2
            latency_seconds_bucket{route="x",le="+Inf"} 2
            latency_seconds_sum{route="x"} 2.25
            latency_seconds_count{route="x"} 2
            # HELP requests_total Requests \\\\ served\\nby path
            # TYPE requests_total counter
            requests_total{path="/a"} 3
            requests_total{path="/b"} 0.25
            # HELP temperature Temp
            # TYPE temperature gauge
            temperature -1.5

            """
        #expect(text.hasPrefix("# HELP conveyor_metrics_rejected_values_total"))
        let withoutSelfMetric = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("conveyor_metrics_rejected_values_total") }.joined(separator: "\n")
        #expect(withoutSelfMetric == expected)
    }

    @Test func openMetricsNamesCountersWithoutTotalAndEndsWithEOF() {
        let text = sampleRegistry().exposition(format: .openMetrics)
        #expect(text.hasSuffix("# EOF\n"))
        #expect(text.contains("# TYPE requests counter\n# HELP requests Requests \\\\ served\\nby path\n"))
        #expect(text.contains("requests_total{path=\"/a\"} 3\n"))
        #expect(text.contains("# TYPE latency_seconds histogram\n"))
        #expect(!text.contains("# TYPE requests_total"))
    }

    @Test func openMetricsEscapesQuotesInHelp() {
        let registry = MetricsRegistry()
        registry.gaugeFamily(name: "q", help: "say \"hi\"").series().set(1)
        #expect(
            registry.exposition(format: .openMetrics).contains("# HELP q say \\\"hi\\\"\n"))
        #expect(
            registry.exposition(format: .prometheusText).contains("# HELP q say \"hi\"\n"))
    }

    @Test(arguments: [
        (Double.nan, "NaN"), (.infinity, "+Inf"), (-.infinity, "-Inf"), (0, "0"), (-0.0, "0"), (42, "42"),
        (1e15, "1000000000000000"), (1e16, "1e+16"), (0.1, "0.1"), (1e-7, "1e-07"), (-2.5, "-2.5"),
        (9_007_199_254_740_992, "9007199254740992.0"),
    ])
    func sampleValues(value: Double, expected: String) {
        var out: [UInt8] = []
        FloatFormatting.appendValue(value, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == expected)
        #expect(Self.put(value) == expected)
    }

    /// `putValue` through a raw pointer, as the renderer writes it.
    static func put(_ value: Double) -> String {
        var out: [UInt8] = []
        out.appendRaw(upTo: FloatFormatting.maxValueBytes) { FloatFormatting.putValue(value, at: $0) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Random doubles (any bit pattern, whole numbers of every size, both signs, the
    /// boundaries of the whole-number path): the raw writer spells each as `appendValue`
    /// does, within `maxValueBytes`, and the spelling reads back to the same value.
    @Test func valuesWrittenThroughARawPointerReadBack() async {
        await HeavyTestWork.run {
            var random = SplitMix64(seed: 7)
            var checked = 0
            for round in 0..<HeavyTestWork.iterations(200_000) {
                let value: Double
                switch round % 4 {
                case 0: value = Double(bitPattern: random.next())
                case 1: value = Double(Int64(bitPattern: random.next()) >> (random.next() % 64))
                case 2: value = Double(random.next() % 1000) / 8 - 60
                default:
                    let edges: [Double] = [
                        9_007_199_254_740_991, 9_007_199_254_740_992, -9_007_199_254_740_991, 0, -0.0,
                    ]
                    value = edges[Int(random.next() % UInt64(edges.count))]
                }
                var expected: [UInt8] = []
                FloatFormatting.appendValue(value, to: &expected)
                let written = Self.put(value)
                guard written == String(decoding: expected, as: UTF8.self),
                    written.utf8.count <= FloatFormatting.maxValueBytes
                else {
                    Issue.record("round \(round): \(value.bitPattern) written as \(written)")
                    return
                }
                let parsed = written == "+Inf" ? Double.infinity : Double(written)
                guard let parsed, parsed == value || (parsed.isNaN && value.isNaN) else {
                    Issue.record("round \(round): \(written) does not read back as \(value)")
                    return
                }
                checked += 1
            }
            #expect(checked == HeavyTestWork.iterations(200_000))
        }
    }

    @Test(arguments: [
        (0.005, "0.005"), (0.5, "0.5"), (1, "1"), (2.5, "2.5"), (10000, "10000"), (100000, "100000"),
        (1_000_000, "1e+06"), (1_234_567, "1.234567e+06"), (0.0001, "0.0001"), (0.00001, "1e-05"), (-3, "-3"),
        (123.456, "123.456"),
    ])
    func bucketBoundsAreSpelledLikeGo(value: Double, expected: String) {
        #expect(FloatFormatting.goStyle(value) == expected)
    }

    @Test(arguments: [
        ("text/plain", ExpositionFormat.prometheusText), ("", .prometheusText),
        ("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5", .openMetrics),
        ("text/plain;q=0.9, application/openmetrics-text; version=0.0.1; q=0.75", .openMetrics),
        ("application/openmetrics-text;q=0", .prometheusText),
    ])
    func acceptNegotiation(accept: String, expected: ExpositionFormat) {
        #expect(ExpositionFormat.negotiate(accept: accept) == expected)
    }

    @Test func oddLabelValuesAreEscaped() {
        let registry = MetricsRegistry()
        let family = registry.counterFamily(name: "odd_total", help: "Odd values", labelNames: ["v"])
        let values = [
            "quote\"inside", "back\\slash", "new\nline", "tab\there", "ünïcödé ✓ 日本", "", "{}=,", "\u{7}bell",
            "trailing\\", String(repeating: "long", count: 1000),
        ]
        for value in values { family.series(value).increment() }
        let text = registry.exposition(format: .prometheusText)
        #expect(text.contains(#"odd_total{v="quote\"inside"} 1"#))
        #expect(text.contains(#"odd_total{v="back\\slash"} 1"#))
        #expect(text.contains(#"odd_total{v="new\nline"} 1"#))
        #expect(text.contains(#"odd_total{v="trailing\\"} 1"#))
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("odd_total{") }.count == values.count)
    }

    @Test func aFamilyWithoutSeriesWritesNothing() {
        let registry = MetricsRegistry()
        let empty = registry.counterFamily(name: "empty_total", help: "Never recorded", labelNames: ["k"])
        let emptied = registry.gaugeFamily(name: "emptied", help: "Recorded, then removed", labelNames: ["k"])
        emptied.series("v").set(1)
        emptied.remove(["v"])
        registry.gaugeFamily(name: "kept", help: "Kept").series().set(2)
        _ = empty
        for format in [ExpositionFormat.prometheusText, .openMetrics] {
            let text = registry.exposition(format: format)
            #expect(!text.contains("empty"), "\(format): no header for a family without series")
            #expect(!text.contains("emptied"), "\(format): no header once the last series is removed")
            #expect(text.contains("kept 2\n"))
        }
    }

    @Test func openMetricsWritesUnitsAndHistograms() {
        let registry = MetricsRegistry()
        let latency = registry.histogramFamily(
            name: "request_duration_seconds", help: "Latency", labelNames: ["route"], buckets: [0.1, 1],
            unit: "seconds")
        latency.series("/a").observe(0.05)
        latency.series("/a").observe(5)
        registry.counterFamily(name: "sent_bytes_total", help: "Bytes sent", unit: "bytes").series().increment(
            by: 7 as UInt64)
        let text = registry.exposition(format: .openMetrics)
        let expected = """
            # TYPE request_duration_seconds histogram
            # UNIT request_duration_seconds seconds
            # HELP request_duration_seconds Latency
            request_duration_seconds_bucket{route="/a",le="0.1"} 1
            request_duration_seconds_bucket{route="/a",le="1"} 1
            request_duration_seconds_bucket{route="/a",le="+Inf"} 2
            request_duration_seconds_sum{route="/a"} 5.05
            request_duration_seconds_count{route="/a"} 2

            """
        #expect(text.contains(expected), "\(text)")
        #expect(
            text.contains(
                "# TYPE sent_bytes counter\n# UNIT sent_bytes bytes\n# HELP sent_bytes Bytes sent\nsent_bytes_total 7\n"
            ))
        #expect(text.hasSuffix("# EOF\n"))
    }
}
