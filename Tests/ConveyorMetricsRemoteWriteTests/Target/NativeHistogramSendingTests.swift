import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// `send_native_histograms`: what a native histogram family is sent as, and a receiver that
/// refuses native histograms (Prometheus without the feature answers 500 and stores nothing
/// of the request): the floats go again at once, the histograms stop.
@Suite("Sending native histograms")
struct NativeHistogramSendingTests {
    private static func harness(sends: Bool, refuses: Bool = false, disk: SimulatedFileSystem? = nil) -> PipelineHarness
    {
        let harness = PipelineHarness(disk: disk) { $0.sendNativeHistograms = sends }
        harness.receiver.refusesNativeHistograms = refuses
        return harness
    }

    /// A native-only family, a native + classic family and a counter, observed and pushed.
    private static func produce(_ harness: PipelineHarness, _ round: Int) {
        let registry = harness.registry
        registry.histogramFamily(name: "native_ms", help: "N", buckets: [], native: NativeHistogramOptions())
            .series().observe(Double(round) + 0.5)
        var both = NativeHistogramOptions()
        both.keepClassicBuckets = true
        registry.histogramFamily(name: "both_ms", help: "B", buckets: [1, 10], native: both).series().observe(3)
        registry.counterFamily(name: "jobs_total", help: "J").series().increment()
        harness.target.produce(registry.snapshot(), final: false)
    }

    private static func names(_ harness: PipelineHarness) -> Set<String> {
        Set(
            harness.receiver.stored.compactMap { $0.key.split(separator: ",").first { $0.hasPrefix("__name__=") } }.map
            {
                String($0.dropFirst(9))
            })
    }

    @Test func onTheyGoAsNativeHistogramsWithTheClassicBucketsAFamilyKeeps() {
        let harness = Self.harness(sends: true)
        for round in 0..<3 {  // the later snapshots take the sampler's unchanged-series path
            Self.produce(harness, round)
            harness.send()
        }
        #expect(harness.receiver.storedHistograms == 6, "two native families, three snapshots")
        let names = Self.names(harness)
        #expect(names.contains("jobs_total") && names.contains("both_ms_bucket") && names.contains("both_ms_count"))
        #expect(!names.contains("native_ms_count") && !names.contains("native_ms_bucket"), "native only: \(names)")
        #expect(harness.target.context.metrics.samplesSent.value == Double(harness.receiver.acceptedSamples))
    }

    @Test func offANativeFamilyGoesAsClassicBuckets() {
        let harness = Self.harness(sends: false)
        Self.produce(harness, 0)
        harness.send()
        #expect(harness.receiver.storedHistograms == 0)
        let names = Self.names(harness)
        #expect(names.isSuperset(of: ["native_ms_bucket", "native_ms_sum", "native_ms_count", "both_ms_bucket"]))
    }

    @Test(arguments: [false, true])
    func refusedTheFloatsGoAgainAndHistogramsStop(disk: Bool) {
        let harness = Self.harness(sends: true, refuses: true, disk: disk ? SimulatedFileSystem(seed: 3) : nil)
        Self.produce(harness, 0)
        let posted = harness.send()
        #expect(posted == 2, "the refused request, then the same floats without histograms")
        let metrics = harness.target.context.metrics
        #expect(metrics.nativeHistogramsRefused.value == 1)
        let stillSends = harness.target.context.nativeHistograms.load(ordering: .relaxed)
        #expect(!stillSends)
        let dropped = harness.metrics.snapshot().family(named: "conveyor_metrics_remote_write_samples_dropped_total")?
            .series(["remote_name": "t", "reason": "native_histograms_refused"])?.value.scalar
        #expect(dropped == 2, "the two histograms of the refused request")
        #expect(Self.names(harness).contains("jobs_total"), "the counter of the refused request arrived")
        #expect(metrics.samplesSent.value == Double(harness.receiver.acceptedSamples))
        // From the next snapshot on, the native families go as classic buckets.
        Self.produce(harness, 1)
        #expect(harness.send() == 1)
        #expect(Self.names(harness).contains("native_ms_count"))
        #expect(harness.receiver.storedHistograms == 0 && metrics.nativeHistogramsRefused.value == 1)
        #expect(harness.receiver.undecodable.isEmpty)
    }

    /// A 500 that is not about native histograms is retried as before, histograms included.
    @Test func anotherServerErrorIsRetried() {
        let harness = Self.harness(sends: true)
        Self.produce(harness, 0)
        #expect(harness.send(.status(500, retryAfter: nil), limit: 1) == 1)
        let stillSends = harness.target.context.nativeHistograms.load(ordering: .relaxed)
        #expect(stillSends)
        harness.clock.advance(milliseconds: 60_000)
        harness.send()
        #expect(harness.receiver.storedHistograms == 2)
    }
}
