import Testing

@testable import ConveyorMetrics

@Suite("Snapshot sampler")
struct SnapshotSamplerTests {
    private func labels(_ sample: QueuedSample) -> [String: String] {
        Dictionary(uniqueKeysWithValues: sample.series.labels.map { ($0.name, $0.value) })
    }

    @Test func addsNameAndExternalLabelsWithTheSeriesOwnLabelWinning() {
        let registry = MetricsRegistry()
        registry.counterFamily(name: "c_total", help: "c", labelNames: ["instance", "empty"]).series("own", "")
            .increment()
        let sampler = SnapshotSampler(externalLabels: ["instance": "router-7", "cluster": "edge"])
        let samples = sampler.samples(from: registry.snapshot()).filter { labels($0)["__name__"] == "c_total" }
        #expect(samples.count == 1)
        #expect(samples.first.map(labels) == ["__name__": "c_total", "instance": "own", "cluster": "edge"])
        #expect(
            samples.first?.series.labels.map(\.name) == ["__name__", "cluster", "instance"], "sorted, empty dropped")
    }

    @Test func histogramsBecomeBucketSumAndCount() {
        let registry = MetricsRegistry()
        let histogram = registry.histogramFamily(name: "lat_ms", help: "l", labelNames: ["p"], buckets: [1, 10]).series(
            "x")
        histogram.observe(5)
        histogram.observe(50)
        let samples = SnapshotSampler(externalLabels: [:]).samples(from: registry.snapshot())
            .filter { labels($0)["__name__"]?.hasPrefix("lat_ms") == true }
        let byName = samples.map { (labels($0)["__name__"]!, labels($0)["le"], $0.sample.value) }
        #expect(byName.map(\.0) == ["lat_ms_bucket", "lat_ms_bucket", "lat_ms_bucket", "lat_ms_sum", "lat_ms_count"])
        #expect(byName.map(\.1) == ["1", "10", "+Inf", nil, nil])
        #expect(byName.map(\.2) == [0, 1, 2, 55, 2])
    }

    @Test func vanishedSeriesGetExactlyOneStaleMarkerAndTimestampsIncrease() {
        let registry = MetricsRegistry()
        let family = registry.gaugeFamily(name: "g", help: "g", labelNames: ["k"])
        family.series("a").set(1)
        family.series("b").set(2)
        let sampler = SnapshotSampler(externalLabels: [:])
        let first = sampler.samples(from: registry.snapshot())
        family.remove(["b"])
        let snapshot = registry.snapshot()
        let second = sampler.samples(from: snapshot)
        let stale = second.filter(\.sample.isStaleMarker)
        #expect(stale.count == 1)
        #expect(stale.first.map(labels)?["k"] == "b")
        #expect(stale.first?.sample.value.bitPattern == 0x7ff0_0000_0000_0002)
        #expect(second.first!.sample.timestampMilliseconds > first.first!.sample.timestampMilliseconds)
        // Same wall-clock snapshot again: still strictly increasing.
        let third = sampler.samples(from: snapshot)
        #expect(third.first!.sample.timestampMilliseconds > second.first!.sample.timestampMilliseconds)
        #expect(third.filter(\.sample.isStaleMarker).isEmpty)
        let final = sampler.staleMarkersForAll(at: 0)
        #expect(final.count == third.count)
        #expect(final.allSatisfy { $0.sample.isStaleMarker })
    }

    @Test func sameSeriesSharesOneLabelSetAcrossSnapshots() {
        let registry = MetricsRegistry()
        registry.gaugeFamily(name: "g", help: "g").series().set(1)
        let sampler = SnapshotSampler(externalLabels: [:])
        let first = sampler.samples(from: registry.snapshot()).first { labels($0)["__name__"] == "g" }
        let second = sampler.samples(from: registry.snapshot()).first { labels($0)["__name__"] == "g" }
        #expect(first?.series === second?.series)
        let grouped = RemoteWriteTarget.group([first!, second!])
        #expect(grouped.count == 1)
        #expect(grouped.first?.samples.count == 2)
    }
}
