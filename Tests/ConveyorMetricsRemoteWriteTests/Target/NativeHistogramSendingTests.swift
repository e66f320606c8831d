import ConveyorMetricsTestSupport
import Foundation
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

/// What a native histogram saves on the wire: the router's latency family (14 classic
/// bounds) with 10,000 log-normal observations, pushed as classic buckets (17 series) and as
/// one native histogram, compressed.
@Suite("Native histogram size on the wire")
struct NativeHistogramSizeTests {
    @Test func oneNativeHistogramTakesFewerBytesThanItsClassicBuckets() {
        func pushedBytes(native: Bool) -> (bytes: Int, series: Int) {
            let registry = MetricsRegistry()
            let metrics = ConveyorRouterMetrics(
                registry: registry, routingLatencyNative: native ? NativeHistogramOptions() : nil)
            var random = SplitMix64(seed: 5)
            for _ in 0..<10_000 {
                let uniform = Double(random.next() >> 11) / Double(1 << 53)
                metrics.recordRoutingLatency(pipelineID: "user-analytics", latencyMs: exp(1 + 2 * uniform))
            }
            let sampler = SnapshotSampler(externalLabels: ["instance": "router-7"], sendsNativeHistograms: { native })
            let chunks = sampler.chunks(from: registry.snapshot(), at: 1_795_567_955_700)
            let latency = chunks.flatMap { chunk in
                (chunk.start..<chunk.end).filter {
                    chunk.series[$0].labels.contains { $0.value.hasPrefix("conveyor_router_routing") }
                }
                .map { index -> SampleChunk in
                    var slice = chunk
                    slice.start = index
                    slice.end = index + 1
                    return slice
                }
            }
            let writer = WriteRequestWriter()
            writer.write(latency)
            return (Snappy.compress(Array(writer.body)).count, latency.count)
        }
        let classic = pushedBytes(native: false)
        let native = pushedBytes(native: true)
        #expect(classic.series == 17 && native.series == 1)
        #expect(native.bytes < classic.bytes, "native \(native.bytes) B vs classic \(classic.bytes) B")
        print(
            "one routing-latency histogram on the wire (1.0, snappy): native \(native.bytes) B, classic \(classic.bytes) B"
        )
    }
}
