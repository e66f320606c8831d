import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics

@Suite("Native histogram options")
struct NativeHistogramOptionsTests {
    @Test func defaultsAreClientGolangs() {
        let (settings, problems) = NativeHistogramSettings.validate(NativeHistogramOptions())
        #expect(problems.isEmpty)
        #expect(settings.schema == 3)
        #expect(settings.zeroThreshold == 0x1p-128)
        #expect(settings.maxBucketCount == 160)
        #expect(settings.minResetNanoseconds == 0)
        #expect(!settings.keepClassicBuckets)
    }

    @Test func invalidOptionsAreReplacedAndCountedNeverFatal() {
        let cases: [(NativeHistogramOptions, (NativeHistogramSettings) -> Bool)] = [
            (NativeHistogramOptions(bucketFactor: .nan), { $0.schema == 3 }),
            (NativeHistogramOptions(bucketFactor: 1), { $0.schema == 3 }),
            (NativeHistogramOptions(bucketFactor: -2), { $0.schema == 3 }),
            (NativeHistogramOptions(zeroThreshold: -1), { $0.zeroThreshold == 0x1p-128 }),
            (NativeHistogramOptions(zeroThreshold: .nan), { $0.zeroThreshold == 0x1p-128 }),
            (NativeHistogramOptions(zeroThreshold: .infinity), { $0.zeroThreshold == 0x1p-128 }),
            (NativeHistogramOptions(maxBucketCount: -5), { $0.maxBucketCount == 0 }),
            (NativeHistogramOptions(minResetDuration: .seconds(-1)), { $0.minResetNanoseconds == 0 }),
        ]
        for (index, (options, check)) in cases.enumerated() {
            let (settings, problems) = NativeHistogramSettings.validate(options)
            #expect(problems.count == 1, "case \(index)")
            #expect(check(settings), "case \(index): \(settings)")
            let registry = MetricsRegistry()
            let family = registry.histogramFamily(
                name: "bad_\(index)_seconds", help: "Bad options", buckets: [1], native: options)
            family.series().observe(2)
            #expect(registry.rejectedCount(.outOfRange) == 1, "case \(index)")
            #expect(family.series().value.native?.count == 1, "case \(index)")
        }
        // Valid extremes are kept: an infinite factor is schema −4, a zero threshold of 0 is allowed.
        let (coarse, none) = NativeHistogramSettings.validate(
            NativeHistogramOptions(bucketFactor: .infinity, zeroThreshold: 0, maxBucketCount: 0))
        #expect(none.isEmpty)
        #expect(coarse.schema == -4 && coarse.zeroThreshold == 0 && coarse.maxBucketCount == 0)
    }

    @Test func classicOnlyFamiliesAreUnchanged() {
        let registry = MetricsRegistry()
        let series = registry.histogramFamily(name: "classic_seconds", help: "Classic", buckets: [1, 2]).series()
        series.observe(1.5)
        series.observe(.nan)
        series.observe(.infinity)
        #expect(series.value.native == nil)
        #expect(series.value.cumulativeCounts == [0, 1, 1])
        #expect(registry.rejectedCount(.notANumber) == 1)
        #expect(registry.rejectedCount(.infinite) == 1)
    }

    @Test func otherNativeOptionsAreAConflictingRegistration() {
        let registry = MetricsRegistry()
        let first = registry.histogramFamily(
            name: "latency_seconds", help: "Latency", buckets: [1], native: NativeHistogramOptions())
        let same = registry.histogramFamily(
            name: "latency_seconds", help: "Latency", buckets: [1], native: NativeHistogramOptions())
        first.series().observe(0.5)
        #expect(same.series().value.native?.count == 1)
        _ = registry.histogramFamily(
            name: "latency_seconds", help: "Latency", buckets: [1], native: NativeHistogramOptions(bucketFactor: 2))
        _ = registry.histogramFamily(name: "latency_seconds", help: "Latency", buckets: [1])
        #expect(registry.rejectedCount(.conflictingRegistration) == 2)
    }

    @Test func nativeOnlyFamiliesShowInfSumAndCountInTheText() {
        let registry = MetricsRegistry()
        let native = registry.histogramFamily(
            name: "native_seconds", help: "Native only", labelNames: ["route"], buckets: [0.1, 1],
            native: NativeHistogramOptions())
        let both = registry.histogramFamily(
            name: "both_seconds", help: "Both", buckets: [0.1, 1],
            native: NativeHistogramOptions(keepClassicBuckets: true))
        #expect(native.upperBounds.isEmpty)
        #expect(both.upperBounds == [0.1, 1])
        for value in [0.0625, 0.5, 2, -1] {
            native.series("/a").observe(value)
            both.series().observe(value)
        }
        let text = registry.exposition()
        #expect(text.contains("native_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"))
        #expect(text.contains("native_seconds_sum{route=\"/a\"} 1.5625\n"))
        #expect(text.contains("native_seconds_count{route=\"/a\"} 4\n"))
        #expect(!text.contains("native_seconds_bucket{route=\"/a\",le=\"1\"}"))
        #expect(text.contains("both_seconds_bucket{le=\"0.1\"} 2\n"))
        #expect(text.contains("both_seconds_bucket{le=\"1\"} 3\n"))
        #expect(text.contains("both_seconds_bucket{le=\"+Inf\"} 4\n"))
        #expect(text.contains("both_seconds_count 4\n"))
        let openMetrics = registry.exposition(format: .openMetrics)
        #expect(openMetrics.contains("native_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"))
        guard case .histogram(let value) = registry.snapshot().family(named: "native_seconds")?.series.first?.value
        else {
            Issue.record("no native_seconds series")
            return
        }
        #expect(value.native?.count == 4)
        #expect(value.native?.schema == 3)
        #expect(value.count == 4)
    }
}
