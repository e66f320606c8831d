import ConveyorMetricsTestSupport
import Testing

@testable import ConveyorMetrics
@testable import ConveyorMetricsRemoteWrite

/// Reading the registry straight (no snapshot) gives exactly what a snapshot gives: over
/// random runs of recording, series coming and going, native histograms and exemplars, two
/// samplers, one fed snapshots and one reading the registry, make the same chunks.
@Suite("Snapshot sampler: reading the registry")
struct SnapshotSamplerRegistryReadTests {
    @Test func readingTheRegistryMakesTheChunksASnapshotMakes() async {
        await HeavyTestWork.run { Self.randomRuns() }
    }

    static func randomRuns() {
        let runs = HeavyTestWork.iterations(150)
        var steadyReads = 0
        var flushes = 0
        for seed in 1...UInt64(runs) {
            var random = SimulationRandom(seed: seed)
            let registry = MetricsRegistry()
            let counters = registry.counterFamily(name: "c_total", help: "c", labelNames: ["k"])
            let gauges = registry.gaugeFamily(name: "g", help: "g", labelNames: ["k"])
            let histograms = registry.histogramFamily(
                name: "h_seconds", help: "h", labelNames: ["k"], buckets: [0.1, 1],
                native: NativeHistogramOptions(keepClassicBuckets: random.chance(0.5)))
            let snapshots = SnapshotSampler(
                externalLabels: ["instance": "r"], sendsNativeHistograms: { true }, sendsExemplars: true)
            let reading = SnapshotSampler(
                externalLabels: ["instance": "r"], sendsNativeHistograms: { true }, sendsExemplars: true)
            var wall: Int64 = 1_700_000_000_000
            for step in 0..<random.int(in: 5...40) {
                for _ in 0..<random.int(in: 0...12) {
                    let key = String(random.int(in: 0...5))
                    switch random.int(in: 0...5) {
                    case 0: counters.series(key).increment(by: UInt64(random.int(in: 1...9)))
                    case 1:
                        counters.series(key).increment(
                            by: 1.5, exemplar: Exemplar(["trace_id": "t\(step)"], value: 1.5))
                    case 2: gauges.series(key).set(Double(random.int(in: -5...5)))
                    case 3: histograms.series(key).observe(Double(random.int(in: 0...20)) / 10)
                    case 4:
                        histograms.series(key).observe(0.05, exemplar: Exemplar(["trace_id": "h\(step)"], value: 0.05))
                    default:
                        if random.chance(0.3) { _ = counters.remove([key]) } else { _ = gauges.remove([key]) }
                    }
                }
                wall += Int64(random.int(in: 1...2_000))
                let snapshot = registry.snapshot()
                let expected = snapshots.chunks(from: snapshot, at: wall)
                // A sampler that never saw the registry lays every series out afresh.
                let fresh = SnapshotSampler(externalLabels: ["instance": "r"], sendsNativeHistograms: { true })
                    .chunks(from: snapshot, at: wall)
                let before = reading.registryReads
                let actual = reading.chunks(reading: registry, at: wall)
                steadyReads += reading.registryReads - before
                flushes += 1
                let context = "seed \(seed), step \(step)"
                #expect(actual.count == expected.count, "\(context)")
                if let got = actual.first, let want = fresh.first {
                    #expect(got.series.map(\.labels) == want.series.map(\.labels), "\(context)")
                    #expect(got.values.map(\.bitPattern) == want.values.map(\.bitPattern), "\(context)")
                    #expect(got.histograms == want.histograms, "\(context)")
                }
                for (got, want) in zip(actual, expected) {
                    #expect(got.series.map(\.labels) == want.series.map(\.labels), "\(context)")
                    #expect(got.values.map(\.bitPattern) == want.values.map(\.bitPattern), "\(context)")
                    #expect(got.timestamp == want.timestamp, "\(context)")
                    #expect(got.histograms == want.histograms, "\(context)")
                    #expect(
                        (got.exemplars ?? [:]).mapValues { $0.map(\.labels) }
                            == (want.exemplars ?? [:]).mapValues { $0.map(\.labels) }, "\(context)")
                }
            }
        }
        // Both paths ran: straight reads of an unchanged registry, snapshots after changes.
        #expect(steadyReads > flushes / 10 && steadyReads < flushes, "\(steadyReads) of \(flushes)")
    }
}
